"""Register (ODS partitions from the ledger, declared schemas), restate (open days) and finish
(settling days, deleting settled entries), on moto S3/Glue/DynamoDB."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from etl_lambdas.errors import LedgerError, SchemaNotSettled
from etl_lambdas.lease import RunLease
from etl_lambdas.naming import ledger_entry_key, settled_key

CURATED = "lake-dev-curated"
RUN = "20261121t030000z_0123abcd"
EARLIER = "20261120t030000z_0123abcd"
CRAWLERS = {"traffic": "lake-dev-ods-traffic", "app_activity": "lake-dev-ods-app_activity"}
COLUMNS = [{"name": "sensor_id", "type": "string"}, {"name": "current_speed", "type": "int"}]
KEYS = ("year", "month", "day", "hour")
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
EXECUTION = "arn:aws:states:eu-west-1:123456789012:execution:lake-dev-pipeline:e1"


def partition(hour: str, days: dict[str, int] | None = None, **facts: Any) -> dict[str, Any]:
    return {
        "values": ["2026", "11", "20", hour],
        "location": f"s3://{CURATED}/ods/traffic/year=2026/month=11/day=20/hour={hour}/",
        "new_files": [f"part-{hour}.json.gz"], "event_days": days or {"2026-11-20": 10},
        "unparsable_event_times": 0, "malformed_lines": 0, "malformed_files": {},
        "has_rows": True, **facts,
    }  # fmt: skip


def entry_body(
    run: str, partitions: list[dict[str, Any]], columns: list[dict[str, str]] = COLUMNS
) -> bytes:
    return json.dumps(
        {
            "ledger": 1, "source": "traffic", "run_id": run, "ods_table": "traffic",
            "partition_keys": list(KEYS), "columns": columns, "partitions": partitions,
        }
    ).encode()  # fmt: skip


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(
            Bucket=CURATED, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        glue = boto3.client("glue")
        glue.create_database(DatabaseInput={"Name": "lake_dev_ods"})
        yield {"s3": s3, "glue": glue}


def _put_entry(s3: Any, run: str, body: bytes) -> str:
    key = ledger_entry_key("traffic", run)
    s3.put_object(Bucket=CURATED, Key=key, Body=body)
    return key


def _create_table(glue: Any, columns: list[dict[str, str]] = COLUMNS) -> None:
    glue.create_table(
        DatabaseName="lake_dev_ods",
        TableInput={
            "Name": "traffic",
            "PartitionKeys": [{"Name": k, "Type": "string"} for k in KEYS],
            "StorageDescriptor": {
                "Columns": [{"Name": c["name"], "Type": c["type"]} for c in columns],
                "Location": f"s3://{CURATED}/ods/traffic/",
                "SerdeInfo": {"SerializationLibrary": PARQUET_SERDE},
            },
        },
    )  # fmt: skip


def _partitions(glue: Any) -> list[dict[str, Any]]:
    pages = glue.get_paginator("get_partitions").paginate(
        DatabaseName="lake_dev_ods", TableName="traffic"
    )
    return [p for page in pages for p in page["Partitions"]]


REGISTER_ENV = {
    "GLUE_DATABASE_PREFIX": "lake_dev",
    "CURATED_BUCKET": CURATED,
    "SOURCE_CRAWLERS": json.dumps(CRAWLERS),
}


def _register(load_step: Any, context: Any, crawl_allowed: bool = True) -> dict[str, Any]:
    register = load_step("register", **REGISTER_ENV)
    return dict(register.handler({"run_id": RUN, "crawl_allowed": crawl_allowed}, context))


def test_a_missing_table_asks_for_its_crawler_and_one_still_missing_after_it_fails(
    aws: Any, load_step: Any, context: Any
) -> None:
    _put_entry(aws["s3"], RUN, entry_body(RUN, [partition("05")]))
    result = _register(load_step, context)
    assert result["crawlers"] == ["lake-dev-ods-traffic"] and result["registered"] == {}
    with pytest.raises(SchemaNotSettled, match="does not exist after its crawl"):
        _register(load_step, context, crawl_allowed=False)


def test_sources_without_rows_yet_are_reported_waiting_and_not_crawled(
    aws: Any, load_step: Any, context: Any
) -> None:
    # given traffic converted a partition of malformed lines only, app_activity nothing at all
    malformed = partition("05", days={}, has_rows=False, malformed_lines=3,
                          malformed_files={"part-05.json.gz": 3})  # fmt: skip
    _put_entry(aws["s3"], RUN, entry_body(RUN, [malformed]))

    result = _register(load_step, context)

    # then no crawl runs (it would create no table), and both sources are said to wait
    assert result["crawlers"] == [] and result["registered"] == {}
    assert result["waiting_for_data"] == ["app_activity", "traffic"]
    traffic = next(row for row in result["intake"] if row["source"] == "traffic")
    assert traffic["malformed_lines"] == 3
    assert traffic["malformed_files"] == [
        {"partition": malformed["location"], "file": "part-05.json.gz", "lines": 3}
    ]


def test_every_converted_partition_of_the_ledger_is_registered_once_whichever_run_converted_it(
    aws: Any, load_step: Any, context: Any
) -> None:
    # given an earlier run that converted hours 03 and 04 and failed before registering them,
    # and this run's entry (its retry converged: it names only what this run converted)
    _create_table(aws["glue"])
    _put_entry(aws["s3"], EARLIER, entry_body(EARLIER, [partition("03"), partition("04")]))
    _put_entry(aws["s3"], RUN, entry_body(RUN, [partition("05")]))

    result = _register(load_step, context)

    assert result["crawlers"] == [] and result["registered"] == {
        "traffic": {"created": 3, "existing": 0, "updated": 0}
    }
    partitions = _partitions(aws["glue"])
    locations = sorted(p["StorageDescriptor"]["Location"] for p in partitions)
    assert locations[0] == f"s3://{CURATED}/ods/traffic/year=2026/month=11/day=20/hour=03/"
    assert all(
        p["StorageDescriptor"]["Columns"]
        == [{"Name": "sensor_id", "Type": "string"}, {"Name": "current_speed", "Type": "int"}]
        for p in partitions
    )
    # the intake is this run's conversion only
    traffic = next(row for row in result["intake"] if row["source"] == "traffic")
    assert (traffic["partitions_converted"], traffic["new_events"]) == (1, 10)
    # Idempotent: a retried step, or the pass after a crawl, finds them there.
    assert _register(load_step, context)["registered"] == {
        "traffic": {"created": 0, "existing": 3, "updated": 0}
    }


def test_a_new_column_asks_for_a_crawl_and_after_it_the_declaration_is_the_schema(
    aws: Any, load_step: Any, context: Any
) -> None:
    _create_table(aws["glue"])
    wider = [*COLUMNS, {"name": "device", "type": "string"}]
    _put_entry(aws["s3"], RUN, entry_body(RUN, [partition("05")], columns=wider))
    assert _register(load_step, context)["crawlers"] == ["lake-dev-ods-traffic"]

    # the crawl merged the columns otherwise than declared: the declaration wins
    after = _register(load_step, context, crawl_allowed=False)

    table = aws["glue"].get_table(DatabaseName="lake_dev_ods", Name="traffic")["Table"]
    assert [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]] == [
        (c["name"], c["type"]) for c in wider
    ]
    assert after["registered"]["traffic"]["created"] == 1


def test_a_changed_column_type_is_applied_without_a_crawl_and_unreadable_partitions_named(
    aws: Any, load_step: Any, context: Any
) -> None:
    # given partitions registered while current_speed was a string
    old = [{"name": "sensor_id", "type": "string"}, {"name": "current_speed", "type": "string"}]
    _create_table(aws["glue"], old)
    _put_entry(aws["s3"], EARLIER, entry_body(EARLIER, [partition("03"), partition("04")], old))
    _register(load_step, context)
    aws["s3"].delete_object(Bucket=CURATED, Key=ledger_entry_key("traffic", EARLIER))
    # when the declaration makes it a smallint and this run converts hour 04 again and 05
    retyped = [
        {"name": "sensor_id", "type": "string"},
        {"name": "current_speed", "type": "smallint"},
    ]
    _put_entry(aws["s3"], RUN, entry_body(RUN, [partition("04"), partition("05")], retyped))

    result = _register(load_step, context)

    # then the table has the declared type at once (no crawl, never SchemaNotSettled)
    assert result["crawlers"] == []
    table = aws["glue"].get_table(DatabaseName="lake_dev_ods", Name="traffic")["Table"]
    assert table["StorageDescriptor"]["Columns"][1] == {"Name": "current_speed", "Type": "smallint"}
    # the partition converted again has the new columns; the old one keeps its own
    columns = {
        p["Values"][3]: p["StorageDescriptor"]["Columns"][1]["Type"]
        for p in _partitions(aws["glue"])
    }
    assert columns == {"03": "string", "04": "smallint", "05": "smallint"}
    assert result["registered"]["traffic"] == {"created": 1, "existing": 0, "updated": 1}
    # string -> smallint is a change Athena reads (its table of compatible types); the run
    # says which partitions keep the old type only when Athena could not read them
    (change,) = result["schema_changes"]
    assert change["retyped"] == [{"column": "current_speed", "from": "string", "to": "smallint"}]
    assert "convert_again" not in change


def test_a_type_athena_cannot_read_as_the_declared_one_names_the_backfill_that_converts_it(
    aws: Any, load_step: Any, context: Any
) -> None:
    _create_table(aws["glue"])  # current_speed int
    _put_entry(aws["s3"], EARLIER, entry_body(EARLIER, [partition("03")]))
    _register(load_step, context)
    aws["s3"].delete_object(Bucket=CURATED, Key=ledger_entry_key("traffic", EARLIER))
    narrower = [
        {"name": "sensor_id", "type": "string"},
        {"name": "current_speed", "type": "smallint"},
    ]
    _put_entry(aws["s3"], RUN, entry_body(RUN, [partition("05")], narrower))

    (change,) = _register(load_step, context)["schema_changes"]

    assert change["unreadable_partitions"] == 1
    assert change["convert_again"] == {"start_date": "2026-11-20", "end_date": "2026-11-20"}


def test_an_unreadable_ledger_entry_is_named(aws: Any, load_step: Any, context: Any) -> None:
    key = _put_entry(aws["s3"], RUN, b'{"source": "traffic"')
    with pytest.raises(LedgerError, match=key):
        _register(load_step, context)


def test_more_than_100_partitions_are_registered_in_batches(
    aws: Any, load_step: Any, context: Any
) -> None:
    _create_table(aws["glue"])
    body = json.loads(entry_body(RUN, []))
    body["partitions"] = [
        {**partition(f"{h:02d}"), "values": ["2026", "11", f"{d:02d}", f"{h:02d}"],
         "location": f"s3://c/ods/traffic/{d}/{h}/"}
        for d in range(1, 6) for h in range(24)
    ]  # fmt: skip
    _put_entry(aws["s3"], RUN, json.dumps(body).encode())
    assert _register(load_step, context)["registered"]["traffic"]["created"] == 120


RUN_INPUT = {
    "run_id": RUN, "start_date": "2026-11-20", "end_date": "2026-11-20", "today": "2026-11-21",
    "time_zone": "Europe/Brussels", "lookback_days": 7, "arrival_start_date": "2026-11-19",
    "arrival_end_date": "2026-11-21", "models": None,
}  # fmt: skip


def _lease(execution: str) -> None:
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName="lease",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    RunLease(dynamodb, "lease").acquire(
        holder=execution, run_id=RUN, now=datetime.now(UTC), seconds=60,
        holder_running=lambda arn: True,
    )  # fmt: skip


def test_restate_plans_the_open_days_and_finish_settles_them_and_deletes_what_is_settled(
    aws: Any, load_step: Any, context: Any
) -> None:
    # given an earlier entry whose days were settled since, and this run's with late days
    # before the window (within the bound and beyond it) and a day after it
    s3 = aws["s3"]
    s3.put_object(Bucket=CURATED, Key=settled_key("traffic"),
                  Body=json.dumps({"days": {"2026-11-19": EARLIER}}).encode())  # fmt: skip
    earlier = _put_entry(s3, EARLIER, entry_body(EARLIER, [partition("03", {"2026-11-19": 4})]))
    days = {"2026-11-20": 10, "2026-11-16": 3, "2026-11-01": 2, "2026-11-21": 6}
    key = _put_entry(s3, RUN, entry_body(RUN, [partition("05", days)]))
    restate = load_step("restate", CURATED_BUCKET=CURATED)

    result = restate.handler({"run": RUN_INPUT}, context)

    assert result["restated"] == [{"date": "2026-11-16", "events": {"traffic": 3}}]
    assert result["beyond_lookback"] == [{"date": "2026-11-01", "events": {"traffic": 2}}]
    assert result["consume"] is True
    assert result["settle"] == {
        "window": {"start_date": "2026-11-20", "end_date": "2026-11-20"},
        "days": {"traffic": ["2026-11-01", "2026-11-16"], "app_activity": []},
    }
    events = result["tiers"][0]["models"][0]
    assert events["windows"] == [
        {"start_date": "2026-11-16", "end_date": "2026-11-16"},
        {"start_date": "2026-11-20", "end_date": "2026-11-20"},
    ]
    # A run of some models only restates them but settles nothing.
    partial = restate.handler({"run": {**RUN_INPUT, "models": ["events"]}}, context)
    assert (partial["consume"], partial["settle"]) == (False, None)

    _lease(EXECUTION)
    finish = load_step("finish", RUN_LEASE_TABLE="lease", CURATED_BUCKET=CURATED)
    failed = finish.handler({"status": "FAILED", "execution": EXECUTION}, context)
    assert failed["lease_released"] is True and failed["entries_deleted"] == 0
    done = finish.handler(
        {"status": "SUCCEEDED", "execution": EXECUTION, "run_id": RUN, "settle": result["settle"]},
        context,
    )
    # the earlier entry has nothing open: deleted; this run's keeps the 21st open
    assert done["entries_deleted"] == 1
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=CURATED, Prefix="ods/")["Contents"]]
    assert earlier not in keys and key in keys
    settled = json.loads(s3.get_object(Bucket=CURATED, Key=settled_key("traffic"))["Body"].read())
    assert settled["days"] == {
        "2026-11-01": RUN, "2026-11-16": RUN, "2026-11-19": EARLIER, "2026-11-20": RUN
    }  # fmt: skip
    # the next run finds nothing to restate but the day after the window, when it is before
    later = restate.handler(
        {"run": {**RUN_INPUT, "start_date": "2026-11-22", "end_date": "2026-11-22",
                 "today": "2026-11-23", "run_id": "20261123t030000z_0123abcd"}},
        context,
    )  # fmt: skip
    assert later["restated"] == [{"date": "2026-11-21", "events": {"traffic": 6}}]
