"""The local runtime's own pieces: names and environments as Terraform's, the Lambda router
as the Lambda service answers, faults, and state that survives a restart."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from moto.athena.responses import AthenaResponse
from moto.glue.models import glue_backends

from etl_lambdas.catalog import DATABASE_TIERS
from etl_lambdas.steps import STEPS
from etl_local import cli
from etl_local.deploy import render_state_machine
from etl_local.faults import Fault, armed, parse_fault
from etl_local.lambda_router import InjectedServiceError, LambdaRouter
from etl_local.object_store import ObjectStore
from etl_local.plan import PlanMissing, PlannedFunction
from etl_local.runtime import LocalRuntime
from etl_local.settings import LocalSettings
from etl_local.state import LazyPartitions

REPOSITORY = Path(__file__).resolve().parents[2]
SETTINGS = LocalSettings()
PIPELINE_VARIABLES = set().union(*(spec.environment for spec in STEPS.values()))


def test_each_function_gets_exactly_the_variables_its_step_declares() -> None:
    for step, spec in STEPS.items():
        assert set(SETTINGS.function_environment(step)) == {
            *spec.environment,
            "POWERTOOLS_SERVICE_NAME",
        }, step


def test_the_plan_declares_one_function_per_step_with_its_handler() -> None:
    functions = SETTINGS.plan.functions

    assert set(functions) == set(STEPS)
    for step, function in functions.items():
        assert function.handler == STEPS[step].handler, step
        assert function.role_arn.endswith(f":role/lakepipe-local-{step}-lambda"), step


def test_the_state_machines_are_the_plans_rendered_definitions() -> None:
    for machine in ("pipeline", "model"):
        definition = json.loads(render_state_machine(SETTINGS, machine))
        assert definition["StartAt"] in definition["States"]
        # Every placeholder was filled by Terraform's templatefile.
        assert "${" not in json.dumps(definition)


def test_local_names_follow_the_contract() -> None:
    assert SETTINGS.glue_prefix == "lakepipe_local"
    assert SETTINGS.databases == tuple(f"lakepipe_local_{tier}" for tier in DATABASE_TIERS)
    assert SETTINGS.function_name("crawler-start") == "lakepipe-local-crawler-start"
    assert SETTINGS.raw_bucket == "lakepipe-local-raw-123456789012-eu-west-1"


# -- the Lambda router, without a server ------------------------------------------------------

HANDLERS = """
import os

READ_AT_IMPORT = {name: os.environ.get(name) for name in %r}


def environment(event, context):
    return {"import": READ_AT_IMPORT, "call": {n: os.environ.get(n) for n in READ_AT_IMPORT},
            "function": context.function_name, "event": event}


class TableMissing(Exception):
    pass


def broken(event, context):
    raise TableMissing("no table " + event["table"])


def sleepy(event, context):
    import time

    time.sleep(30)
"""


@pytest.fixture
def handlers(tmp_path: Path) -> Iterator[str]:
    module = "router_test_handlers"
    (tmp_path / f"{module}.py").write_text(HANDLERS % sorted(PIPELINE_VARIABLES), "utf-8")
    sys.path.insert(0, str(tmp_path))
    yield module
    sys.path.remove(str(tmp_path))
    sys.modules.pop(module, None)


def payload(response: dict[str, Any]) -> Any:
    return json.loads(response["Payload"].read())


def test_a_function_runs_with_exactly_its_environment_then_it_is_restored(handlers: str) -> None:
    steps = {"write": replace(STEPS["write"], handler=f"{handlers}.environment")}
    router = LambdaRouter(SETTINGS, "http://127.0.0.1:1", steps=steps)
    os.environ["KEEP_RUNS"] = "leaked-from-elsewhere"
    try:
        status, response = router.invoke("lakepipe-local-write", b'{"n": 1}')
    finally:
        del os.environ["KEEP_RUNS"]

    assert status == 200 and "FunctionError" not in response
    result = payload(response)
    expected = {
        name: value
        for name, value in SETTINGS.function_environment("write").items()
        if name in PIPELINE_VARIABLES
    }
    for moment in ("import", "call"):
        assert {k: v for k, v in result[moment].items() if v is not None} == expected
    assert result["function"] == "lakepipe-local-write"
    assert result["event"] == {"n": 1}
    assert "CURATED_BUCKET" not in os.environ
    assert router.results == [("write", result)]


def test_an_exception_is_an_unhandled_function_error_named_by_its_class(handlers: str) -> None:
    steps = {"audit-verdict": replace(STEPS["audit-verdict"], handler=f"{handlers}.broken")}
    router = LambdaRouter(SETTINGS, "http://127.0.0.1:1", steps=steps)

    status, response = router.invoke(SETTINGS.function_arn("audit-verdict"), b'{"table": "t"}')

    assert status == 200
    assert response["FunctionError"] == "Unhandled"
    error = payload(response)
    assert error["errorType"] == "TableMissing"
    assert error["errorMessage"] == "no table t"
    assert router.results == []


def test_a_service_error_hook_answers_like_the_lambda_service(handlers: str) -> None:
    steps = {"begin": replace(STEPS["begin"], handler=f"{handlers}.environment")}
    router = LambdaRouter(SETTINGS, "http://127.0.0.1:1", steps=steps)

    def fail(step: str) -> None:
        raise InjectedServiceError("ServiceException", f"down: {step}")

    router.before_invoke.append(fail)
    status, response = router.invoke("lakepipe-local-begin", b"{}")

    assert status == 500
    assert response["Error"] == {"Code": "ServiceException", "Message": "down: begin"}


# -- faults -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "fault"),
    [
        ("crawler-failed", Fault("crawler-failed")),
        ("crawler-cancelled", Fault("crawler-cancelled")),
        ("query-failed:sensor_hourly", Fault("query-failed", model="sensor_hourly")),
        ("athena-throttle:3", Fault("athena-throttle", count=3)),
        ("lambda-error:write:2", Fault("lambda-error", step="write", count=2)),
    ],
)
def test_fault_kinds_parse_and_print_back(spec: str, fault: Fault) -> None:
    assert parse_fault(spec) == fault
    assert str(fault) == spec


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ("crawler-exploded", "crawler-exploded"),
        ("query-failed:no_such_model", "no_such_model"),
        ("athena-throttle:0", "'0'"),
        ("athena-throttle:many", "'many'"),
        ("lambda-error:nope:1", "'nope'"),
        ("lambda-error:write", "lambda-error:<step>:<n>"),
        ("crawler-failed:now", "takes no argument"),
    ],
)
def test_a_bad_fault_is_one_error_naming_it(spec: str, named: str) -> None:
    with pytest.raises(ValueError, match=None) as raised:
        parse_fault(spec)
    assert named in str(raised.value)


def test_athena_throttling_answers_the_next_calls_then_lets_them_through(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(AthenaResponse, "call_action", lambda self: "answered")
    router = LambdaRouter(SETTINGS, "http://127.0.0.1:1", steps={})

    with armed([Fault("athena-throttle", count=2)], router):
        answers = [AthenaResponse.call_action(object()) for _ in range(3)]  # type: ignore[arg-type]

    assert [a if isinstance(a, str) else (a[0], json.loads(a[2])["__type"]) for a in answers] == [
        (400, "TooManyRequestsException"),
        (400, "TooManyRequestsException"),
        "answered",
    ]
    # disarmed: moto's dispatch is its own again
    assert AthenaResponse.call_action(object()) == "answered"  # type: ignore[arg-type]


# -- through the server: the ASL sees Lambda's error names; state survives a restart ---------


@dataclass(frozen=True)
class _OneSecondPublish(LocalSettings):
    def function(self, step: str) -> PlannedFunction:
        planned = super().function(step)
        return replace(planned, timeout=1) if step == "publish" else planned


def test_the_state_machine_retries_and_catches_on_lambdas_error_names(
    tmp_path: Path, handlers: str
) -> None:
    steps = {
        "begin": replace(STEPS["begin"], handler=f"{handlers}.environment"),
        "publish": replace(STEPS["publish"], handler=f"{handlers}.sleepy"),
        "audit-verdict": replace(STEPS["audit-verdict"], handler=f"{handlers}.broken"),
    }
    definition = {
        "StartAt": "Plan",
        "States": {
            "Plan": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": SETTINGS.function_arn("begin"), "Payload.$": "$"},
                "Retry": [
                    {
                        "ErrorEquals": ["Lambda.ServiceException"],
                        "IntervalSeconds": 1,
                        "MaxAttempts": 2,
                        "BackoffRate": 1,
                    }
                ],
                "ResultPath": "$.plan",
                "Next": "Slow",
            },
            "Slow": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": SETTINGS.function_arn("publish"), "Payload.$": "$"},
                "Catch": [
                    {"ErrorEquals": ["Sandbox.Timedout"], "ResultPath": "$.slow", "Next": "Audit"}
                ],
                "Next": "Audit",
            },
            "Audit": {
                "Type": "Task",
                "Resource": SETTINGS.function_arn("audit-verdict"),
                "Catch": [
                    {"ErrorEquals": ["TableMissing"], "ResultPath": "$.error", "Next": "Caught"}
                ],
                "End": True,
            },
            "Caught": {"Type": "Fail", "Error": "Caught", "CausePath": "$.error.Cause"},
        },
    }
    with LocalRuntime(home=tmp_path, persist=False) as runtime:
        runtime.router.uninstall()
        router = LambdaRouter(_OneSecondPublish(), runtime.endpoint_url, steps=steps)
        router.install()
        failures = iter([True])
        router.before_invoke.append(
            lambda step: (
                (_ for _ in ()).throw(InjectedServiceError("ServiceException", "x"))
                if step == "begin" and next(failures, False)
                else None
            )
        )
        sfn = runtime.client("stepfunctions")
        arn = sfn.create_state_machine(
            name="router-test",
            definition=json.dumps(definition),
            roleArn=SETTINGS.plan.state_machines["pipeline"].role_arn,
        )["stateMachineArn"]
        execution = sfn.start_execution(stateMachineArn=arn, name="one", input='{"table": "t"}')
        try:
            deadline = time.monotonic() + 60
            while (
                status := sfn.describe_execution(executionArn=execution["executionArn"])["status"]
            ) == "RUNNING":
                assert time.monotonic() < deadline
                time.sleep(0.1)
            history = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
        finally:
            router.uninstall()

    assert status == "FAILED"
    errors = [
        details["error"]
        for event in history
        for key, details in event.items()
        if key in ("taskFailedEventDetails", "lambdaFunctionFailedEventDetails")
    ]
    # a timeout is Lambda's Sandbox.Timedout, as the Step Functions of AWS name it
    assert errors == ["Lambda.ServiceException", "Sandbox.Timedout", "TableMissing"]
    assert router.invocations == ["begin", "begin", "publish", "audit-verdict"]


def test_the_lake_and_catalog_survive_a_restart_without_replay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = {
        "Name": "events",
        "StorageDescriptor": {
            "Columns": [{"Name": "id", "Type": "string"}],
            "Location": f"s3://{SETTINGS.curated_bucket}/dwd/events/",
        },
        "PartitionKeys": [{"Name": "day", "Type": "string"}],
        "TableType": "EXTERNAL_TABLE",
    }
    partition = {
        "Values": ["01"],
        "StorageDescriptor": {
            "Columns": [{"Name": "id", "Type": "string"}],
            "Location": f"s3://{SETTINGS.curated_bucket}/dwd/events/_runs/r1/day=01/",
        },
    }
    with LocalRuntime(home=tmp_path) as runtime:
        runtime.put_raw_objects([("raw/traffic/a.json.gz", b"a"), ("raw/traffic/dir/", b"")])
        glue = runtime.client("glue")
        glue.create_table(DatabaseName="lakepipe_local_dwd", TableInput=table)
        glue.create_partition(
            DatabaseName="lakepipe_local_dwd", TableName="events", PartitionInput=partition
        )
        etag = runtime.client("s3").head_object(
            Bucket=SETTINGS.raw_bucket, Key="raw/traffic/a.json.gz"
        )["ETag"]

    # Starting again reads no object body and writes none: count every body the store
    # reads or writes, and every Glue API call, while the runtime starts.
    touched: list[str] = []
    for name in ("read", "put_stream", "commit_staged"):
        original = getattr(ObjectStore, name)
        monkeypatch.setattr(
            ObjectStore,
            name,
            lambda self, *a, _n=name, _o=original, **k: (touched.append(_n), _o(self, *a, **k))[1],
        )
    monkeypatch.setattr(Path, "read_bytes", _counting(Path.read_bytes, touched, "read_bytes"))
    glue_calls = _count_api_calls(monkeypatch, "glue")
    runtime = LocalRuntime(home=tmp_path)
    runtime.start()
    try:
        assert touched == []
        # No Glue call: the databases and tables came from their files, and the partitions
        # are read when first used. (The counter counts: a call now is seen.)
        assert glue_calls == []
        runtime.client("glue").get_databases()
        assert glue_calls == ["GetDatabases"]
        fake = glue_backends[SETTINGS.account_id][SETTINGS.region].get_table(
            "lakepipe_local_dwd", "events"
        )
        assert isinstance(fake.partitions, LazyPartitions) and not fake.partitions.loaded
        monkeypatch.undo()
        s3 = runtime.client("s3")
        assert runtime.raw_object_count() == 2
        assert (
            s3.get_object(Bucket=SETTINGS.raw_bucket, Key="raw/traffic/a.json.gz")["Body"].read()
            == b"a"
        )
        assert (
            s3.head_object(Bucket=SETTINGS.raw_bucket, Key="raw/traffic/a.json.gz")["ETag"] == etag
        )
        glue = runtime.client("glue")
        restored = glue.get_partitions(DatabaseName="lakepipe_local_dwd", TableName="events")
        assert [p["Values"] for p in restored["Partitions"]] == [["01"]]
        assert restored["Partitions"][0]["StorageDescriptor"]["Location"].endswith("r1/day=01/")
    finally:
        runtime.stop()
    # The object is a file of the lake, at its key.
    assert (tmp_path / "s3" / SETTINGS.raw_bucket / "raw/traffic/a.json.gz").read_bytes() == b"a"


def _counting(function: Any, log: list[str], name: str) -> Any:
    def counted(*args: Any, **kwargs: Any) -> Any:
        log.append(name)
        return function(*args, **kwargs)

    return counted


def _count_api_calls(monkeypatch: pytest.MonkeyPatch, service: str) -> list[str]:
    """Actions of the `service` requests moto's server answers from now on."""
    from moto.core.responses import BaseResponse

    calls: list[str] = []
    original = BaseResponse.call_action

    def call_action(self: Any) -> Any:
        if self.service_name == service:
            calls.append(self._get_action())
        return original(self)

    monkeypatch.setattr(BaseResponse, "call_action", call_action)
    return calls


def test_a_changed_catalog_table_is_on_disk_when_the_call_returns(tmp_path: Path) -> None:
    with LocalRuntime(home=tmp_path) as runtime:
        glue = runtime.client("glue")
        glue.create_table(
            DatabaseName="lakepipe_local_ads",
            TableInput={"Name": "t", "StorageDescriptor": {"Columns": []}},
        )
        saved = tmp_path / "glue" / "lakepipe_local_ads" / "t.json"
        partitions = saved.with_name("t.partitions.json")
        assert json.loads(saved.read_text())["table"]["Name"] == "t"
        glue.create_partition(
            DatabaseName="lakepipe_local_ads",
            TableName="t",
            PartitionInput={"Values": ["1"], "StorageDescriptor": {"Location": "s3://b/t/1/"}},
        )
        assert [p["Values"] for p in json.loads(partitions.read_text())] == [["1"]]
        glue.delete_table(DatabaseName="lakepipe_local_ads", Name="t")
        assert not saved.exists() and not partitions.exists()


def test_the_previous_snapshot_layout_is_converted_in_place(tmp_path: Path) -> None:
    # What earlier versions saved: every object copied under a quoted path, a manifest,
    # and one JSON document per Glue database.
    objects = tmp_path / "s3" / SETTINGS.raw_bucket
    (objects / "raw/traffic").mkdir(parents=True)
    (objects / "raw/traffic/a%20b.json").write_bytes(b"body")
    (objects / "raw/traffic/dir%2F").write_bytes(b"")
    manifest = {
        SETTINGS.raw_bucket: {
            "raw/traffic/a b.json": {"size": 4, "etag": '"x"'},
            "raw/traffic/dir/": {"size": 0, "etag": '"y"'},
        }
    }
    (tmp_path / "s3" / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "glue").mkdir()
    (tmp_path / "glue" / "lakepipe_local_dwd.json").write_text(
        json.dumps(
            {
                "database": "lakepipe_local_dwd",
                "tables": [{"table": {"Name": "old", "StorageDescriptor": {}}, "partitions": []}],
            }
        )
    )
    with LocalRuntime(home=tmp_path) as runtime:
        s3 = runtime.client("s3")
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=SETTINGS.raw_bucket)["Contents"]]
        assert keys == ["raw/traffic/a b.json", "raw/traffic/dir/"]
        body = s3.get_object(Bucket=SETTINGS.raw_bucket, Key="raw/traffic/a b.json")["Body"]
        assert body.read() == b"body"
        tables = runtime.client("glue").get_tables(DatabaseName="lakepipe_local_dwd")
        assert [t["Name"] for t in tables["TableList"]] == ["old"]
    assert not (tmp_path / "s3" / "manifest.json").exists()
    assert not (tmp_path / "glue" / "lakepipe_local_dwd.json").exists()


def test_without_the_local_plan_the_runtime_says_how_to_make_it(tmp_path: Path) -> None:
    settings = LocalSettings(plan_path=tmp_path / "plan-local.json")

    with pytest.raises(PlanMissing, match=r"make build/plan-local\.json"):
        LocalRuntime(home=tmp_path, settings=settings, persist=False).start()


def test_etl_reports_a_missing_plan_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def factory(**kwargs: Any) -> LocalRuntime:
        settings = LocalSettings(plan_path=tmp_path / "plan-local.json")
        return LocalRuntime(settings=settings, **kwargs)

    assert cli.main(["query", "SELECT 1"], runtime_factory=factory) == 2
    assert "no plan of the local environment" in capsys.readouterr().err
