"""Publish on moto Glue + S3: create, re-publish, batching, retention, idempotent retry."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws

from etl_lambdas.errors import InvalidRunRequest
from etl_lambdas.publishing import is_referenced, runs_to_prune
from tests.unit.conftest import FakeLambdaContext

BUCKET = "lake-dev-curated"
ENV = {"GLUE_DATABASE_PREFIX": "lake", "CURATED_BUCKET": BUCKET, "KEEP_RUNS": "1"}
RUN_1 = "20261101t020000z_aaaaaaaa"
RUN_2 = "20261102t020000z_bbbbbbbb"
COLUMNS = [{"Name": "sensor_id", "Type": "string"}, {"Name": "events", "Type": "bigint"}]
KEYS = [{"Name": n, "Type": "string"} for n in ("year", "month", "day", "hour")]
PARQUET = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {
        "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    },
}


@pytest.fixture
def aws() -> Any:
    with mock_aws():
        glue, s3 = boto3.client("glue"), boto3.client("s3")
        s3.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        for db in ("lake_staging", "lake_dws"):
            glue.create_database(DatabaseInput={"Name": db})
        yield glue, s3


def _stage(
    glue: Any,
    s3: Any,
    run: str,
    hours: list[tuple[str, str]],
    columns: list[dict[str, str]] = COLUMNS,
    chunk: int = 0,
) -> str:
    """What a CTAS leaves: a staging table, its partitions, their files."""
    table = f"hourly__{run}__c{chunk}"
    root = f"dws/hourly/_runs/{run}/chunk={chunk}/"
    glue.create_table(
        DatabaseName="lake_staging",
        TableInput={
            "Name": table,
            "TableType": "EXTERNAL_TABLE",
            "PartitionKeys": KEYS,
            "Parameters": {"has_encrypted_data": "false"},
            "StorageDescriptor": {
                "Columns": columns,
                "Location": f"s3://{BUCKET}/{root}",
                **PARQUET,
            },
        },
    )
    partitions = []
    for day, hour in hours:
        directory = f"{root}year=2026/month=10/day={day}/hour={hour}/"
        s3.put_object(Bucket=BUCKET, Key=directory + "part-0.parquet", Body=b"x")
        partitions.append(
            {
                "Values": ["2026", "10", day, hour],
                "StorageDescriptor": {
                    "Columns": columns,
                    "Location": f"s3://{BUCKET}/{directory}",
                    **PARQUET,
                },
            }
        )
    for start in range(0, len(partitions), 100):
        glue.batch_create_partition(
            DatabaseName="lake_staging",
            TableName=table,
            PartitionInputList=partitions[start : start + 100],
        )
    return table


def _locations(glue: Any) -> dict[tuple[str, ...], str]:
    pages = glue.get_paginator("get_partitions").paginate(
        DatabaseName="lake_dws", TableName="hourly"
    )
    return {
        tuple(p["Values"]): p["StorageDescriptor"]["Location"]
        for page in pages
        for p in page["Partitions"]
    }


def _keys(s3: Any) -> set[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    return {o["Key"] for page in pages for o in page.get("Contents", [])}


# What Write says computed the rows (etl_lambdas.fingerprints), per run.
FINGERPRINTS = {
    RUN_1: {"model_hash": "0123456789abcdef", "fingerprint": "fedcba9876543210"},
    RUN_2: {"model_hash": "1111111111111111", "fingerprint": "2222222222222222"},
}


def _event(run: str, tables: list[str]) -> dict[str, Any]:
    return {
        "run_id": run,
        "model": "hourly",
        "tier": "dws",
        "staging_tables": tables,
        "fingerprints": FINGERPRINTS[run],
    }


def _recorded(run: str) -> dict[str, str]:
    return {
        "lakepipe.model_hash": FINGERPRINTS[run]["model_hash"],
        "lakepipe.fingerprint": FINGERPRINTS[run]["fingerprint"],
        "lakepipe.run_id": run,
    }


def _computed_by(glue: Any) -> dict[tuple[str, ...], dict[str, str]]:
    pages = glue.get_paginator("get_partitions").paginate(
        DatabaseName="lake_dws", TableName="hourly"
    )
    return {
        tuple(p["Values"]): p.get("Parameters", {}) for page in pages for p in page["Partitions"]
    }


DAY_25 = [("25", f"{h:02d}") for h in range(24)]  # the 25-hour DST day still has 24 values
DAY_26 = [("26", f"{h:02d}") for h in range(24)]


def test_first_publish_creates_the_table_and_its_partitions(aws: Any, load_step: Any) -> None:
    glue, s3 = aws
    publish = load_step("publish", **ENV)
    tables = [_stage(glue, s3, RUN_1, DAY_25), _stage(glue, s3, RUN_1, DAY_26, chunk=1)]
    result = publish.handler(_event(RUN_1, tables), FakeLambdaContext())
    assert (result["table_created"], result["partitions_created"], result["partitions"]) == (
        True,
        48,
        48,
    )
    table = glue.get_table(DatabaseName="lake_dws", Name="hourly")["Table"]
    assert table["StorageDescriptor"]["Location"] == f"s3://{BUCKET}/dws/hourly/"
    assert table["StorageDescriptor"]["Columns"] == COLUMNS
    assert table["StorageDescriptor"]["SerdeInfo"] == PARQUET["SerdeInfo"]
    assert [k["Name"] for k in table["PartitionKeys"]] == ["year", "month", "day", "hour"]
    locations = _locations(glue)
    assert locations[("2026", "10", "26", "07")] == (
        f"s3://{BUCKET}/dws/hourly/_runs/{RUN_1}/chunk=1/year=2026/month=10/day=26/hour=07/"
    )
    # Staging tables are gone from the catalog, their data is what the table now serves.
    assert glue.get_tables(DatabaseName="lake_staging")["TableList"] == []
    assert len(_keys(s3)) == 48
    # Every partition records what computed it, and which run published it.
    computed_by = _computed_by(glue)
    assert len(computed_by) == 48
    assert all(parameters == _recorded(RUN_1) for parameters in computed_by.values())


def test_republishing_a_day_replaces_only_that_day_and_prunes_only_unreferenced_data(
    aws: Any, load_step: Any
) -> None:
    glue, s3 = aws
    publish = load_step("publish", **{**ENV, "KEEP_RUNS": "0"})
    publish.handler(_event(RUN_1, [_stage(glue, s3, RUN_1, DAY_25 + DAY_26)]), FakeLambdaContext())
    foreign = {
        "dws/hourly/_runs/not-a-run/x.parquet",  # not named like a run: not ours
        "dws/hourly_v2/_runs/20200101t000000z_cccccccc/x.parquet",  # another model
        "dws/hourly/manual/x.parquet",  # outside _runs/
        "raw/traffic/x.json.gz",
    }
    for key in foreign:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    new_columns = [*COLUMNS, {"Name": "avg_speed", "Type": "double"}]
    result = publish.handler(
        _event(RUN_2, [_stage(glue, s3, RUN_2, DAY_26, columns=new_columns)]), FakeLambdaContext()
    )
    assert (result["partitions_created"], result["partitions_updated"]) == (0, 24)
    assert result["schema_updated"] is True
    table = glue.get_table(DatabaseName="lake_dws", Name="hourly")["Table"]
    assert table["StorageDescriptor"]["Columns"] == new_columns
    locations = _locations(glue)
    assert len(locations) == 48
    assert all(RUN_1 in loc for (_, _, day, _), loc in locations.items() if day == "25")
    assert all(RUN_2 in loc for (_, _, day, _), loc in locations.items() if day == "26")
    # The replaced day records the SQL of the run that replaced it; the other day keeps its own.
    computed_by = _computed_by(glue)
    assert all(p == _recorded(RUN_1) for (_, _, d, _), p in computed_by.items() if d == "25")
    assert all(p == _recorded(RUN_2) for (_, _, d, _), p in computed_by.items() if d == "26")
    keys = _keys(s3)
    # KEEP_RUNS=0 keeps no superseded run: RUN_1's day 26 is deleted, its day 25 (served) kept.
    assert result["deleted_objects"] == 24
    assert not any(f"{RUN_1}" in k and "day=26" in k for k in keys)
    assert sum(f"{RUN_1}" in k and "day=25" in k for k in keys) == 24
    assert foreign <= keys
    # Every published partition still has its files.
    assert all(
        loc.split(f"s3://{BUCKET}/")[1] + "part-0.parquet" in keys for loc in locations.values()
    )


def test_publish_retried_after_success_is_a_no_op(aws: Any, load_step: Any) -> None:
    glue, s3 = aws
    publish = load_step("publish", **ENV)
    event = _event(RUN_1, [_stage(glue, s3, RUN_1, DAY_25)])
    publish.handler(event, FakeLambdaContext())
    before = (_locations(glue), _keys(s3))
    again = publish.handler(event, FakeLambdaContext())
    assert again["partitions"] == 0 and again["deleted_objects"] == 0
    assert (_locations(glue), _keys(s3)) == before


def test_more_than_100_partitions_are_published_in_batches(aws: Any, load_step: Any) -> None:
    glue, s3 = aws
    publish = load_step("publish", **ENV)
    hours = [(f"{d:02d}", f"{h:02d}") for d in range(1, 6) for h in range(24)]  # 120
    result = publish.handler(_event(RUN_1, [_stage(glue, s3, RUN_1, hours)]), FakeLambdaContext())
    assert result["partitions_created"] == 120 and len(_locations(glue)) == 120
    result = publish.handler(_event(RUN_2, [_stage(glue, s3, RUN_2, hours)]), FakeLambdaContext())
    assert result["partitions_updated"] == 120
    assert all(RUN_2 in loc for loc in _locations(glue).values())


def test_publish_refuses_tables_of_another_run_or_model(aws: Any, load_step: Any) -> None:
    publish = load_step("publish", **ENV)
    with pytest.raises(InvalidRunRequest, match="do not belong"):
        publish.handler(_event(RUN_1, [f"daily__{RUN_1}__c0"]), FakeLambdaContext())
    with pytest.raises(InvalidRunRequest, match="do not belong"):
        publish.handler(_event(RUN_1, [f"hourly__{RUN_2}__c0"]), FakeLambdaContext())


def test_runs_to_prune_keeps_the_current_and_the_newest_superseded() -> None:
    runs = [RUN_1, RUN_2, "20261103t020000z_cccccccc"]
    assert runs_to_prune(runs, RUN_2, 1) == [RUN_1]
    assert runs_to_prune(runs, RUN_2, 0) == ["20261103t020000z_cccccccc", RUN_1]
    assert runs_to_prune(runs, RUN_2, 3) == []
    assert is_referenced("a/b/year=1/f.parquet", {"a/b/year=1/"})
    assert not is_referenced("a/b/year=10/f.parquet", {"a/b/year=1/"})


def test_keep_runs_zero_is_a_valid_configuration(load_step: Any) -> None:
    assert load_step("publish", **{**ENV, "KEEP_RUNS": "0"}).KEEP_RUNS == 0
