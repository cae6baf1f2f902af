"""Register (ODS partitions without a crawler), restate and finish, on moto S3/Glue/DynamoDB."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from etl_lambdas.errors import RegisterFailed, SchemaNotSettled
from etl_lambdas.lease import RunLease

ARTIFACTS = "lake-dev-artifacts"
RUN = "20261121t030000z_0123abcd"
EARLIER = "20261120t030000z_0123abcd"
CRAWLERS = {"traffic": "lake-dev-ods-traffic"}
COLUMNS = [{"name": "sensor_id", "type": "string"}, {"name": "current_speed", "type": "int"}]
KEYS = ("year", "month", "day", "hour")
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
EXECUTION = "arn:aws:states:eu-west-1:123456789012:execution:lake-dev-pipeline:e1"


def report_body(
    run: str,
    hours: list[str],
    columns: list[dict[str, str]] = COLUMNS,
    days: dict[str, int] | None = None,
) -> bytes:
    return json.dumps(
        {
            "source": "traffic", "run_id": run, "ods_table": "traffic",
            "partition_keys": ["year", "month", "day", "hour"],
            "partitions": [
                {"values": ["2026", "11", "20", h],
                 "location": f"s3://lake-dev-curated/ods/traffic/year=2026/month=11/day=20/hour={h}/"}
                for h in hours
            ],
            "columns": columns, "event_days": days or {"2026-11-20": 10},
            "events": 10, "malformed_lines": 0, "unparsable_event_times": 0,
        }
    ).encode()  # fmt: skip


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(
            Bucket=ARTIFACTS, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        glue = boto3.client("glue")
        glue.create_database(DatabaseInput={"Name": "lake_dev_ods"})
        yield {"s3": s3, "glue": glue}


def _put_report(s3: Any, run: str, body: bytes) -> str:
    key = f"changes/{run}/traffic.json"
    s3.put_object(Bucket=ARTIFACTS, Key=key, Body=body)
    return key


def _create_table(glue: Any, columns: list[dict[str, str]] = COLUMNS) -> None:
    glue.create_table(
        DatabaseName="lake_dev_ods",
        TableInput={
            "Name": "traffic",
            "PartitionKeys": [{"Name": k, "Type": "string"} for k in KEYS],
            "StorageDescriptor": {
                "Columns": [{"Name": c["name"], "Type": c["type"]} for c in columns],
                "Location": "s3://lake-dev-curated/ods/traffic/",
                "SerdeInfo": {"SerializationLibrary": PARQUET_SERDE},
            },
        },
    )  # fmt: skip


REGISTER_ENV = {
    "GLUE_DATABASE_PREFIX": "lake_dev",
    "ARTIFACTS_BUCKET": ARTIFACTS,
    "SOURCE_CRAWLERS": json.dumps(CRAWLERS),
}


def _register(load_step: Any, context: Any, crawl_allowed: bool = True) -> dict[str, Any]:
    register = load_step("register", **REGISTER_ENV)
    return dict(register.handler({"run_id": RUN, "crawl_allowed": crawl_allowed}, context))


def test_a_missing_table_asks_for_its_crawler_and_registers_nothing(
    aws: Any, load_step: Any, context: Any
) -> None:
    _put_report(aws["s3"], RUN, report_body(RUN, ["05"]))
    result = _register(load_step, context)
    assert result["crawlers"] == ["lake-dev-ods-traffic"] and result["registered"] == {}
    with pytest.raises(SchemaNotSettled, match="does not exist"):
        _register(load_step, context, crawl_allowed=False)


def test_partitions_of_every_pending_report_are_registered_once(
    aws: Any, load_step: Any, context: Any
) -> None:
    _create_table(aws["glue"])
    _put_report(aws["s3"], EARLIER, report_body(EARLIER, ["03", "04"]))
    _put_report(aws["s3"], RUN, report_body(RUN, ["04", "05"]))
    result = _register(load_step, context)
    assert result["crawlers"] == [] and result["registered"] == {
        "traffic": {"created": 3, "existing": 0}
    }
    partitions = aws["glue"].get_partitions(DatabaseName="lake_dev_ods", TableName="traffic")[
        "Partitions"
    ]
    locations = sorted(p["StorageDescriptor"]["Location"] for p in partitions)
    assert locations[0] == "s3://lake-dev-curated/ods/traffic/year=2026/month=11/day=20/hour=03/"
    assert all(
        p["StorageDescriptor"]["Columns"]
        == [{"Name": "sensor_id", "Type": "string"}, {"Name": "current_speed", "Type": "int"}]
        for p in partitions
    )
    # Idempotent: a retried step, or the pass after a crawl, finds them there.
    assert _register(load_step, context)["registered"] == {"traffic": {"created": 0, "existing": 3}}


def test_a_schema_change_asks_for_a_crawl_and_one_after_a_crawl_fails(
    aws: Any, load_step: Any, context: Any
) -> None:
    _create_table(aws["glue"])
    wider = [*COLUMNS, {"name": "device", "type": "string"}]
    _put_report(aws["s3"], RUN, report_body(RUN, ["05"], columns=wider))
    assert _register(load_step, context)["crawlers"] == ["lake-dev-ods-traffic"]
    with pytest.raises(SchemaNotSettled, match="crawler and the Glue job disagree"):
        _register(load_step, context, crawl_allowed=False)


def test_a_malformed_report_is_named(aws: Any, load_step: Any, context: Any) -> None:
    key = _put_report(aws["s3"], RUN, b'{"source": "traffic"')
    with pytest.raises(RegisterFailed, match=key):
        _register(load_step, context)


def test_more_than_100_partitions_are_registered_in_batches(
    aws: Any, load_step: Any, context: Any
) -> None:
    _create_table(aws["glue"])
    body = json.loads(report_body(RUN, []))
    body["partitions"] = [
        {"values": ["2026", "11", f"{d:02d}", f"{h:02d}"], "location": f"s3://c/ods/traffic/{d}/{h}/"}
        for d in range(1, 6) for h in range(24)
    ]  # fmt: skip
    _put_report(aws["s3"], RUN, json.dumps(body).encode())
    assert _register(load_step, context)["registered"]["traffic"]["created"] == 120


def test_restate_plans_late_days_and_finish_consumes_the_reports(
    aws: Any, load_step: Any, context: Any
) -> None:
    late = report_body(RUN, ["05"], days={"2026-11-20": 10, "2026-11-16": 3, "2026-11-01": 2})
    key = _put_report(aws["s3"], RUN, late)
    restate = load_step("restate", ARTIFACTS_BUCKET=ARTIFACTS)
    run = {
        "run_id": RUN, "start_date": "2026-11-20", "end_date": "2026-11-20", "today": "2026-11-21",
        "time_zone": "Europe/Brussels", "lookback_days": 7, "arrival_start_date": "2026-11-19",
        "arrival_end_date": "2026-11-21", "models": None,
    }  # fmt: skip
    result = restate.handler({"run": run}, context)
    assert result["restated"] == [{"date": "2026-11-16", "events": {"traffic": 3}}]
    assert result["beyond_lookback"] == [{"date": "2026-11-01", "events": {"traffic": 2}}]
    assert result["reports"] == [key] and result["consume"] is True
    events = result["tiers"][0]["models"][0]
    assert events["windows"] == [
        {"start_date": "2026-11-16", "end_date": "2026-11-16"},
        {"start_date": "2026-11-20", "end_date": "2026-11-20"},
    ]
    # A run of some models only restates them but consumes nothing.
    assert restate.handler({"run": {**run, "models": ["events"]}}, context)["consume"] is False

    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName="lease",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    RunLease(dynamodb, "lease").acquire(
        holder=EXECUTION, run_id=RUN, now=datetime.now(UTC), seconds=60,
        holder_running=lambda arn: True,
    )  # fmt: skip
    finish = load_step("finish", RUN_LEASE_TABLE="lease", ARTIFACTS_BUCKET=ARTIFACTS)
    failed = finish.handler(
        {"status": "FAILED", "execution": EXECUTION, "reports": [key], "consume": True}, context
    )
    assert failed["lease_released"] is True and failed["reports_consumed"] == 0
    assert aws["s3"].list_objects_v2(Bucket=ARTIFACTS)["KeyCount"] == 1  # kept for the next run
    done = finish.handler(
        {
            "status": "SUCCEEDED",
            "execution": EXECUTION,
            "run_id": RUN,
            "reports": [key],
            "consume": True,
        },
        context,
    )
    assert done == {
        "status": "SUCCEEDED",
        "run_id": RUN,
        "lease_released": False,
        "reports_consumed": 1,
    }
    assert aws["s3"].list_objects_v2(Bucket=ARTIFACTS)["KeyCount"] == 0
