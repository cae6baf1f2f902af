"""Trino as the oracle for the local Athena: the same statement on both, the answers compared.

The local Athena runs a statement as the pipeline runs it (a CTAS through the Athena API
into the staging database); Trino answers the statement's SELECT over the same Glue catalog
and S3 objects (its Hive connector on the local AWS endpoint), and then reads the table the
local CTAS wrote. Both answers are therefore in Trino's types and values: what Athena would
show a reader of the table the local pipeline published. A difference names the statement,
the row (by its key columns) and both values.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import math
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from etl_lambdas.catalog import Model
from etl_lambdas.naming import database, staging_table, tier_databases
from etl_lambdas.publishing import Publisher
from etl_lambdas.sources import Source
from etl_lambdas.staging import ctas
from etl_local.athena.hive import parquet_storage_descriptor
from etl_local.event_time import event_instant
from etl_local.trino import Column, TrinoClient, TrinoQueryError, TrinoResult

REGION = "eu-west-1"
GLUE_PREFIX = "lake"
CURATED_BUCKET = "lake-curated"
RESULTS_BUCKET = "lake-results"
WORKGROUP = "primary"
STAGING = database(GLUE_PREFIX, "staging")
DATABASES = tier_databases(GLUE_PREFIX)

# Hive DDL types of sql/sources.yaml as the Glue job writes them to Parquet.
_ARROW_TYPES = {
    "boolean": pa.bool_(), "tinyint": pa.int8(), "smallint": pa.int16(), "int": pa.int32(),
    "bigint": pa.int64(), "float": pa.float32(), "double": pa.float64(), "string": pa.string(),
    "date": pa.date32(), "timestamp": pa.timestamp("ms"), "binary": pa.binary(),
}  # fmt: skip


def _with_event_instant(source: Source, row: dict[str, Any]) -> dict[str, Any]:
    """A raw ODS row with the typed event time the Glue job writes beside the raw one."""
    column = source.event_time.instant_column
    if column in row:
        return row
    return {**row, column: event_instant(row.get(source.event_time.column), source.event_time)}


class Difference(AssertionError):
    """The local Athena answered otherwise than Trino (or failed where Trino did not)."""


@dataclass(frozen=True)
class LocalOutcome:
    state: str
    reason: str | None
    query_id: str


@dataclass(frozen=True)
class Answer:
    """One engine's answer: a result, or the error that failed the statement."""

    result: TrinoResult | None
    error: str | None = None


def _normal_type(trino_type: str) -> str:
    """Types that are one type to a reader: varchar(n) is varchar; a timestamp's precision is
    the table's (Athena's CTAS stores milliseconds)."""
    trino_type = trino_type.replace(" ", "")  # DESCRIBE writes decimal(11, 1)
    if re.fullmatch(r"varchar\(\d+\)", trino_type):
        return "varchar"
    if re.fullmatch(r"timestamp\(\d+\)", trino_type):
        return "timestamp"
    return trino_type


def _normal_value(value: Any, trino_type: str) -> Any:
    """A value comparable across the two answers (both are Trino's JSON encoding)."""
    if value is None:
        return None
    kind = _normal_type(trino_type)
    if kind in ("double", "real"):
        return float(value)  # "NaN", "Infinity" included
    if kind == "timestamp":
        text = str(value)
        stamp = dt.datetime.fromisoformat(text[:26] if "." in text else text)
        # Athena's CTAS keeps milliseconds (timestamp(3)).
        return stamp.replace(microsecond=round(stamp.microsecond / 1000) * 1000 % 1_000_000)
    if kind.startswith("decimal"):
        return Decimal(str(value))
    return value


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, float) and isinstance(actual, float):
        if math.isnan(expected) or math.isnan(actual):
            return math.isnan(expected) and math.isnan(actual)
        # Floating-point sums depend on the order rows are added in (Trino's too).
        return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-12)
    return bool(expected == actual) and type(expected) is type(actual)


def _sort_key(row: Sequence[Any]) -> tuple[Any, ...]:
    def key(value: Any) -> tuple[int, str]:
        if value is None:
            return (0, "")
        if isinstance(value, float):
            return (1, f"{value:.9g}")
        return (1, repr(value))

    return tuple(key(v) for v in row)


REFUSED = "refused"
AGREE = "agree"


def compare(
    statement: str,
    expected: Answer,
    actual: Answer,
    keys: Sequence[str] = (),
) -> str:
    """AGREE, or REFUSED when the local Athena refused the statement (NOT_SUPPORTED) where
    Trino answers it; raise Difference naming the statement, the row and both values when
    they differ."""
    if expected.error is not None or actual.error is not None:
        if expected.error is not None and actual.error is not None:
            return AGREE  # both fail (the local engine may say it in its own words)
        if actual.error is not None and actual.error.startswith("NOT_SUPPORTED"):
            return REFUSED
        if expected.error is not None:
            shown = _rows_text(actual.result) if actual.result else "?"
            raise Difference(
                f"{statement}: Trino fails ({expected.error}); the local Athena answered {shown}"
            )
        raise Difference(f"{statement}: the local Athena fails ({actual.error}); Trino answers")
    assert expected.result is not None and actual.result is not None
    # A table's column names are Glue's: lower case.
    want_columns = [(c.name.lower(), _normal_type(c.type)) for c in expected.result.columns]
    got_columns = [(c.name.lower(), _normal_type(c.type)) for c in actual.result.columns]
    if want_columns != got_columns:
        raise Difference(f"{statement}: columns differ: Trino {want_columns}, local {got_columns}")
    types = [c.type for c in expected.result.columns]
    names = [c.name.lower() for c in expected.result.columns]
    want = [
        [_normal_value(v, t) for v, t in zip(r, types, strict=True)] for r in expected.result.rows
    ]
    got = [[_normal_value(v, t) for v, t in zip(r, types, strict=True)] for r in actual.result.rows]
    if len(want) != len(got):
        _raise_row_sets(statement, names, want, got)
    key_positions = [names.index(k) for k in keys if k in names]
    order = (lambda r: _sort_key([r[i] for i in key_positions] + r)) if key_positions else _sort_key
    for index, (w, g) in enumerate(
        zip(sorted(want, key=order), sorted(got, key=order), strict=True)
    ):
        columns = [n for n, a, b in zip(names, w, g, strict=True) if not _same(a, b)]
        if columns:
            if key_positions and [w[i] for i in key_positions] != [g[i] for i in key_positions]:
                _raise_row_sets(statement, names, want, got)
            identity = (
                ", ".join(f"{names[i]}={w[i]!r}" for i in key_positions)
                if key_positions
                else f"row {index + 1} of {len(want)} (sorted)"
            )
            details = "; ".join(
                f"{c}: Trino {w[names.index(c)]!r}, local {g[names.index(c)]!r}" for c in columns
            )
            raise Difference(f"{statement}: row {identity} differs: {details}")
    return AGREE


def _raise_row_sets(
    statement: str, names: list[str], want: list[list[Any]], got: list[list[Any]]
) -> None:
    want_count = Counter(tuple(_sort_key(r)) for r in want)
    got_count = Counter(tuple(_sort_key(r)) for r in got)
    only_trino = [
        r for r in want if want_count[tuple(_sort_key(r))] > got_count[tuple(_sort_key(r))]
    ]
    only_local = [
        r for r in got if got_count[tuple(_sort_key(r))] > want_count[tuple(_sort_key(r))]
    ]
    raise Difference(
        f"{statement}: {len(want)} rows from Trino, {len(got)} locally; columns {names}\n"
        f"  only from Trino ({len(only_trino)}): {only_trino[:5]}\n"
        f"  only locally ({len(only_local)}): {only_local[:5]}"
    )


def _rows_text(result: TrinoResult) -> str:
    return f"{result.rows[:3]}" + (" ..." if len(result.rows) > 3 else "")


class Lake:
    """The local AWS of one test module, seen through boto3 (the local Athena) and Trino."""

    def __init__(self, s3: Any, glue: Any, athena: Any, trino: TrinoClient) -> None:
        self.s3 = s3
        self.glue = glue
        self.athena = athena
        self.trino = trino
        self._names = itertools.count()

    def create_buckets_and_databases(self) -> None:
        for bucket in (CURATED_BUCKET, RESULTS_BUCKET):
            self.s3.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
            )
        for name in [*DATABASES.values(), STAGING]:
            self.glue.create_database(DatabaseInput={"Name": name})
        self.athena.create_work_group(
            Name="oracle",
            Configuration={
                "ResultConfiguration": {"OutputLocation": f"s3://{RESULTS_BUCKET}/athena/"},
                "EnforceWorkGroupConfiguration": False,
            },
        )

    # -- inputs ---------------------------------------------------------------------------
    def load_source(self, source: Source, rows: Iterable[dict[str, Any]]) -> None:
        """The source's ODS table as the Glue job and Register leave it: Parquet files per
        arrival partition, the table and its partitions in the catalog."""
        ods = DATABASES["ods_database"]
        columns = [(c.name, c.type) for c in source.ods_columns]
        rows = [_with_event_instant(source, row) for row in rows]
        location = f"s3://{CURATED_BUCKET}/{source.ods_prefix}"
        descriptor = parquet_storage_descriptor(
            [{"Name": n, "Type": t} for n, t in columns], location
        )
        self.glue.create_table(
            DatabaseName=ods,
            TableInput={
                "Name": source.table,
                "TableType": "EXTERNAL_TABLE",
                "Parameters": {"classification": "parquet", "EXTERNAL": "TRUE"},
                "StorageDescriptor": descriptor,
                "PartitionKeys": [{"Name": k, "Type": "string"} for k in source.partition_keys],
            },
        )
        by_partition: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in rows:
            values = tuple(row[k] for k in source.partition_keys)
            by_partition.setdefault(values, []).append(row)
        schema = pa.schema([(n, _ARROW_TYPES[t]) for n, t in columns])
        partitions = []
        for values, group in sorted(by_partition.items()):
            folder = "/".join(
                f"{k}={v}" for k, v in zip(source.partition_keys, values, strict=True)
            )
            body = io.BytesIO()
            table = pa.Table.from_pylist([{n: r.get(n) for n, _ in columns} for r in group], schema)
            pq.write_table(table, body)
            key = f"{source.ods_prefix}{folder}/part-00000.snappy.parquet"
            self.s3.put_object(Bucket=CURATED_BUCKET, Key=key, Body=body.getvalue())
            partitions.append(
                {
                    "Values": list(values),
                    "StorageDescriptor": {**descriptor, "Location": f"{location}{folder}/"},
                }
            )
        for start in range(0, len(partitions), 100):
            self.glue.batch_create_partition(
                DatabaseName=ods,
                TableName=source.table,
                PartitionInputList=partitions[start : start + 100],
            )

    # -- the two engines ------------------------------------------------------------------
    def local(self, sql: str, timeout_seconds: float = 120.0) -> LocalOutcome:
        """Run a statement on the local Athena through the API, as a step does; its end."""
        query_id = self.athena.start_query_execution(
            QueryString=sql, WorkGroup="oracle", QueryExecutionContext={"Database": STAGING}
        )["QueryExecutionId"]
        deadline = time.monotonic() + timeout_seconds
        while True:
            status = self.athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"][
                "Status"
            ]
            if status["State"] not in ("QUEUED", "RUNNING"):
                return LocalOutcome(status["State"], status.get("StateChangeReason"), query_id)
            if time.monotonic() > deadline:
                raise TimeoutError(f"local query still {status['State']}: {sql[:200]}")
            time.sleep(0.01)

    def local_rows(self, query_id: str) -> list[list[str | None]]:
        pages = self.athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id)
        rows = [row for page in pages for row in page["ResultSet"]["Rows"]]
        return [[cell.get("VarCharValue") for cell in row["Data"]] for row in rows]

    def trino_answer(self, sql: str) -> Answer:
        try:
            return Answer(self.trino.execute(sql))
        except TrinoQueryError as error:
            return Answer(None, str(error))

    def read_with_trino(self, db: str, table: str) -> Answer:
        """The table as Trino reads it from the catalog (columns in its declared types)."""
        described = self.trino.execute(f'DESCRIBE "{db}"."{table}"')
        columns = [Column(row[0], row[1]) for row in described.rows]
        rows = self.trino.execute(f'SELECT * FROM "{db}"."{table}"')
        return Answer(TrinoResult(columns, rows.rows))

    def local_ctas(self, select: str, *, model: Model | None = None) -> tuple[Answer, str]:
        """The SELECT as the write step stages it (a CTAS of its own), read back by Trino;
        the answer and the staging table's name."""
        run_id = f"oracle{next(self._names)}"
        if model is None:
            table = f"probe__{run_id}__c0"
            location = f"s3://{CURATED_BUCKET}/probes/{run_id}/"
            statement = (
                f"CREATE TABLE {STAGING}.{table} WITH (external_location = '{location}', "
                f"format = 'PARQUET', write_compression = 'SNAPPY') AS\n{select}"
            )
        else:
            table = staging_table(model.name, run_id, 0)
            statement = ctas(
                model,
                select,
                run_id=run_id,
                chunk=0,
                glue_prefix=GLUE_PREFIX,
                bucket=CURATED_BUCKET,
            )
        outcome = self.local(statement)
        if outcome.state != "SUCCEEDED":
            return Answer(None, outcome.reason or outcome.state), table
        return self.read_with_trino(STAGING, table), table

    def publish(self, model: Model, staged_table: str) -> None:
        """Make the staged chunk the model's table, as the publish step does."""
        publisher = Publisher(self.glue, self.s3, glue_prefix=GLUE_PREFIX, bucket=CURATED_BUCKET)
        staging = self.glue.get_table(DatabaseName=STAGING, Name=staged_table)["Table"]
        db, _, _ = publisher.ensure_table(model.tier, model.name, staging)
        pages = self.glue.get_paginator("get_partitions").paginate(
            DatabaseName=STAGING, TableName=staged_table
        )
        partitions = [p for page in pages for p in page["Partitions"]]
        publisher.publish_partitions(db, model.name, partitions)
