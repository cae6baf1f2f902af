"""Staged partitions registered from the files a CTAS wrote (for Athena's DuckDB engine, whose
pages do not say whether CREATE TABLE AS registers them), on moto Glue + S3."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws

from etl_lambdas.staging import register_staged_partitions, staged_partition_values

BUCKET = "lake-dev-curated"
DATABASE = "lake_staging"
TABLE = "hourly__20261101t020000z_aaaaaaaa__c0"
ROOT = "dws/hourly/_runs/20261101t020000z_aaaaaaaa/chunk=0/"
KEYS = ["year", "month", "day", "hour"]


@pytest.fixture
def aws() -> Any:
    with mock_aws():
        glue, s3 = boto3.client("glue"), boto3.client("s3")
        s3.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        glue.create_database(DatabaseInput={"Name": DATABASE})
        glue.create_table(
            DatabaseName=DATABASE,
            TableInput={
                "Name": TABLE,
                "TableType": "EXTERNAL_TABLE",
                "PartitionKeys": [{"Name": k, "Type": "string"} for k in KEYS],
                "StorageDescriptor": {
                    "Columns": [{"Name": "events", "Type": "bigint"}],
                    "Location": f"s3://{BUCKET}/{ROOT}",
                    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                },
            },
        )
        yield glue, s3


def _partitions(glue: Any) -> dict[tuple[str, ...], str]:
    pages = glue.get_paginator("get_partitions").paginate(DatabaseName=DATABASE, TableName=TABLE)
    return {
        tuple(p["Values"]): p["StorageDescriptor"]["Location"]
        for page in pages
        for p in page["Partitions"]
    }


def test_the_partitions_of_the_staged_files_are_registered_once(aws: Any) -> None:
    glue, s3 = aws
    for hour in ("00", "01"):
        s3.put_object(Bucket=BUCKET, Key=f"{ROOT}year=2026/month=11/day=01/hour={hour}/a.parquet")
    # one already registered (a CTAS that does register its partitions): kept as it is
    glue.create_partition(
        DatabaseName=DATABASE,
        TableName=TABLE,
        PartitionInput={
            "Values": ["2026", "11", "01", "00"],
            "StorageDescriptor": {
                "Location": f"s3://{BUCKET}/{ROOT}year=2026/month=11/day=01/hour=00/"
            },
        },
    )

    assert register_staged_partitions(glue, s3, DATABASE, [TABLE]) == 1
    assert register_staged_partitions(glue, s3, DATABASE, [TABLE]) == 0  # a retry adds nothing

    partitions = _partitions(glue)
    assert set(partitions) == {("2026", "11", "01", "00"), ("2026", "11", "01", "01")}
    assert partitions[("2026", "11", "01", "01")] == (
        f"s3://{BUCKET}/{ROOT}year=2026/month=11/day=01/hour=01/"
    )
    described = glue.get_partition(
        DatabaseName=DATABASE, TableName=TABLE, PartitionValues=["2026", "11", "01", "01"]
    )["Partition"]["StorageDescriptor"]
    assert described["InputFormat"].endswith("MapredParquetInputFormat")


def test_a_missing_staging_table_is_skipped(aws: Any) -> None:
    glue, s3 = aws
    assert (
        register_staged_partitions(glue, s3, DATABASE, ["gone__20261101t020000z_aaaaaaaa__c1"]) == 0
    )


def test_only_data_files_in_the_tables_key_folders_count() -> None:
    keys = [
        f"{ROOT}year=2026/month=11/day=01/hour=02/part-0.parquet",
        f"{ROOT}year=2026/month=11/day=01/hour=03/_SUCCESS",  # not data: Athena skips it
        f"{ROOT}year=2026/month=11/day=01/stray.parquet",  # not at a partition's depth
        f"{ROOT}year=2026/month=11/dai=01/hour=04/x.parquet",  # another key
        f"{ROOT}year=2026/month=11/day=01/hour=a%2Fb/x.parquet",  # Hive-escaped value
    ]
    assert staged_partition_values(keys, ROOT, KEYS) == {
        ("2026", "11", "01", "02"),
        ("2026", "11", "01", "a/b"),
    }
