"""Begin: the run lease (DynamoDB on moto), one run at a time, clearing dead runs' tables, and
catching up the days no run published (an outage) from the ledger's settled days."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from etl_lambdas.catalog import load_catalog
from etl_lambdas.errors import InvalidRunRequest, PipelineBusy
from etl_lambdas.lease import RunLease, execution_running
from etl_lambdas.sources import GLUE_CONVERTER_VERSION

TABLE = "lake-dev-run-lease"
MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:lake-dev-pipeline"
ENV = {
    "PIPELINE_TIME_ZONE": "Europe/Brussels",
    "MAX_BACKFILL_DAYS": "31",
    "LATE_DATA_LOOKBACK_DAYS": "7",
    "RUN_LEASE_TABLE": TABLE,
    "LEASE_SECONDS": "21600",
    "GLUE_DATABASE_PREFIX": "lake_dev",
    "RAW_BUCKET": "lake-dev-raw",
    "CURATED_BUCKET": "lake-dev-curated",
}
NOW = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        dynamodb.create_table(
            TableName=TABLE,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        sfn = boto3.client("stepfunctions")
        sfn.create_state_machine(
            name="lake-dev-pipeline",
            definition=json.dumps(
                {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}
            ),
            roleArn="arn:aws:iam::123456789012:role/states",
        )
        glue = boto3.client("glue")
        glue.create_database(DatabaseInput={"Name": "lake_dev_staging"})
        s3 = boto3.client("s3")
        for bucket in (ENV["RAW_BUCKET"], ENV["CURATED_BUCKET"]):
            s3.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
            )
        yield {"dynamodb": dynamodb, "sfn": sfn, "glue": glue, "s3": s3}


def _execution(sfn: Any, name: str) -> str:
    return str(sfn.start_execution(stateMachineArn=MACHINE, name=name, input="{}")["executionArn"])


def _acquire(lease: RunLease, holder: str, now: datetime = NOW, running: bool = True) -> Any:
    return lease.acquire(
        holder=holder, run_id=f"run-of-{holder[-1]}", now=now, seconds=3600,
        holder_running=lambda arn: running,
    )  # fmt: skip


def test_a_second_holder_is_refused_naming_the_first(aws: dict[str, Any]) -> None:
    lease = RunLease(aws["dynamodb"], TABLE)
    first = _acquire(lease, f"{MACHINE}:a")
    assert _acquire(lease, f"{MACHINE}:a").holder == first.holder  # a retried step: same holder
    with pytest.raises(PipelineBusy) as raised:
        _acquire(lease, f"{MACHINE}:b")
    message = str(raised.value)
    assert f"execution {MACHINE}:a (run run-of-a) holds the pipeline" in message
    assert "expires at 2026-11-21T04:00:00+00:00" in message


def test_released_expired_or_dead_leases_are_free(aws: dict[str, Any]) -> None:
    lease = RunLease(aws["dynamodb"], TABLE)
    _acquire(lease, f"{MACHINE}:a")
    assert lease.release(f"{MACHINE}:b") is False  # not the holder: nothing changes
    assert lease.current() is not None
    assert lease.release(f"{MACHINE}:a") is True
    assert lease.current() is None
    assert _acquire(lease, f"{MACHINE}:b").holder.endswith(":b")
    # Expired (its execution would have been stopped by the machine's timeout by now).
    later = NOW + timedelta(hours=2)
    assert _acquire(lease, f"{MACHINE}:c", now=later).holder.endswith(":c")
    # The holder ended without releasing (aborted): taken over at once.
    assert _acquire(lease, f"{MACHINE}:d", now=later, running=False).holder.endswith(":d")


def test_holder_running_asks_step_functions(aws: dict[str, Any]) -> None:
    running = execution_running(aws["sfn"])
    arn = _execution(aws["sfn"], "scheduled-1")
    assert running(arn) is True
    aws["sfn"].stop_execution(executionArn=arn)
    assert running(arn) is False
    assert running(f"{MACHINE.replace('stateMachine', 'execution')}:never-started") is False


def test_a_holder_being_redriven_counts_as_running(aws: dict[str, Any]) -> None:
    """A failed execution restarted by RedriveExecution is PENDING_REDRIVE until it runs again:
    it will continue with the lease it holds (moto never reports that status: stubbed)."""
    sfn = aws["sfn"]
    arn = f"{MACHINE.replace('stateMachine', 'execution')}:redriven"
    with Stubber(sfn) as stubber:
        stubber.add_response(
            "describe_execution",
            {
                "executionArn": arn,
                "stateMachineArn": MACHINE,
                "status": "PENDING_REDRIVE",
                "startDate": NOW,
            },
            {"executionArn": arn},
        )
        assert execution_running(sfn)(arn) is True


def _begin_event(name: str, arn: str, request: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "input": request or {"time": "2026-11-21T03:00:00Z"},
        "execution": {"name": name, "id": arn, "start_time": "2026-11-21T03:00:01Z"},
    }


def test_begin_takes_the_lease_and_drops_only_dead_runs_staging_tables(
    aws: dict[str, Any], load_step: Any, context: Any
) -> None:
    begin = load_step("begin", **ENV)
    glue = aws["glue"]
    dead = "events__20261120t030000z_00000000__c0"
    for name in (dead, "not_a_staging_table"):
        glue.create_table(DatabaseName="lake_dev_staging", TableInput={"Name": name})
    arn = _execution(aws["sfn"], "scheduled-2")

    run = begin.handler(_begin_event("scheduled-2", arn), context)

    assert (run["start_date"], run["end_date"]) == ("2026-11-20", "2026-11-20")
    assert run["lease"]["holder"] == arn and run["stale_staging_tables"] == 1
    assert run["glue_arguments"] == {
        "--arrival_start_date": "2026-11-19",
        "--arrival_end_date": "2026-11-21",
        "--run_id": run["run_id"],
    }
    assert (run["caught_up"], run["missed"]) == (None, None)  # nothing was ever settled
    tables = {t["Name"] for t in glue.get_tables(DatabaseName="lake_dev_staging")["TableList"]}
    assert tables == {"not_a_staging_table"}
    # The same execution retried: same run, same lease.
    assert begin.handler(_begin_event("scheduled-2", arn), context)["run_id"] == run["run_id"]


def test_begin_of_a_second_execution_fails_while_the_first_runs(
    aws: dict[str, Any], load_step: Any, context: Any
) -> None:
    begin = load_step("begin", **ENV)
    first = _execution(aws["sfn"], "scheduled-3")
    begin.handler(_begin_event("scheduled-3", first), context)
    second = _execution(aws["sfn"], "backfill-1")
    with pytest.raises(PipelineBusy, match="scheduled-3"):
        begin.handler(_begin_event("backfill-1", second, {"date": "2026-11-19"}), context)
    aws["sfn"].stop_execution(executionArn=first)  # aborted without releasing
    run = begin.handler(_begin_event("backfill-1", second, {"date": "2026-11-19"}), context)
    assert run["lease"]["holder"] == second


def test_begin_rejects_a_bad_request_before_taking_anything(
    aws: dict[str, Any], load_step: Any, context: Any
) -> None:
    begin = load_step("begin", **ENV)
    arn = _execution(aws["sfn"], "bad")
    with pytest.raises(InvalidRunRequest, match="not complete yet"):
        begin.handler(_begin_event("bad", arn, {"date": "2099-01-01"}), context)
    assert RunLease(aws["dynamodb"], TABLE).current() is None
    with pytest.raises(InvalidRunRequest, match="not an execution ARN"):
        begin.handler(_begin_event("bad", "arn:aws:states:x"), context)


def _settled(s3: Any, source: str, last: str) -> None:
    # (and a day settled as events dated far in the future: no sign of a run up to it)
    days = {last: "20261101t030000z_00000000", "2099-01-01": "20261101t030000z_00000000"}
    s3.put_object(
        Bucket="lake-dev-curated",
        Key=f"ods/{source}/_ledger/settled.json",
        Body=json.dumps({"ledger": 1, "source": source, "days": days}).encode(),
    )


def test_after_an_outage_the_next_run_catches_up_the_days_within_the_look_back(
    aws: dict[str, Any], load_step: Any, context: Any
) -> None:
    # given the last day a run published was the 5th (traffic; app_activity a day earlier)
    _settled(aws["s3"], "traffic", "2026-11-05")
    _settled(aws["s3"], "app_activity", "2026-11-04")
    begin = load_step("begin", **ENV)
    arn = _execution(aws["sfn"], "scheduled-after-outage")

    # when the schedule starts the run of the 20th
    run = begin.handler(_begin_event("scheduled-after-outage", arn), context)

    # then it publishes the 13th..20th (seven days of look-back), and names the days before
    # that no run published, to be backfilled
    assert (run["start_date"], run["end_date"]) == ("2026-11-13", "2026-11-20")
    assert run["requested_start_date"] == "2026-11-20"
    assert run["caught_up"] == {"start_date": "2026-11-13", "end_date": "2026-11-19"}
    assert run["missed"] == {"start_date": "2026-11-06", "end_date": "2026-11-12"}
    assert run["glue_arguments"]["--arrival_start_date"] == "2026-11-12"


def test_a_run_of_some_models_or_one_right_after_the_last_catches_up_nothing(
    aws: dict[str, Any], load_step: Any, context: Any
) -> None:
    _settled(aws["s3"], "traffic", "2026-11-05")
    begin = load_step("begin", **ENV)
    arn = _execution(aws["sfn"], "some-models")
    request = {"date": "2026-11-20", "models": ["events"]}
    run = begin.handler(_begin_event("some-models", arn, request), context)
    assert (run["start_date"], run["caught_up"]) == ("2026-11-20", None)
    RunLease(aws["dynamodb"], TABLE).release(arn)
    arn = _execution(aws["sfn"], "next-day")
    run = begin.handler(_begin_event("next-day", arn, {"date": "2026-11-06"}), context)
    assert (run["start_date"], run["caught_up"], run["missed"]) == ("2026-11-06", None, None)


def test_a_selection_skips_the_glue_job_only_when_the_ods_holds_its_raw_files(
    aws: dict[str, Any], load_step: Any, context: Any
) -> None:
    begin = load_step("begin", **ENV)
    s3 = aws["s3"]
    hour = "year=2026/month=11/day=20/hour=07/"
    s3.put_object(Bucket=ENV["RAW_BUCKET"], Key=f"raw/traffic/{hour}a.json.gz", Body=b"{}")
    selected = {"date": "2026-11-20", "select": ["hourly"]}

    def begun(name: str, request: dict[str, Any]) -> Any:
        arn = _execution(aws["sfn"], name)
        run = begin.handler(_begin_event(name, arn, request), context)
        RunLease(aws["dynamodb"], TABLE).release(arn)
        return run

    # a run of every model always converts, without looking
    assert begun("all", {"date": "2026-11-20"})["convert_raw"] is True
    stale = begun("stale", selected)
    assert stale["models"] == ["hourly"]
    assert (stale["convert_raw"], stale["ods"]["stale_partitions"]) == (True, {"traffic": 1})
    # the record the Glue job writes: the raw files, its version, the ODS columns
    traffic = load_catalog().sources.get("traffic")
    record = {
        "converter": GLUE_CONVERTER_VERSION,
        "columns": [{"name": c.name, "type": c.type} for c in traffic.ods_columns],
        "files": [{"name": "a.json.gz", "size": 2}],
    }
    s3.put_object(
        Bucket=ENV["CURATED_BUCKET"], Key=f"ods/traffic/{hour}_SOURCES", Body=json.dumps(record)
    )
    current = begun("current", selected)
    assert (current["convert_raw"], current["ods"]["current"]) == (False, True)
