"""The local Glue crawler through boto3 against the moto server."""

from __future__ import annotations

import gzip
import threading
import time
from typing import Any

import pytest
from local_aws_support import BUCKET, Aws, json_lines, parquet_bytes

DATABASE = "lake_ods"


def make_crawler(aws: Aws, path: str, **extra: Any) -> None:
    aws.glue.create_database(DatabaseInput={"Name": DATABASE})
    aws.glue.create_crawler(
        Name="ods-crawler",
        Role="arn:aws:iam::123456789012:role/crawler",
        DatabaseName=DATABASE,
        Targets={"S3Targets": [{"Path": path}]},
        **extra,
    )


def crawl(aws: Aws) -> dict[str, Any]:
    """Start the crawler and poll GetCrawler until READY, like the state machine does."""
    aws.glue.start_crawler(Name="ods-crawler")
    deadline = time.monotonic() + 30
    while True:
        crawler = aws.glue.get_crawler(Name="ods-crawler")["Crawler"]
        if crawler["State"] == "READY":
            return crawler
        assert time.monotonic() < deadline, "crawl did not end"
        time.sleep(0.02)


def put_parquet_hour(aws: Aws, hour: str, columns: dict[str, list[Any]] | None = None) -> None:
    body = parquet_bytes(columns or {"sensor_id": ["1065"], "current_speed": [87]})
    aws.s3.put_object(
        Bucket=BUCKET,
        Key=f"ods/traffic/year=2026/month=11/day=20/hour={hour}/part-0.parquet",
        Body=body,
    )


def partition_values(aws: Aws, table: str) -> list[list[str]]:
    partitions = aws.glue.get_partitions(DatabaseName=DATABASE, TableName=table)["Partitions"]
    return sorted(p["Values"] for p in partitions)


def test_crawl_creates_parquet_table_and_partitions(aws: Aws) -> None:
    make_crawler(aws, f"s3://{BUCKET}/ods/traffic/", TablePrefix="")
    for hour in ("04", "05"):
        put_parquet_hour(aws, hour)
    aws.s3.put_object(Bucket=BUCKET, Key="ods/traffic/_temporary/junk", Body=b"x")

    crawler = crawl(aws)
    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED"
    table = aws.glue.get_table(DatabaseName=DATABASE, Name="traffic")["Table"]
    assert [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]] == [
        ("sensor_id", "string"),
        ("current_speed", "bigint"),
    ]
    assert [(k["Name"], k["Type"]) for k in table["PartitionKeys"]] == [
        ("year", "string"),
        ("month", "string"),
        ("day", "string"),
        ("hour", "string"),
    ]
    assert table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"].endswith(
        "ParquetHiveSerDe"
    )
    assert partition_values(aws, "traffic") == [
        ["2026", "11", "20", "04"],
        ["2026", "11", "20", "05"],
    ]
    partition = aws.glue.get_partition(
        DatabaseName=DATABASE, TableName="traffic", PartitionValues=["2026", "11", "20", "05"]
    )["Partition"]
    assert partition["StorageDescriptor"]["Location"] == (
        f"s3://{BUCKET}/ods/traffic/year=2026/month=11/day=20/hour=05/"
    )
    metrics = aws.glue.get_crawler_metrics(CrawlerNameList=["ods-crawler"])["CrawlerMetricsList"]
    assert metrics[0]["TablesCreated"] == 1


def test_crawl_json_lines_with_table_prefix(aws: Aws) -> None:
    make_crawler(aws, f"s3://{BUCKET}/raw/traffic", TablePrefix="raw_")
    records = [
        {"uniqueId": "1065", "currentSpeed": 87, "segment": "E40"},
        {"uniqueId": "1066", "currentSpeed": 90.5, "bezettingsgraad": 12},
    ]
    aws.s3.put_object(
        Bucket=BUCKET,
        Key="raw/traffic/year=2026/month=11/day=20/hour=05/events.json.gz",
        Body=gzip.compress(json_lines(records)),
    )
    assert crawl(aws)["LastCrawl"]["Status"] == "SUCCEEDED"
    table = aws.glue.get_table(DatabaseName=DATABASE, Name="raw_traffic")["Table"]
    assert [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]] == [
        ("uniqueid", "string"),
        ("currentspeed", "double"),
        ("segment", "string"),
        ("bezettingsgraad", "int"),
    ]
    assert (
        table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"]
        == "org.openx.data.jsonserde.JsonSerDe"
    )
    assert table["Parameters"]["compressionType"] == "gzip"
    assert partition_values(aws, "raw_traffic") == [["2026", "11", "20", "05"]]


def test_recrawl_new_folders_only_adds_only_new_partitions(aws: Aws) -> None:
    make_crawler(
        aws,
        f"s3://{BUCKET}/ods/traffic/",
        RecrawlPolicy={"RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"},
        SchemaChangePolicy={"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"},
    )
    put_parquet_hour(aws, "04")
    crawl(aws)
    first = aws.glue.get_partition(
        DatabaseName=DATABASE, TableName="traffic", PartitionValues=["2026", "11", "20", "04"]
    )["Partition"]
    # a new hour with an extra column: LOG keeps the catalog's schema
    put_parquet_hour(aws, "05", {"sensor_id": ["1"], "current_speed": [1], "extra": ["x"]})
    assert crawl(aws)["LastCrawl"]["Status"] == "SUCCEEDED"
    assert partition_values(aws, "traffic") == [
        ["2026", "11", "20", "04"],
        ["2026", "11", "20", "05"],
    ]
    again = aws.glue.get_partition(
        DatabaseName=DATABASE, TableName="traffic", PartitionValues=["2026", "11", "20", "04"]
    )["Partition"]
    assert again["CreationTime"] == first["CreationTime"]
    table = aws.glue.get_table(DatabaseName=DATABASE, Name="traffic")["Table"]
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == [
        "sensor_id",
        "current_speed",
    ]


def test_update_in_database_adds_new_columns(aws: Aws) -> None:
    make_crawler(aws, f"s3://{BUCKET}/ods/traffic/")
    put_parquet_hour(aws, "04")
    crawl(aws)
    put_parquet_hour(aws, "05", {"sensor_id": ["1"], "current_speed": [1], "extra": ["x"]})
    crawl(aws)
    table = aws.glue.get_table(DatabaseName=DATABASE, Name="traffic")["Table"]
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == [
        "sensor_id",
        "current_speed",
        "extra",
    ]


@pytest.mark.parametrize("outcome", ["FAILED", "CANCELLED"])
def test_injected_outcome_ends_the_crawl_that_way_without_catalog_changes(
    aws: Aws, outcome: str
) -> None:
    make_crawler(aws, f"s3://{BUCKET}/ods/traffic/")
    put_parquet_hour(aws, "04")
    aws.crawler.inject_outcome = outcome
    last = crawl(aws)["LastCrawl"]
    assert last["Status"] == outcome
    assert ("ErrorMessage" in last) == (outcome == "FAILED")
    assert aws.glue.get_tables(DatabaseName=DATABASE)["TableList"] == []


def test_unreadable_file_fails_the_crawl_with_a_message(aws: Aws) -> None:
    make_crawler(aws, f"s3://{BUCKET}/ods/traffic/")
    aws.s3.put_object(
        Bucket=BUCKET,
        Key="ods/traffic/year=2026/month=11/day=20/hour=04/part-0.parquet",
        Body=b"PAR1broken",
    )
    last = crawl(aws)["LastCrawl"]
    assert last["Status"] == "FAILED"
    assert last["ErrorMessage"]


def test_starting_a_running_crawler_raises_crawler_running(aws: Aws) -> None:
    make_crawler(aws, f"s3://{BUCKET}/ods/traffic/")
    put_parquet_hour(aws, "04")
    aws.crawler.hold = threading.Event()
    aws.glue.start_crawler(Name="ods-crawler")
    assert aws.glue.get_crawler(Name="ods-crawler")["Crawler"]["State"] == "RUNNING"
    with pytest.raises(aws.glue.exceptions.CrawlerRunningException):
        aws.glue.start_crawler(Name="ods-crawler")
    aws.crawler.hold.set()
    deadline = time.monotonic() + 30
    while aws.glue.get_crawler(Name="ods-crawler")["Crawler"]["State"] != "READY":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert aws.glue.get_crawler(Name="ods-crawler")["Crawler"]["LastCrawl"]["Status"] == "SUCCEEDED"


def test_a_crawl_lists_and_reads_s3_as_the_crawlers_role(aws: Aws) -> None:
    make_crawler(aws, f"s3://{BUCKET}/ods/traffic/", TablePrefix="")
    put_parquet_hour(aws, "04")
    requests: list[tuple[str, str, str, dict[str, str]]] = []
    aws.crawler.authorize = lambda *request: requests.append(  # type: ignore[assignment]
        (request[0], request[1], request[2], dict(request[3]))
    )

    assert crawl(aws)["LastCrawl"]["Status"] == "SUCCEEDED"
    role = "arn:aws:iam::123456789012:role/crawler"
    assert [r for r in requests if r[1].startswith("s3:")] == [
        (role, "s3:ListBucket", f"arn:aws:s3:::{BUCKET}", {"s3:prefix": "ods/traffic/"}),
        (
            role,
            "s3:GetObject",
            f"arn:aws:s3:::{BUCKET}/ods/traffic/year=2026/month=11/day=20/hour=04/part-0.parquet",
            {},
        ),
    ]


def test_a_denied_read_fails_the_crawl(aws: Aws) -> None:
    make_crawler(aws, f"s3://{BUCKET}/ods/traffic/", TablePrefix="")
    put_parquet_hour(aws, "04")

    def deny(principal: str, action: str, resource: str, context: Any) -> None:
        if action.startswith("s3:"):
            raise PermissionError(f"{principal} may not {action} on {resource}")

    aws.crawler.authorize = deny  # type: ignore[assignment]

    crawler = crawl(aws)
    assert crawler["LastCrawl"]["Status"] == "FAILED"
    assert crawler["LastCrawl"]["ErrorMessage"].startswith("Access Denied: ")
    assert "may not s3:ListBucket" in crawler["LastCrawl"]["ErrorMessage"]
    assert aws.glue.get_tables(DatabaseName=DATABASE)["TableList"] == []


def test_the_crawler_reads_and_writes_the_catalog_as_its_role(aws: Aws) -> None:
    make_crawler(aws, f"s3://{BUCKET}/ods/traffic/", TablePrefix="")
    put_parquet_hour(aws, "04")
    requests: list[tuple[str, str, str]] = []
    aws.crawler.authorize = lambda *request: requests.append(request[:3])  # type: ignore[assignment]

    assert crawl(aws)["LastCrawl"]["Status"] == "SUCCEEDED"

    # Each Glue request on the catalog, the database and (a table operation) the table.
    role, glue = "arn:aws:iam::123456789012:role/crawler", "arn:aws:glue:eu-west-1:123456789012"
    on_table = (
        f"{glue}:catalog",
        f"{glue}:database/{DATABASE}",
        f"{glue}:table/{DATABASE}/traffic",
    )
    expected = [(role, "glue:GetDatabase", arn) for arn in on_table[:2]]
    for action in ("glue:GetTable", "glue:CreateTable", "glue:GetTable", "glue:GetPartitions",
                   "glue:BatchCreatePartition"):  # fmt: skip
        expected += [(role, action, arn) for arn in on_table]
    assert [r for r in requests if r[1].startswith("glue:")] == expected


def test_a_denied_catalog_write_fails_the_crawl_and_changes_nothing(aws: Aws) -> None:
    make_crawler(aws, f"s3://{BUCKET}/ods/traffic/", TablePrefix="")
    put_parquet_hour(aws, "04")

    def deny(principal: str, action: str, resource: str, context: Any) -> None:
        if action == "glue:CreateTable" and ":table/" in resource:
            raise PermissionError(f"{principal} may not {action} on {resource}")

    aws.crawler.authorize = deny  # type: ignore[assignment]

    crawler = crawl(aws)
    assert crawler["LastCrawl"]["Status"] == "FAILED"
    assert (
        "may not glue:CreateTable on arn:aws:glue:eu-west-1:123456789012:table/"
        in (crawler["LastCrawl"]["ErrorMessage"])
    )
    assert aws.glue.get_tables(DatabaseName=DATABASE)["TableList"] == []
