"""`etl --env` against a deployed account, the local runtime standing in for it.

The runtime deploys from the local plan; the installed `etl` command then reaches it as it
reaches AWS: its names from `terraform output -json` (the plan's outputs, what an apply
prints), credentials from an AWS profile, the endpoint from boto3's own AWS_ENDPOINT_URL
(the one test-only setting). One daily run is started and followed there, then listed by
`etl runs` with its cost, and queried through the workgroup; the success notification
carries the same cost, measured by the run-cost step from what the services reported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from etl_lambdas.catalog import load_catalog
from etl_local.plan import LOCAL_PLAN
from etl_local.runtime import LocalRuntime
from tests.e2e.sample import FIRST_DAY, dataset

pytestmark = pytest.mark.e2e

ETL = str(Path(sys.executable).parent / "etl")
# Two days of the e2e sample are enough: the run is the Glue job's, the crawls' and the
# models' work as a daily run does it.
DAY = (FIRST_DAY + timedelta(days=1)).isoformat()


@pytest.fixture(scope="module")
def account(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The stand-in account, deployed, with a profile and the environment's outputs."""
    home = tmp_path_factory.mktemp("account")
    with LocalRuntime(home=home / "lake") as runtime:
        runtime.put_raw_objects(dataset(FIRST_DAY, FIRST_DAY + timedelta(days=1)))
        runtime.deploy_orchestration()
        outputs = home / "local.outputs.json"
        plan = json.loads(LOCAL_PLAN.read_text(encoding="utf-8"))
        outputs.write_text(json.dumps(plan["planned_values"]["outputs"]), encoding="utf-8")
        (home / "config").write_text("[profile ops]\nregion = us-west-2\n")
        (home / "credentials").write_text(
            "[ops]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
        )
        environment = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith("AWS_") and name != "ETL_HOME"
        }
        environment.update(
            AWS_CONFIG_FILE=str(home / "config"),
            AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
            AWS_ENDPOINT_URL=runtime.endpoint_url,
            ETL_HOME=str(home / "operator"),
        )
        yield {"runtime": runtime, "outputs": outputs, "environment": environment, "home": home}


def _etl(account: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    command = [ETL, "--env", "local", "--outputs", str(account["outputs"]), "--profile", "ops"]
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        env=account["environment"],
        timeout=1200,
        check=False,
    )


@pytest.fixture(scope="module")
def daily_run(account: dict[str, Any]) -> dict[str, Any]:
    """One day run through `etl --env local run`, followed to its end."""
    runtime: LocalRuntime = account["runtime"]
    runtime._drain_notifications()
    completed = _etl(account, "run", "--date", DAY)
    return {"completed": completed, "notifications": runtime._drain_notifications()}


def test_run_starts_the_deployed_machine_and_follows_it_in_the_same_view(
    daily_run: dict[str, Any], account: dict[str, Any]
) -> None:
    completed = daily_run["completed"]
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    out = completed.stdout
    # the execution of the deployed machine, named after what was asked, with its console link
    assert f'Execution {{"date": "{DAY}"}} on local' in out
    assert f":execution:lakepipe-local-pipeline:etl-{DAY}-" in out
    assert "console.aws.amazon.com/states/home?region=eu-west-1" in out
    # the local runs' view: stages, the models' iterations, the progress, the models table
    for line in ("SUCCEEDED  Begin", "SUCCEEDED  ConvertRaw", "SUCCEEDED  MeasureCost"):
        assert line in out
    assert "Tiers \u203a dwd \u203a traffic_events" in out and "rows written" in out
    assert "Cost: $" in out and "at eu-west-1 list prices" in out
    # its transition log is kept per environment
    logs = account["home"] / "operator" / "envs" / "local" / "logs" / "executions"
    assert [path.name.startswith(f"etl-{DAY}-") for path in logs.iterdir()] == [True]


def test_runs_lists_the_run_with_its_days_restated_days_and_cost(
    daily_run: dict[str, Any], account: dict[str, Any]
) -> None:
    listed = _etl(account, "runs", "--json")
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    assert row["status"] == "SUCCEEDED" and row["days"] == DAY
    assert row["name"].startswith(f"etl-{DAY}-") and row["seconds"] > 0
    # the earlier days the run restated, as its own output says
    sfn = account["runtime"].client("stepfunctions")
    output = json.loads(sfn.describe_execution(executionArn=row["execution_arn"])["output"])
    restated = output["restate"]["Payload"]["restated"]
    assert row["restated"] == [day["date"] for day in restated]
    assert row["malformed_lines"] is None or row["malformed_lines"] >= 0
    cost = row["cost"]
    services = cost["services"]
    # what the services reported: the queries' bytes, the job's workers, every transition
    assert services["athena"]["queries"] > 7 and services["athena"]["scanned_bytes"] > 0
    (job_run,) = services["glue_job"]["runs"]
    assert (job_run["worker_type"], job_run["workers"], job_run["execution_class"]) == (
        "G.1X",
        2,
        "STANDARD",
    )
    # the run's execution and one per model
    assert services["step_functions"]["executions"] == 1 + len(load_catalog().models)
    assert services["lambda"]["invocations"] > 20
    assert row["cost_usd"] == cost["total_usd"] > 0
    assert row["cost_note"] is None  # the run's own measurement, not one made afterwards
    table = _etl(account, "runs")
    assert table.returncode == 0 and "SUCCEEDED" in table.stdout and DAY in table.stdout


def test_the_success_notification_carries_the_same_cost(daily_run: dict[str, Any]) -> None:
    (message,) = [n for n in daily_run["notifications"] if "SUCCEEDED" in n["subject"]]
    body = message["message"]
    document = json.loads(body[body.index("\n{") :])
    assert f"Cost: ${document['cost']['total_usd']:.4f} at eu-west-1 list prices" in body
    assert "- glue_job: $" in body and "Not included: S3" in body


def test_query_runs_in_the_deployments_workgroup_with_tier_aliases(
    daily_run: dict[str, Any], account: dict[str, Any]
) -> None:
    queried = _etl(
        account,
        "query",
        "SELECT count(*) AS n FROM dwd.traffic_events WHERE year = '2025'",
        "--format",
        "json",
    )
    assert queried.returncode == 0, queried.stderr
    assert json.loads(queried.stdout)[0]["n"] > 0
    assert "scanned" in queried.stderr and "at eu-west-1 list prices" in queried.stderr
    failed = _etl(account, "query", "SELECT nope FROM dwd.traffic_events")
    assert failed.returncode == 1 and len(failed.stderr.splitlines()) == 1
    assert "Traceback" not in failed.stderr


def test_without_credentials_the_command_says_so_in_one_line(account: dict[str, Any]) -> None:
    environment = {**account["environment"], "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    completed = subprocess.run(
        [ETL, "--env", "local", "--outputs", str(account["outputs"]), "--profile", "nobody",
         "runs"],
        capture_output=True, text=True, env=environment, timeout=120, check=False,
    )  # fmt: skip
    assert completed.returncode == 1
    assert completed.stderr.startswith("etl --env local runs: ")
    assert "nobody" in completed.stderr and len(completed.stderr.splitlines()) == 1
