"""The local Athena through boto3 against the moto server: real execution on DuckDB."""

from __future__ import annotations

import gzip
import random
import threading
import time
from collections.abc import Mapping
from typing import Any

import botocore.exceptions
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from local_aws_support import BUCKET, RESULTS_BUCKET, WORKGROUP, Aws, json_lines, parquet_bytes

DATABASE = "lake_dwd"
PARQUET_SERDE = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {
        "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    },
}
JSON_SERDE = {
    "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
    "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"},
}
CSV_SERDE = {
    "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
    "SerdeInfo": {
        "SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
        "Parameters": {"field.delim": ","},
    },
}
HOURS = ("04", "05", "06")


def run(aws: Aws, sql: str, workgroup: str = WORKGROUP, **kwargs: Any) -> dict[str, Any]:
    """Start a query, poll like a client does, return its final QueryExecution."""
    query_id = aws.athena.start_query_execution(
        QueryString=sql,
        WorkGroup=workgroup,
        QueryExecutionContext={"Database": DATABASE},
        **kwargs,
    )["QueryExecutionId"]
    deadline = time.monotonic() + 30
    while True:
        execution = aws.athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        if execution["Status"]["State"] not in ("QUEUED", "RUNNING"):
            return execution
        assert time.monotonic() < deadline, f"query still {execution['Status']['State']}"
        time.sleep(0.02)


def rows_of(aws: Aws, query_id: str) -> list[list[str | None]]:
    pages = aws.athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id)
    rows = [row for page in pages for row in page["ResultSet"]["Rows"]]
    return [[cell.get("VarCharValue") for cell in row["Data"]] for row in rows]


def create_table(
    aws: Aws, name: str, columns: list[tuple[str, str]], serde: dict[str, Any], **extra: Any
) -> None:
    aws.glue.create_table(
        DatabaseName=DATABASE,
        TableInput={
            "Name": name,
            "TableType": "EXTERNAL_TABLE",
            "StorageDescriptor": {
                "Columns": [{"Name": n, "Type": t} for n, t in columns],
                "Location": f"s3://{BUCKET}/dwd/{name}/",
                **serde,
            },
            "PartitionKeys": [
                {"Name": k, "Type": "string"} for k in ("year", "month", "day", "hour")
            ],
            **extra,
        },
    )


def add_partition(aws: Aws, table: str, hour: str, location: str, serde: dict[str, Any]) -> None:
    aws.glue.create_partition(
        DatabaseName=DATABASE,
        TableName=table,
        PartitionInput={
            "Values": ["2026", "11", "20", hour],
            "StorageDescriptor": {"Location": location, **serde},
        },
    )


@pytest.fixture
def traffic(aws: Aws) -> dict[str, int]:
    """Parquet table whose partitions point at staged run folders; file sizes by hour."""
    aws.glue.create_database(DatabaseInput={"Name": DATABASE})
    create_table(aws, "traffic_events", [("sensor_id", "string"), ("speed", "int")], PARQUET_SERDE)
    sizes = {}
    for n, hour in enumerate(HOURS):
        prefix = f"dwd/traffic_events/_runs/run{n}/chunk=0/year=2026/month=11/day=20/hour={hour}/"
        body = parquet_bytes({"sensor_id": [f"s{n}", f"t{n}"], "speed": [10 * n, 10 * n + 5]})
        aws.s3.put_object(Bucket=BUCKET, Key=prefix + "part-0.parquet", Body=body)
        sizes[hour] = len(body)
        add_partition(aws, "traffic_events", hour, f"s3://{BUCKET}/{prefix}", PARQUET_SERDE)
    return sizes


def test_select_reads_partitions_at_their_own_locations(aws: Aws, traffic: dict[str, int]) -> None:
    execution = run(aws, "SELECT sensor_id, speed, hour FROM traffic_events ORDER BY speed")
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    assert rows_of(aws, execution["QueryExecutionId"]) == [
        ["sensor_id", "speed", "hour"],
        ["s0", "0", "04"],
        ["t0", "5", "04"],
        ["s1", "10", "05"],
        ["t1", "15", "05"],
        ["s2", "20", "06"],
        ["t2", "25", "06"],
    ]
    assert execution["Statistics"]["DataScannedInBytes"] == sum(traffic.values())


def test_partition_predicates_prune_before_reading(aws: Aws, traffic: dict[str, int]) -> None:
    execution = run(
        aws,
        "SELECT count(*) AS n FROM lake_dwd.traffic_events t "
        "WHERE concat(t.year, '-', t.month, '-', t.day) BETWEEN '2026-11-19' AND '2026-11-21' "
        "AND hour = '05' AND speed > 0",
    )
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    assert rows_of(aws, execution["QueryExecutionId"]) == [["n"], ["2"]]
    assert execution["Statistics"]["DataScannedInBytes"] == traffic["05"]


def test_no_matching_partition_reads_nothing(aws: Aws, traffic: dict[str, int]) -> None:
    execution = run(aws, "SELECT sensor_id FROM traffic_events WHERE year = '2025'")
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    assert rows_of(aws, execution["QueryExecutionId"]) == [["sensor_id"]]
    assert execution["Statistics"]["DataScannedInBytes"] == 0


def test_select_over_gzipped_json_lines_and_csv(aws: Aws) -> None:
    aws.glue.create_database(DatabaseInput={"Name": DATABASE})
    create_table(
        aws,
        "raw_events",
        [("uniqueid", "string"), ("recordtimestamp", "string"), ("currentspeed", "int")],
        JSON_SERDE,
    )
    location = f"s3://{BUCKET}/raw/x/year=2026/month=11/day=20/hour=05/"
    records = [
        {"uniqueId": "1065", "recordTimestamp": "2026-11-20T05:03:00+01:00", "currentSpeed": 87},
        {"uniqueId": "1066", "recordTimestamp": "2026-11-20T05:04:00Z"},
    ]
    aws.s3.put_object(
        Bucket=BUCKET,
        Key="raw/x/year=2026/month=11/day=20/hour=05/f.json.gz",
        Body=gzip.compress(json_lines(records)),
    )
    add_partition(aws, "raw_events", "05", location, JSON_SERDE)

    create_table(
        aws,
        "sensors_csv",
        [("sensor", "string"), ("lanes", "int")],
        CSV_SERDE,
        Parameters={"skip.header.line.count": "1", "classification": "csv"},
    )
    aws.s3.put_object(Bucket=BUCKET, Key="csv/h5/s.csv", Body=b"sensor,lanes\n1065,3\n1066,\n")
    add_partition(aws, "sensors_csv", "05", f"s3://{BUCKET}/csv/h5/", CSV_SERDE)

    execution = run(
        aws,
        "SELECT e.uniqueid, e.recordtimestamp, e.currentspeed, s.lanes FROM raw_events e "
        "JOIN sensors_csv s ON s.sensor = e.uniqueid ORDER BY e.uniqueid",
    )
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    assert rows_of(aws, execution["QueryExecutionId"]) == [
        ["uniqueid", "recordtimestamp", "currentspeed", "lanes"],
        ["1065", "2026-11-20T05:03:00+01:00", "87", "3"],
        ["1066", "2026-11-20T05:04:00Z", None, None],
    ]


def test_results_shape_pagination_and_csv_file(aws: Aws, traffic: dict[str, int]) -> None:
    execution = run(
        aws, "SELECT speed, CAST(speed AS double) / 2 AS half FROM traffic_events ORDER BY speed"
    )
    query_id = execution["QueryExecutionId"]
    first = aws.athena.get_query_results(QueryExecutionId=query_id, MaxResults=4)
    columns = first["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
    assert [(c["Name"], c["Type"]) for c in columns] == [("speed", "integer"), ("half", "double")]
    assert len(first["ResultSet"]["Rows"]) == 4 and "NextToken" in first
    second = aws.athena.get_query_results(
        QueryExecutionId=query_id, MaxResults=4, NextToken=first["NextToken"]
    )
    assert len(second["ResultSet"]["Rows"]) == 3 and "NextToken" not in second
    assert (
        execution["ResultConfiguration"]["OutputLocation"]
        == f"s3://{RESULTS_BUCKET}/athena/{query_id}.csv"
    )
    body = aws.s3.get_object(Bucket=RESULTS_BUCKET, Key=f"athena/{query_id}.csv")["Body"].read()
    assert body.decode().splitlines()[:2] == ['"speed","half"', '"0","0.0"']


def ctas(location: str, partitioned_by: str = "ARRAY['year', 'month', 'day', 'hour']") -> str:
    return (
        f"CREATE TABLE lake_dwd.speeds WITH (external_location = '{location}', format = 'PARQUET', "
        f"write_compression = 'SNAPPY', partitioned_by = {partitioned_by}) AS "
        "SELECT sensor_id, speed * 2 AS double_speed, year, month, day, hour FROM traffic_events "
        "WHERE hour IN ('05', '06')"
    )


def test_ctas_writes_partitioned_parquet_and_catalog(aws: Aws, traffic: dict[str, int]) -> None:
    location = f"s3://{BUCKET}/dwd/speeds/_runs/r1/chunk=0/"
    execution = run(aws, ctas(location))
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    assert execution["Statistics"]["DataScannedInBytes"] == traffic["05"] + traffic["06"]
    record = aws.engine.get_query(execution["QueryExecutionId"])
    assert record.rows_written == 4
    assert record.partitions_written == (("2026", "11", "20", "05"), ("2026", "11", "20", "06"))

    keys = [
        o["Key"] for o in aws.s3.list_objects_v2(Bucket=BUCKET, Prefix="dwd/speeds/")["Contents"]
    ]
    assert {k.rsplit("/", 1)[0] for k in keys} == {
        f"dwd/speeds/_runs/r1/chunk=0/year=2026/month=11/day=20/hour={h}" for h in ("05", "06")
    }
    table = aws.glue.get_table(DatabaseName=DATABASE, Name="speeds")["Table"]
    assert [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]] == [
        ("sensor_id", "string"),
        ("double_speed", "int"),
    ]
    assert [k["Name"] for k in table["PartitionKeys"]] == ["year", "month", "day", "hour"]
    assert table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"].endswith(
        "ParquetHiveSerDe"
    )
    partitions = aws.glue.get_partitions(DatabaseName=DATABASE, TableName="speeds")["Partitions"]
    assert sorted(p["StorageDescriptor"]["Location"] for p in partitions) == [
        f"{location}year=2026/month=11/day=20/hour={h}/" for h in ("05", "06")
    ]

    back = run(aws, "SELECT sum(double_speed) AS total FROM speeds WHERE hour = '06'")
    assert rows_of(aws, back["QueryExecutionId"]) == [["total"], ["90"]]


@pytest.mark.parametrize(
    ("setup", "sql", "message"),
    [
        ("existing_files", None, "HIVE_PATH_ALREADY_EXISTS"),
        ("existing_table", None, "TABLE_ALREADY_EXISTS"),
        (None, "ARRAY['hour', 'year', 'month', 'day']", "HIVE_COLUMN_ORDER_MISMATCH"),
    ],
)
def test_ctas_rules_fail_like_athena(
    aws: Aws, traffic: dict[str, int], setup: str | None, sql: str | None, message: str
) -> None:
    location = f"s3://{BUCKET}/dwd/speeds/_runs/r2/chunk=0/"
    if setup == "existing_files":
        aws.s3.put_object(Bucket=BUCKET, Key="dwd/speeds/_runs/r2/chunk=0/old.parquet", Body=b"x")
    if setup == "existing_table":
        assert run(aws, ctas(f"s3://{BUCKET}/elsewhere/"))["Status"]["State"] == "SUCCEEDED"
    statement = ctas(location, sql) if sql else ctas(location)
    execution = run(aws, statement)
    assert execution["Status"]["State"] == "FAILED"
    assert execution["Status"]["StateChangeReason"].startswith(message)
    assert execution["Status"]["AthenaError"]["ErrorMessage"].startswith(message)
    staged = aws.s3.list_objects_v2(Bucket=BUCKET, Prefix="dwd/speeds/_runs/r2/").get(
        "Contents", []
    )
    assert [o["Key"] for o in staged] == (
        ["dwd/speeds/_runs/r2/chunk=0/old.parquet"] if setup == "existing_files" else []
    )


def test_ctas_over_100_partitions_fails_without_writing(aws: Aws) -> None:
    aws.glue.create_database(DatabaseInput={"Name": DATABASE})
    location = f"s3://{BUCKET}/many/"
    execution = run(
        aws,
        f"CREATE TABLE many WITH (external_location = '{location}', "
        "partitioned_by = ARRAY['k']) AS "
        "SELECT n, CAST(n AS varchar) AS k FROM UNNEST(sequence(1, 101)) AS t(n)",
    )
    assert execution["Status"]["State"] == "FAILED"
    assert execution["Status"]["StateChangeReason"].startswith("HIVE_TOO_MANY_OPEN_PARTITIONS")
    assert "Contents" not in aws.s3.list_objects_v2(Bucket=BUCKET, Prefix="many/")
    with pytest.raises(aws.glue.exceptions.EntityNotFoundException):
        aws.glue.get_table(DatabaseName=DATABASE, Name="many")


def test_sql_errors_and_injected_faults_are_failed_queries(
    aws: Aws, traffic: dict[str, int]
) -> None:
    missing = run(aws, "SELECT no_such_column FROM traffic_events")
    assert missing["Status"]["State"] == "FAILED"
    assert "no_such_column" in missing["Status"]["StateChangeReason"]
    unknown = run(aws, "SELECT 1 FROM lake_dwd.nope")
    assert unknown["Status"]["StateChangeReason"] == (
        "TABLE_NOT_FOUND: Table 'awsdatacatalog.lake_dwd.nope' does not exist"
    )
    aws.engine.fail_queries_containing["speeds_model"] = "GENERIC_INTERNAL_ERROR: injected"
    injected = run(aws, "SELECT 1 AS speeds_model")
    assert injected["Status"]["State"] == "FAILED"
    assert injected["Status"]["StateChangeReason"] == "GENERIC_INTERNAL_ERROR: injected"
    with pytest.raises(botocore.exceptions.ClientError, match="did not finish successfully"):
        aws.athena.get_query_results(QueryExecutionId=injected["QueryExecutionId"])
    # the server still answers after failures
    assert run(aws, "SELECT 1")["Status"]["State"] == "SUCCEEDED"


def test_client_request_token_is_idempotent_and_batch_get(
    aws: Aws, traffic: dict[str, int]
) -> None:
    token = "t" * 32
    first = aws.athena.start_query_execution(
        QueryString="SELECT count(*) FROM traffic_events",
        WorkGroup=WORKGROUP,
        QueryExecutionContext={"Database": DATABASE},
        ClientRequestToken=token,
    )["QueryExecutionId"]
    again = aws.athena.start_query_execution(
        QueryString="SELECT count(*) FROM traffic_events",
        WorkGroup=WORKGROUP,
        QueryExecutionContext={"Database": DATABASE},
        ClientRequestToken=token,
    )["QueryExecutionId"]
    assert first == again
    assert sum(q.query_id == first for q in aws.engine.list_queries()) == 1
    aws.engine.wait(first)
    failed = run(aws, "SELEKT 1")["QueryExecutionId"]
    batch = aws.athena.batch_get_query_execution(QueryExecutionIds=[first, failed, "nope"])
    states = {q["QueryExecutionId"]: q["Status"]["State"] for q in batch["QueryExecutions"]}
    assert states == {first: "SUCCEEDED", failed: "FAILED"}
    assert [u["QueryExecutionId"] for u in batch["UnprocessedQueryExecutionIds"]] == ["nope"]


def test_drop_table_removes_catalog_entry_only(aws: Aws, traffic: dict[str, int]) -> None:
    assert run(aws, "DROP TABLE traffic_events")["Status"]["State"] == "SUCCEEDED"
    with pytest.raises(aws.glue.exceptions.EntityNotFoundException):
        aws.glue.get_table(DatabaseName=DATABASE, Name="traffic_events")
    assert aws.s3.list_objects_v2(Bucket=BUCKET, Prefix="dwd/traffic_events/")["KeyCount"] == 3
    assert run(aws, "DROP TABLE IF EXISTS traffic_events")["Status"]["State"] == "SUCCEEDED"
    shown = run(aws, "SHOW TABLES IN lake_dwd")
    assert rows_of(aws, shown["QueryExecutionId"]) == []


def test_a_partition_whose_folders_disagree_with_the_catalog_reads_the_catalogs_values(
    aws: Aws, traffic: dict[str, int]
) -> None:
    # A partition may point anywhere: here hour 07's files sit in a folder named hour=99.
    prefix = "dwd/traffic_events/_runs/run9/chunk=0/year=2026/month=11/day=20/hour=99/"
    aws.s3.put_object(
        Bucket=BUCKET,
        Key=prefix + "part-0.parquet",
        Body=parquet_bytes({"sensor_id": ["u"], "speed": [70]}),
    )
    add_partition(aws, "traffic_events", "07", f"s3://{BUCKET}/{prefix}", PARQUET_SERDE)

    execution = run(aws, "SELECT hour, count(*) FROM traffic_events GROUP BY hour ORDER BY hour")

    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    assert rows_of(aws, execution["QueryExecutionId"]) == [
        ["hour", "_col1"],  # Athena names an unnamed column by its position
        ["04", "2"],
        ["05", "2"],
        ["06", "2"],
        ["07", "1"],
    ]


class Recorder:
    def __init__(self, deny: str | None = None) -> None:
        self.requests: list[tuple[str, str, str, dict[str, str]]] = []
        self.deny = deny

    def __call__(self, principal: str, action: str, resource: str, context: Any) -> None:
        self.requests.append((principal, action, resource, dict(context)))
        if self.deny and self.deny in resource:
            raise PermissionError(f"{principal} may not {action} on {resource}")


def test_a_query_reads_and_writes_s3_as_its_caller(aws: Aws, traffic: dict[str, int]) -> None:
    aws.engine.authorize = recorder = Recorder()

    execution = run(aws, "SELECT count(*) AS n FROM traffic_events WHERE hour = '05'")

    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    caller = "arn:aws:iam::123456789012:root"  # moto's default account, as the engine's default
    location = "dwd/traffic_events/_runs/run1/chunk=0/year=2026/month=11/day=20/hour=05/"
    glue = "arn:aws:glue:eu-west-1:123456789012"
    table = ("catalog", f"database/{DATABASE}", f"table/{DATABASE}/traffic_events")
    # The catalog too is read with the caller's permissions, on the catalog, the database and
    # the table ("Fine-grained access ... in the AWS Glue Data Catalog", Athena User Guide).
    assert [r for r in recorder.requests if r[1].startswith("glue:")] == [
        *((caller, "glue:GetTable", f"{glue}:{resource}", {}) for resource in table),
        *((caller, "glue:GetPartitions", f"{glue}:{resource}", {}) for resource in table),
    ]
    assert [r for r in recorder.requests if r[1].startswith("s3:")] == [
        (caller, "s3:ListBucket", f"arn:aws:s3:::{BUCKET}", {"s3:prefix": location}),
        (caller, "s3:GetObject", f"arn:aws:s3:::{BUCKET}/{location}part-0.parquet", {}),
        (
            caller,
            "s3:PutObject",
            f"arn:aws:s3:::{RESULTS_BUCKET}/athena/{execution['QueryExecutionId']}.csv",
            {},
        ),
    ]


@pytest.mark.parametrize(
    "denied_resource",
    ["hour=06/part-0.parquet", "dwd/copy/year=2026/month=11/day=20/hour=06/"],
    ids=["a source file", "an output file"],
)
def test_a_denied_s3_access_fails_the_query_and_writes_nothing(
    aws: Aws, traffic: dict[str, int], denied_resource: str
) -> None:
    aws.engine.authorize = Recorder(deny=denied_resource)
    location = f"s3://{BUCKET}/dwd/copy/"

    denied = run(aws, ctas(location))

    assert denied["Status"]["State"] == "FAILED"
    assert denied["Status"]["StateChangeReason"].startswith("Permission denied on S3 path: ")
    assert denied_resource in denied["Status"]["StateChangeReason"]
    assert aws.s3.list_objects_v2(Bucket=BUCKET, Prefix="dwd/copy/")["KeyCount"] == 0
    assert "speeds" not in [
        t["Name"] for t in aws.glue.get_tables(DatabaseName=DATABASE)["TableList"]
    ]


@pytest.mark.parametrize("first_has_every_column", [True, False])
def test_files_without_a_column_read_null_for_it(aws: Aws, first_has_every_column: bool) -> None:
    # A column added to the table later: older files lack it.
    aws.glue.create_database(DatabaseInput={"Name": DATABASE})
    create_table(aws, "evolving", [("sensor_id", "string"), ("speed", "int")], PARQUET_SERDE)
    bodies = {
        "04": parquet_bytes({"sensor_id": ["old"]}),
        "05": parquet_bytes({"sensor_id": ["new"], "speed": [90]}),
        "06": parquet_bytes({"sensor_id": ["late"]}),
    }
    if first_has_every_column:
        bodies["04"] = parquet_bytes({"sensor_id": ["old"], "speed": [None]})
    for hour, body in bodies.items():
        prefix = f"dwd/evolving/year=2026/month=11/day=20/hour={hour}/"
        aws.s3.put_object(Bucket=BUCKET, Key=prefix + "part-0.parquet", Body=body)
        add_partition(aws, "evolving", hour, f"s3://{BUCKET}/{prefix}", PARQUET_SERDE)

    execution = run(aws, "SELECT sensor_id, speed, hour FROM evolving ORDER BY hour")

    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    assert rows_of(aws, execution["QueryExecutionId"]) == [
        ["sensor_id", "speed", "hour"],
        ["old", None, "04"],
        ["new", "90", "05"],
        ["late", None, "06"],
    ]


# -- the workgroup's rules (etl_local.athena.workgroup) --------------------------------------

ENFORCING = "enforcing"
CUTOFF = 10_000_000  # Athena's smallest BytesScannedCutoffPerQuery (the API's minimum)


def create_workgroup(aws: Aws, name: str, *, enforced: bool, cutoff: int | None = None) -> None:
    configuration: dict[str, Any] = {
        "ResultConfiguration": {"OutputLocation": f"s3://{RESULTS_BUCKET}/{name}/"},
        "EnforceWorkGroupConfiguration": enforced,
    }
    if cutoff is not None:
        configuration["BytesScannedCutoffPerQuery"] = cutoff
    aws.athena.create_work_group(Name=name, Configuration=configuration)


def test_an_enforcing_workgroup_fails_a_ctas_that_sets_external_location(
    aws: Aws, traffic: dict[str, int]
) -> None:
    create_workgroup(aws, ENFORCING, enforced=True)

    rejected = run(aws, ctas(f"s3://{BUCKET}/dwd/speeds/r1/"), workgroup=ENFORCING)

    assert rejected["Status"]["State"] == "FAILED"
    assert rejected["Status"]["StateChangeReason"].startswith(
        "INVALID_TABLE_PROPERTY: external_location cannot be specified"
    )
    assert aws.s3.list_objects_v2(Bucket=BUCKET, Prefix="dwd/speeds/")["KeyCount"] == 0
    with pytest.raises(aws.glue.exceptions.EntityNotFoundException):
        aws.glue.get_table(DatabaseName=DATABASE, Name="speeds")
    # The same statement is accepted where the workgroup does not enforce its configuration.
    assert run(aws, ctas(f"s3://{BUCKET}/dwd/speeds/r1/"))["Status"]["State"] == "SUCCEEDED"


def test_an_enforcing_workgroup_writes_a_ctas_under_its_own_location(
    aws: Aws, traffic: dict[str, int]
) -> None:
    create_workgroup(aws, ENFORCING, enforced=True)

    execution = run(
        aws,
        "CREATE TABLE lake_dwd.speeds WITH (format = 'PARQUET') AS "
        "SELECT sensor_id, speed FROM traffic_events",
        workgroup=ENFORCING,
        ResultConfiguration={"OutputLocation": f"s3://{BUCKET}/client/"},
    )

    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    table = aws.glue.get_table(DatabaseName=DATABASE, Name="speeds")["Table"]
    query_id = execution["QueryExecutionId"]
    assert table["StorageDescriptor"]["Location"] == (
        f"s3://{RESULTS_BUCKET}/{ENFORCING}/tables/{query_id}/"
    )


@pytest.mark.parametrize(
    ("enforced", "client_location", "expected_folder"),
    [
        (True, f"s3://{BUCKET}/client/", f"s3://{RESULTS_BUCKET}/wg2/"),
        (False, f"s3://{BUCKET}/client/", f"s3://{BUCKET}/client/"),
        (False, None, f"s3://{RESULTS_BUCKET}/wg2/"),
        (True, None, f"s3://{RESULTS_BUCKET}/wg2/"),
    ],
)
def test_results_go_where_the_workgroup_says(
    aws: Aws, enforced: bool, client_location: str | None, expected_folder: str
) -> None:
    aws.glue.create_database(DatabaseInput={"Name": DATABASE})
    create_workgroup(aws, "wg2", enforced=enforced)
    extra: dict[str, Any] = (
        {"ResultConfiguration": {"OutputLocation": client_location}} if client_location else {}
    )

    execution = run(aws, "SELECT 1 AS one", workgroup="wg2", **extra)

    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    location = execution["ResultConfiguration"]["OutputLocation"]
    assert location == f"{expected_folder}{execution['QueryExecutionId']}.csv"
    bucket, _, key = location.removeprefix("s3://").partition("/")
    assert aws.s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b'"one"\n"1"\n'


def test_a_query_without_any_results_location_is_rejected(aws: Aws) -> None:
    aws.athena.create_work_group(
        Name="bare", Configuration={"EnforceWorkGroupConfiguration": False}
    )
    with pytest.raises(botocore.exceptions.ClientError, match="No output location provided"):
        aws.athena.start_query_execution(QueryString="SELECT 1", WorkGroup="bare")


@pytest.fixture
def big_table(aws: Aws) -> int:
    """A table whose one file is larger than the smallest cutoff; the file's size."""
    aws.glue.create_database(DatabaseInput={"Name": DATABASE})
    create_table(aws, "big", [("n", "bigint")], PARQUET_SERDE)
    count = CUTOFF // 8 + 1000  # random int64s: Parquet cannot compress them
    values = pa.Array.from_buffers(
        pa.int64(), count, [None, pa.py_buffer(random.Random(7).randbytes(8 * count))]
    )
    buffer = pa.BufferOutputStream()
    pq.write_table(pa.table({"n": values}), buffer, compression="NONE")
    body = buffer.getvalue().to_pybytes()
    prefix = "dwd/big/year=2026/month=11/day=20/hour=05/"
    aws.s3.put_object(Bucket=BUCKET, Key=prefix + "part-0.parquet", Body=body)
    add_partition(aws, "big", "05", f"s3://{BUCKET}/{prefix}", PARQUET_SERDE)
    assert len(body) > CUTOFF
    return len(body)


@pytest.mark.parametrize("enforced", [True, False])
def test_the_bytes_scanned_cutoff_cancels_a_query_that_scans_more(
    aws: Aws, big_table: int, enforced: bool
) -> None:
    create_workgroup(aws, "capped", enforced=enforced, cutoff=CUTOFF)

    over = run(aws, "SELECT count(*) AS n FROM big", workgroup="capped")
    over_ctas = run(
        aws, "CREATE TABLE lake_dwd.copy AS SELECT n, hour FROM big", workgroup="capped"
    )
    under = run(aws, "SELECT count(*) AS n FROM big WHERE hour = '06'", workgroup="capped")

    for cancelled in (over, over_ctas):
        assert cancelled["Status"]["State"] == "CANCELLED"
        assert cancelled["Status"]["StateChangeReason"] == "Bytes scanned limit was exceeded"
    with pytest.raises(aws.glue.exceptions.EntityNotFoundException):
        aws.glue.get_table(DatabaseName=DATABASE, Name="copy")
    assert under["Status"]["State"] == "SUCCEEDED", under["Status"]
    # Without a cutoff the same query runs.
    unlimited = run(aws, "SELECT count(*) AS n FROM big")
    assert unlimited["Status"]["State"] == "SUCCEEDED", unlimited["Status"]
    assert unlimited["Statistics"]["DataScannedInBytes"] == big_table


class DenyAction(Recorder):
    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action

    def __call__(self, principal: str, action: str, resource: str, context: Any) -> None:
        super().__call__(principal, action, resource, context)
        if action == self.action:
            raise PermissionError(
                f"User: {principal} is not authorized to perform: {action} on resource: {resource}"
            )


def test_a_ctas_without_batch_create_partition_fails_naming_the_action(
    aws: Aws, traffic: dict[str, int]
) -> None:
    aws.engine.authorize = DenyAction("glue:BatchCreatePartition")

    denied = run(aws, ctas(f"s3://{BUCKET}/dwd/denied/"))

    reason = denied["Status"]["StateChangeReason"]
    assert denied["Status"]["State"] == "FAILED"
    assert reason.startswith("Insufficient permissions to execute the query. User: ")
    assert "is not authorized to perform: glue:BatchCreatePartition on resource: " in reason
    assert "Error Code: AccessDeniedException" in reason


def test_a_query_does_not_wait_behind_a_running_one(aws: Aws, traffic: dict[str, int]) -> None:
    """Athena runs a workgroup's queries side by side: a short query started while a long one
    runs ends first. The long one is held in its binding (its first authorization)."""
    engine = aws.engine
    holding, release = threading.Event(), threading.Event()
    slow_principal = "arn:aws:iam::123456789012:role/slow"
    authorize = engine.authorize

    def held(principal: str, action: str, resource: str, context: Mapping[str, str]) -> None:
        if principal == slow_principal:
            holding.set()
            release.wait(30)
        authorize(principal, action, resource, context)

    engine.authorize = held
    start = {"account_id": "123456789012", "region": "eu-west-1", "database": DATABASE}
    try:
        slow = engine.start_query(
            "SELECT count(*) FROM traffic_events", principal=slow_principal, **start
        )
        assert holding.wait(10)
        quick = engine.start_query("SELECT count(*) FROM traffic_events", **start)
        assert engine.wait(quick, timeout_seconds=10).state == "SUCCEEDED"
        assert engine.get_query(slow).state == "RUNNING"
        engine.stop_query(quick)  # a stop for an ended query changes nothing
    finally:
        release.set()
        engine.authorize = authorize
    assert engine.wait(slow, timeout_seconds=10).state == "SUCCEEDED"
