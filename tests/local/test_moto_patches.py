"""Each moto patch is still needed (unpatched moto lacks the behaviour) and is undone cleanly.

When one of these fails after a moto upgrade, moto fixed the gap: drop that patch.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.athena.responses import AthenaResponse
from moto.core.config import default_user_config
from moto.glue.models import FakeCrawler, GlueBackend
from moto.glue.responses import GlueResponse

from etl_local import moto_patches
from etl_local.athena import AthenaEngine
from etl_local.crawler import LocalCrawler
from etl_local.object_store import ObjectStore
from etl_local.server import LocalAwsServer

REGION = "eu-west-1"


def test_moto_glue_task_service_still_lacks_wait_for_task_token() -> None:
    assert moto_patches.glue_sync_needs_fix()
    with moto_patches.install():
        assert not moto_patches.glue_sync_needs_fix()
    assert moto_patches.glue_sync_needs_fix()


def test_moto_still_routes_athena_only_at_its_json_rpc_path() -> None:
    assert moto_patches.athena_rest_needs_routes()
    paths = moto_patches.athena_rest_paths()
    assert "{0}/query-executions/(?P<QueryExecutionId>[^/]+)$" in paths
    assert "{0}/tags/(?P<ResourceARN>.+)$" in paths


def test_athena_answers_at_its_rest_paths_with_typed_parameters() -> None:
    """botocore sends Athena REST-JSON; moto answers it with the routes installed (the session
    installs them for every test: tests/conftest.py)."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        athena = boto3.client("athena", region_name="eu-west-1")
        athena.create_work_group(Name="wg")
        assert "wg" in [w["Name"] for w in athena.list_work_groups()["WorkGroups"]]
        assert athena.get_work_group(WorkGroup="wg")["WorkGroup"]["Name"] == "wg"
        query = athena.start_query_execution(QueryString="SELECT 1", WorkGroup="wg")
        listed = athena.list_query_executions(WorkGroup="wg", MaxResults=5)
        assert listed["QueryExecutionIds"] == [query["QueryExecutionId"]]


def test_moto_athena_still_returns_canned_results_and_lacks_batch_get() -> None:
    assert not hasattr(AthenaResponse, "batch_get_query_execution")
    with mock_aws():
        athena = boto3.client("athena", region_name=REGION)
        query_id = athena.start_query_execution(
            QueryString="SELECT 1 AS one",
            ResultConfiguration={"OutputLocation": "s3://results-bucket/"},
        )["QueryExecutionId"]
        rows = athena.get_query_results(QueryExecutionId=query_id)["ResultSet"]["Rows"]
        assert rows == []  # moto does not execute SQL


def test_moto_crawl_still_reports_completed_not_glue_statuses() -> None:
    with mock_aws():
        glue = boto3.client("glue", region_name=REGION)
        glue.create_database(DatabaseInput={"Name": "db"})
        glue.create_crawler(
            Name="c", Role="r", DatabaseName="db", Targets={"S3Targets": [{"Path": "s3://b/x/"}]}
        )
        glue.start_crawler(Name="c")
        for _ in range(3):
            crawler = glue.get_crawler(Name="c")["Crawler"]
        assert crawler["LastCrawl"]["Status"] not in ("SUCCEEDED", "FAILED", "CANCELLED")
    assert not hasattr(GlueResponse, "get_crawler_metrics")


def test_install_and_uninstall_restore_moto(tmp_path: Path) -> None:
    originals = (
        AthenaResponse.start_query_execution,
        GlueBackend.start_crawler,
        GlueBackend.stop_crawler,
        FakeCrawler.as_dict,
    )
    objects = ObjectStore(tmp_path)
    engine = AthenaEngine(objects, region=REGION)
    try:
        with moto_patches.install(engine=engine, crawler=LocalCrawler(objects)):
            assert AthenaResponse.start_query_execution is not originals[0]
            assert hasattr(AthenaResponse, "batch_get_query_execution")
            assert hasattr(GlueResponse, "get_crawler_metrics")
    finally:
        engine.close()
        objects.close()
    assert (
        AthenaResponse.start_query_execution,
        GlueBackend.start_crawler,
        GlueBackend.stop_crawler,
        FakeCrawler.as_dict,
    ) == originals
    assert not hasattr(AthenaResponse, "batch_get_query_execution")


def test_moto_sfn_integration_still_passes_the_asl_names_to_boto3() -> None:
    assert moto_patches.sfn_integration_needs_fix()
    assert moto_patches.unnamed_execution_needs_fix()
    with moto_patches.install():
        assert not moto_patches.sfn_integration_needs_fix()
    assert moto_patches.sfn_integration_needs_fix()


def test_child_executions_run_and_return_their_output(executing_server: str) -> None:
    """states:startExecution.sync:2 from a Map: two children, each with a generated name,
    their outputs back as JSON under "Output", as Step Functions returns them."""
    sfn = boto3.client("stepfunctions", endpoint_url=executing_server, region_name=REGION)
    role = "arn:aws:iam::123456789012:role/r"
    child = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Parameters": {"got.$": "$.m"}, "End": True}},
    }
    child_arn = sfn.create_state_machine(name="child", definition=json.dumps(child), roleArn=role)[
        "stateMachineArn"
    ]
    run = {
        "Type": "Task",
        "Resource": "arn:aws:states:::states:startExecution.sync:2",
        "Parameters": {"StateMachineArn": child_arn, "Input": {"m.$": "$.m"}},
        "OutputPath": "$.Output",
        "End": True,
    }
    parent = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "R",
                    "States": {"R": run},
                },
                "End": True,
            }
        },
    }
    parent_arn = sfn.create_state_machine(
        name="parent", definition=json.dumps(parent), roleArn=role
    )["stateMachineArn"]
    with moto_patches.install():
        execution = sfn.start_execution(
            stateMachineArn=parent_arn,
            name="p1",
            input=json.dumps({"items": [{"m": "a"}, {"m": "b"}]}),
        )["executionArn"]
        for _ in range(200):
            described = sfn.describe_execution(executionArn=execution)
            if described["status"] != "RUNNING":
                break
            time.sleep(0.05)
    assert described["status"] == "SUCCEEDED", described.get("cause")
    assert json.loads(described["output"]) == [{"got": "a"}, {"got": "b"}]
    children = sfn.list_executions(stateMachineArn=child_arn)["executions"]
    assert len({c["name"] for c in children}) == 2 and "None" not in {c["name"] for c in children}


def test_the_step_functions_executor_starts_without_moto_ec2() -> None:
    # moto.batch still imports its models (hence EC2's) from the package: the patch is needed.
    assert moto_patches.batch_utils_import_loads_ec2()
    script = (
        "import sys; from etl_local import moto_patches; moto_patches.install();"
        "from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser;"
        "assert 'moto.ec2.models' not in sys.modules, 'EC2 models imported';"
        "import moto.batch; from moto.batch.utils import JobStatus;"
        "from moto.batch.models import JobStatus as used; assert used is JobStatus;"
        "assert moto.batch.batch_backends is not None"
    )
    subprocess.run([sys.executable, "-c", script], check=True, capture_output=True)


# -- Step Functions' limits (etl_local.sfn_limits) ---------------------------------------------

ROLE = "arn:aws:iam::123456789012:role/r"


def _execute(endpoint: str, name: str, definition: dict[str, Any], data: Any) -> dict[str, Any]:
    """Run a state machine to its end; its DescribeExecution."""
    sfn = boto3.client("stepfunctions", endpoint_url=endpoint, region_name=REGION)
    # moto's backends outlive a server: each machine gets a name of its own.
    name = f"{name}-{uuid.uuid4().hex[:8]}"
    arn = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)[
        "stateMachineArn"
    ]
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(data))["executionArn"]
    for _ in range(6000):
        described = sfn.describe_execution(executionArn=execution)
        if described["status"] != "RUNNING":
            return dict(described)
        time.sleep(0.05)
    raise AssertionError(f"{name} still running")


def _history(endpoint: str, execution_arn: str) -> list[dict[str, Any]]:
    sfn = boto3.client("stepfunctions", endpoint_url=endpoint, region_name=REGION)
    pages = sfn.get_paginator("get_execution_history").paginate(
        executionArn=execution_arn, PaginationConfig={"PageSize": 1000}
    )
    return [event for page in pages for event in page["events"]]


def _pass_of(size: int) -> dict[str, Any]:
    """A Pass state whose output is exactly `size` bytes of JSON: {"a":"xx...x"}."""
    return {"Type": "Pass", "Result": {"a": "x" * (size - len('{"a":""}'))}, "End": True}


@pytest.mark.parametrize(("size", "status"), [(262_144, "SUCCEEDED"), (262_145, "FAILED")])
def test_a_state_output_may_be_256_kib_and_not_one_byte_more(
    executing_server: str, size: int, status: str
) -> None:
    with moto_patches.install():
        described = _execute(
            executing_server, "b", {"StartAt": "P", "States": {"P": _pass_of(size)}}, {}
        )
    assert described["status"] == status, described.get("cause")
    if status == "FAILED":
        assert described["error"] == "States.DataLimitExceeded"


def test_unpatched_moto_rejects_an_output_of_exactly_256_kib(executing_server: str) -> None:
    described = _execute(
        executing_server, "b", {"StartAt": "P", "States": {"P": _pass_of(262_144)}}, {}
    )
    # moto measures the JSON with spaces (`{"a": ...}`) and rejects 256 KiB itself
    assert described["status"] == "FAILED"


def _parallel_catching(errors: list[str], branch_state: dict[str, Any]) -> dict[str, Any]:
    return {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [{"StartAt": "B", "States": {"B": branch_state}}],
                "Catch": [{"ErrorEquals": errors, "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "Result": {"caught": True}, "End": True},
        },
    }


@pytest.mark.parametrize(
    ("errors", "status"),
    [(["States.ALL"], "FAILED"), (["States.DataLimitExceeded"], "SUCCEEDED")],
)
def test_data_limit_exceeded_is_terminal_for_states_all(
    executing_server: str, errors: list[str], status: str
) -> None:
    with moto_patches.install():
        described = _execute(
            executing_server, "p", _parallel_catching(errors, _pass_of(300_000)), {}
        )
    assert described["status"] == status, described.get("cause")
    if status == "FAILED":
        assert described["error"] == "States.DataLimitExceeded"
    else:
        assert json.loads(described["output"]) == {"caught": True}


def test_unpatched_moto_cannot_pass_a_states_error_out_of_a_branch(executing_server: str) -> None:
    # Patched, the branch's States.DataLimitExceeded reaches the Catch that names it (above).
    definition = _parallel_catching(["States.DataLimitExceeded"], _pass_of(300_000))
    unpatched = _execute(executing_server, "u", definition, {})
    assert unpatched["status"] == "FAILED"
    assert "Custom Error Names MUST NOT begin with the prefix 'States.'" in unpatched["cause"]


@pytest.mark.parametrize(
    ("errors", "status"),
    [(["States.ALL"], "FAILED"), (["States.DataLimitExceeded"], "SUCCEEDED")],
)
def test_a_task_input_over_256_kib_after_parameters_fails_before_the_call(
    executing_server: str, errors: list[str], status: str
) -> None:
    sfn = boto3.client("stepfunctions", endpoint_url=executing_server, region_name=REGION)
    child = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    child_arn = sfn.create_state_machine(
        name=f"child-{uuid.uuid4().hex[:8]}", definition=json.dumps(child), roleArn=ROLE
    )["stateMachineArn"]
    start = {
        "Type": "Task",
        "Resource": "arn:aws:states:::states:startExecution",
        # Each half fits; together, after Parameters, the task's input does not.
        "Parameters": {"StateMachineArn": child_arn, "Input": {"a.$": "$.half", "b.$": "$.half"}},
        "Catch": [{"ErrorEquals": errors, "Next": "Caught"}],
        "End": True,
    }
    definition = {
        "StartAt": "Start",
        "States": {
            "Start": start,
            "Caught": {"Type": "Pass", "Result": {"caught": True}, "End": True},
        },
    }
    with moto_patches.install():
        described = _execute(executing_server, "s", definition, {"half": "y" * 140_000})
    assert described["status"] == status, described.get("cause")
    if status == "FAILED":
        assert described["error"] == "States.DataLimitExceeded"
    assert sfn.list_executions(stateMachineArn=child_arn)["executions"] == []


def test_an_execution_fails_at_its_25000th_history_event(executing_server: str) -> None:
    spin = {
        "StartAt": "Spin",
        "States": {
            "Spin": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.spin", "BooleanEquals": True, "Next": "Spin"}],
                "Default": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }
    with moto_patches.install():
        described = _execute(executing_server, "spin", spin, {"spin": True})
        # Paged, as the runtime reads it (moto 5.2.6 serializes an unpaged history of 25,000
        # events for over a minute on a loaded machine).
        events = _history(executing_server, described["executionArn"])
    assert described["status"] == "FAILED"
    assert described["error"] == "States.Runtime"
    assert described["cause"] == (
        "The execution reached the maximum number of history events (25000)."
    )
    assert len(events) == 25_000
    assert events[-1]["id"] == 25_000 and events[-1]["type"] == "ExecutionFailed"
    assert events[-2]["type"] == "ChoiceStateExited"


def test_the_local_server_leaves_moto_configured_as_it_found_it() -> None:
    # moto's configuration is process-global: a mock_aws() test running after the runtime in
    # the same process must not find its state machines executed.
    server = LocalAwsServer()
    server.start()
    try:
        assert default_user_config["stepfunctions"]["execute_state_machine"] is True
    finally:
        server.stop()
    assert default_user_config["stepfunctions"]["execute_state_machine"] is False


@pytest.mark.parametrize("patched", [True, False])
def test_a_connector_result_over_256_kib_is_not_caught_by_states_all(
    executing_server: str, patched: bool
) -> None:
    """startExecution.sync:2 returns the child's Input and Output: 140 KB each, each within
    the limit, together over it ("the output of a connector is larger than payload size
    quota"). Unpatched moto's States.ALL catches the error; AWS's does not."""
    sfn = boto3.client("stepfunctions", endpoint_url=executing_server, region_name=REGION)
    child = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    child_arn = sfn.create_state_machine(
        name=f"echo-{uuid.uuid4().hex[:8]}", definition=json.dumps(child), roleArn=ROLE
    )["stateMachineArn"]
    run = {
        "Type": "Task",
        "Resource": "arn:aws:states:::states:startExecution.sync:2",
        "Parameters": {"StateMachineArn": child_arn, "Input": {"x.$": "$.x"}},
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
        "End": True,
    }
    definition = {
        "StartAt": "Run",
        "States": {"Run": run, "Caught": {"Type": "Pass", "Result": {}, "End": True}},
    }
    data = {"x": "z" * 140_000}
    if patched:
        with moto_patches.install():
            described = _execute(executing_server, "c", definition, data)
        assert described["status"] == "FAILED", described.get("output", "")[:200]
        assert described["error"] == "States.DataLimitExceeded"
    else:
        with moto_patches.InstalledPatches() as patches:
            moto_patches._install_sfn_integration_names(patches)  # children need this one
            described = _execute(executing_server, "c", definition, data)
        assert described["status"] == "SUCCEEDED"  # caught by States.ALL


# -- GetExecutionHistory's pages ------------------------------------------------------------


def _events(count: int) -> list[dict[str, Any]]:
    return [{"id": n, "type": "PassStateEntered"} for n in range(1, count + 1)]


def test_moto_still_returns_the_whole_history_in_one_response() -> None:
    assert moto_patches.sfn_history_needs_paging()


def test_history_pages_of_100_by_default_oldest_first() -> None:
    page = moto_patches.history_page(
        _events(250), max_results=None, reverse_order=False, next_token=None
    )
    assert [e["id"] for e in page["events"]] == list(range(1, 101))
    rest = moto_patches.history_page(
        _events(250), max_results=1000, reverse_order=False, next_token=page["nextToken"]
    )
    assert [e["id"] for e in rest["events"]] == list(range(101, 251))
    assert "nextToken" not in rest


def test_a_reversed_page_token_is_not_shifted_by_events_appended_since() -> None:
    first = moto_patches.history_page(
        _events(10), max_results=3, reverse_order=True, next_token=None
    )
    assert [e["id"] for e in first["events"]] == [10, 9, 8]
    # The execution went on: two more events before the next page is asked for.
    second = moto_patches.history_page(
        _events(12), max_results=3, reverse_order=True, next_token=first["nextToken"]
    )
    assert [e["id"] for e in second["events"]] == [7, 6, 5]


@pytest.mark.parametrize("max_results", [1001, -1])
def test_a_page_over_1000_events_is_a_validation_error(max_results: int) -> None:
    from moto.stepfunctions.exceptions import ValidationException

    with pytest.raises(ValidationException, match="maxResults"):
        moto_patches.history_page(
            _events(5), max_results=max_results, reverse_order=False, next_token=None
        )


def test_an_unknown_history_token_is_invalid() -> None:
    from moto.stepfunctions.exceptions import InvalidToken

    with pytest.raises(InvalidToken):
        moto_patches.history_page(_events(5), max_results=2, reverse_order=False, next_token="x")


def test_the_executing_backend_pages_its_history(executing_server: str) -> None:
    """Through the API: newest first, one event per page, then the rest of the history."""
    sfn = boto3.client("stepfunctions", endpoint_url=executing_server, region_name=REGION)
    states: dict[str, Any] = {f"S{n}": {"Type": "Pass", "Next": f"S{n + 1}"} for n in range(4)}
    states["S4"] = {"Type": "Succeed"}
    described = _execute(executing_server, "paged", {"StartAt": "S0", "States": states}, {})
    execution = described["executionArn"]
    whole = _history(executing_server, execution)
    with moto_patches.install(step_functions=False):
        newest = sfn.get_execution_history(executionArn=execution, reverseOrder=True, maxResults=1)
        older = sfn.get_execution_history(
            executionArn=execution,
            reverseOrder=True,
            maxResults=1000,
            nextToken=newest["nextToken"],
        )
    assert [e["id"] for e in newest["events"]] == [len(whole)]
    assert newest["events"][0]["type"] == "ExecutionSucceeded"
    assert [e["id"] for e in older["events"]] == list(range(len(whole) - 1, 0, -1))
    assert [e["id"] for e in whole] == list(range(1, len(whole) + 1))
