"""`etl --env`: where a deployed environment's names come from (etl_local.deployed), and the
execution output read for `etl runs` (etl_local.remote)."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from etl_local import console as render
from etl_local import deployed, remote
from etl_local.deployed import DeploymentError

ARN = "arn:aws:states:eu-central-1:210987654321:stateMachine:lakepipe-prod-pipeline"


def _outputs(prefix: str = "lakepipe-prod", **extra: Any) -> dict[str, Any]:
    """`terraform output -json` as Terraform prints it: name -> {sensitive, type, value}."""
    values = {
        "name_prefix": prefix,
        "state_machine_arn": ARN,
        "model_state_machine_arn": ARN.replace("pipeline", "model"),
        "athena_workgroup_name": prefix,
        "glue_database_names": {"dwd": "lakepipe_prod_dwd", "ads": "lakepipe_prod_ads"},
        "pipeline_time_zone": "Europe/Brussels",
        "max_backfill_days": 31,
        **extra,
    }
    return {
        name: {"sensitive": False, "type": _type(value), "value": value}
        for name, value in values.items()
    }


def _type(value: Any) -> Any:
    """The value's type as Terraform writes it in JSON."""
    if isinstance(value, dict):
        return ["object", {key: _type(item) for key, item in value.items()}]
    return "number" if isinstance(value, int) else "string"


def _write(path: Path, document: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_the_outputs_file_given_names_the_environment(tmp_path: Path) -> None:
    path = _write(tmp_path / "prod.json", _outputs())

    deployment = deployed.load("prod", outputs_path=path, root=tmp_path, profile="ops")

    assert deployment.state_machine_arn == ARN
    assert deployment.region == "eu-central-1"  # from the ARN: no region to configure
    assert deployment.workgroup == "lakepipe-prod"
    assert deployment.database("ads") == "lakepipe_prod_ads"
    assert (deployment.time_zone, deployment.max_backfill_days) == ("Europe/Brussels", 31)
    assert deployment.profile == "ops" and deployment.source == str(path)


def test_the_environments_saved_outputs_are_found_beside_its_tfvars(tmp_path: Path) -> None:
    _write(tmp_path / "envs" / "prod.outputs.json", _outputs())

    deployment = deployed.load("prod", root=tmp_path)

    assert deployment.source == str(tmp_path / "envs" / "prod.outputs.json")


def test_outputs_of_another_environment_are_refused(tmp_path: Path) -> None:
    _write(tmp_path / "envs" / "prod.outputs.json", _outputs(prefix="lakepipe-dev"))

    with pytest.raises(DeploymentError) as refused:
        deployed.load("prod", root=tmp_path)

    assert "are the outputs of lakepipe-dev, not of env 'prod'" in str(refused.value)
    assert "terraform init -reconfigure -backend-config=envs/prod.backend.hcl" in str(refused.value)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("not json", "not JSON"),
        ({"name_prefix": "lakepipe-prod"}, "expected {name: {value, type}}"),
        ({"name_prefix": {"value": "lakepipe-prod"}}, "lacks output(s) state_machine_arn"),
    ],
)
def test_what_is_not_terraform_output_says_so(tmp_path: Path, document: Any, message: str) -> None:
    path = tmp_path / "outputs.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))

    with pytest.raises(DeploymentError, match=message.replace("(", r"\(").replace(")", r"\)")):
        deployed.load("prod", outputs_path=path)


def test_without_a_file_terraform_output_is_read_at_the_root_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a root whose (local) state holds the environment's outputs, and no terraform on PATH
    state = {
        "version": 4,
        "terraform_version": "1.15.5",
        "serial": 1,
        "lineage": "00000000-0000-0000-0000-000000000001",
        "outputs": {n: {"value": o["value"], "type": o["type"]} for n, o in _outputs().items()},
        "resources": [],
    }
    _write(tmp_path / "terraform.tfstate", state)
    monkeypatch.setenv("PATH", str(tmp_path / "no-binaries"))
    # when the environment is loaded, then the project's own Terraform read the outputs
    deployment = deployed.load("prod", root=tmp_path)
    assert deployment.state_machine_arn == ARN
    assert deployment.source == f"`terraform output -json` in {tmp_path}"


def test_the_terraform_on_path_is_preferred_with_the_profile_passed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a terraform on PATH (a stand-in that records its directory and AWS_PROFILE)
    binaries = tmp_path / "bin"
    binaries.mkdir()
    record = tmp_path / "called.txt"
    script = binaries / "terraform"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$PWD $AWS_PROFILE $*" > {record}\n'
        f"cat {_write(tmp_path / 'out.json', _outputs())}\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{binaries}{os.pathsep}{os.environ['PATH']}")
    root = tmp_path / "checkout"
    root.mkdir()

    deployed.load("prod", root=root, profile="ops")

    assert record.read_text().split() == [str(root), "ops", "output", "-json", "-no-color"]


def test_a_failing_terraform_output_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    binaries = tmp_path / "bin"
    binaries.mkdir()
    script = binaries / "terraform"
    script.write_text(
        "#!/bin/sh\necho '╷' >&2\necho '│ Error: Backend initialization required' >&2\nexit 1\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(binaries))

    with pytest.raises(DeploymentError) as failed:
        deployed.load("prod", root=tmp_path)

    assert str(failed.value) == (
        f"terraform output in {tmp_path} failed: Error: Backend initialization required"
    )


def test_execution_names_say_what_was_asked_and_are_valid_step_functions_names() -> None:
    day = remote.execution_name({"date": "2026-11-19"})
    window = remote.execution_name(
        {"start_date": "2026-11-01", "end_date": "2026-11-30", "models": ["a"]}
    )

    assert day.startswith("etl-2026-11-19-") and len(day) <= 80
    assert window.startswith("etl-2026-11-01_2026-11-30-models-")
    assert not set(day + window) & set(' <>{}[]?*"#%\\^|~`$&,;:/')
    assert remote.execution_name({"date": "2026-11-19"}) != day


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (None, None),
        ({"restate": {"Payload": {"restated": []}}}, None),
        ({"register": {"Payload": {"malformed_lines": 7}}}, 7),
        ({"register": {"Payload": {"malformed_lines": {"traffic": 3, "app_activity": 2}}}}, 5),
        # the Register step's intake: one row per source, with its files' detail deeper
        (
            {
                "register": {
                    "Payload": {
                        "intake": [
                            {
                                "source": "traffic",
                                "malformed_lines": 3,
                                "malformed_files": [{"file": "a.gz", "malformed_lines": 3}],
                            },
                            {"source": "app_activity", "malformed_lines": 2},
                        ]
                    }
                }
            },
            5,
        ),
        # the run's total is read before any per-item count deeper in the output
        ({"malformed_lines": 4, "results": [{"malformed_lines": 1}]}, 4),
    ],
)
def test_malformed_lines_are_read_wherever_the_run_reports_them(output: Any, expected: Any) -> None:
    assert remote.malformed_lines(output) == expected


class _StepFunctions:
    """ListExecutions and DescribeExecution as Step Functions answers them."""

    def __init__(self, executions: list[dict[str, Any]]) -> None:
        self.executions = executions

    def list_executions(self, stateMachineArn: str, maxResults: int, **filters: Any) -> Any:
        assert stateMachineArn == ARN
        found = [e for e in self.executions if filters.get("statusFilter") in (None, e["status"])]
        return {"executions": [{"executionArn": e["executionArn"]} for e in found][:maxResults]}

    def describe_execution(self, executionArn: str) -> dict[str, Any]:
        return next(e for e in self.executions if e["executionArn"] == executionArn)


def _execution(name: str, status: str, request: Any, output: Any = None) -> dict[str, Any]:
    started = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
    described = {
        "executionArn": f"{ARN.replace('stateMachine', 'execution')}:{name}",
        "name": name,
        "status": status,
        "startDate": started,
        "input": json.dumps(request),
    }
    if status != "RUNNING":
        described["stopDate"] = started + timedelta(minutes=4, seconds=12)
    if output is not None:
        described["output"] = json.dumps(output)
    return described


def test_runs_reads_each_executions_days_restated_days_and_cost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a scheduled run that succeeded and measured its cost, a failed backfill of some
    # models, and a run still going
    cost = {"total_usd": 0.0213, "services": {}}
    succeeded = _execution(
        "scheduled",
        "SUCCEEDED",
        {"time": "2026-11-21T03:00:00Z"},
        {
            "run": {"Payload": {"start_date": "2026-11-20", "end_date": "2026-11-20"}},
            "restate": {"Payload": {"restated": [{"date": "2026-11-18", "events": {"t": 4}}]}},
            "cost": {"Payload": cost},
        },
    )
    failed = _execution(
        "backfill", "FAILED", {"start_date": "2026-10-01", "end_date": "2026-10-31",
                               "models": ["a", "b"]}
    )  # fmt: skip
    running = _execution("rerun", "RUNNING", {"time": "2026-11-22T02:00:00Z"})
    sfn = _StepFunctions([running, failed, succeeded])
    deployment = deployed.load("prod", outputs_path=_write(tmp_path / "o.json", _outputs()))
    deployment._clients["stepfunctions"] = sfn  # the client the deployment would make
    measured: list[str] = []

    def measure(clients: Any, execution_arn: str) -> dict[str, Any]:
        measured.append(execution_arn)
        return {"total_usd": 0.0042, "services": {}}

    monkeypatch.setattr(remote.run_cost, "measure", measure)
    # when they are listed twice
    rows = remote.recent_runs(deployment, limit=10, cost_cache=tmp_path / "costs")
    again = remote.recent_runs(deployment, limit=10, cost_cache=tmp_path / "costs")
    # then each says what it covered, how it went and what it cost
    by_name = {row.name: row for row in rows}
    assert by_name["scheduled"].days == "2026-11-20"
    assert by_name["scheduled"].restated == ["2026-11-18"]
    assert (by_name["scheduled"].cost_usd, by_name["scheduled"].cost_note) == (0.0213, "")
    assert by_name["backfill"].days == "2026-10-01..2026-10-31 (a, b)"
    assert by_name["backfill"].seconds == 252 and by_name["backfill"].restated == []
    # the failed run's cost measured from AWS's reports, once: an ended history is final
    assert by_name["backfill"].cost_usd == 0.0042
    assert by_name["backfill"].cost_note == "measured by etl runs"
    assert measured == [failed["executionArn"]] and again[1].cost_usd == 0.0042
    # a scheduled run still going: the day before its time, in the pipeline's time zone
    assert by_name["rerun"].days == "2026-11-21" and by_name["rerun"].cost_note == "running"
    table = render.runs_table(rows)
    assert [column.header for column in table.columns][:4] == [
        "started (UTC)", "days", "status", "duration"
    ]  # fmt: skip
    assert remote.recent_runs(deployment, limit=1, status="FAILED")[0].name == "backfill"
