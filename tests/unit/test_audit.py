"""Audit: the check SQL really runs (DuckDB via sqlglot) and judges; the handler on moto."""

from __future__ import annotations

from typing import Any

import boto3
import duckdb
import pytest
import sqlglot
from moto import mock_aws
from moto.athena.models import QueryResults, athena_backends
from moto.core import DEFAULT_ACCOUNT_ID

from etl_lambdas.catalog import Catalog
from etl_lambdas.checks import all_checks, audit_sql, evaluate
from etl_lambdas.errors import AuditFailed, InvalidRunRequest

RUN = "20261121t020000z_0123abcd"
COLUMNS = (
    "sensor_id VARCHAR, event_time VARCHAR, speed INTEGER, occupancy INTEGER, "
    "year VARCHAR, month VARCHAR, day VARCHAR, hour VARCHAR"
)
GOOD = [("s1", "t1", 80, 5, "2026", "03", "29", "01"), ("s2", "t1", 0, 0, "2026", "03", "29", "01")]


def _audit_on_duckdb(catalog: Catalog, chunks: list[list[tuple[Any, ...]]]) -> dict[str, Any]:
    model = catalog.get("events")
    connection = duckdb.connect()
    connection.execute("CREATE SCHEMA lake_staging")
    tables = []
    for index, rows in enumerate(chunks):
        table = f"events__{RUN}__c{index}"
        connection.execute(f"CREATE TABLE lake_staging.{table} ({COLUMNS})")
        if rows:
            connection.executemany(
                f"INSERT INTO lake_staging.{table} VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows
            )
        tables.append(table)
    sql = audit_sql(model, "lake_staging", tables)
    duck = sqlglot.transpile(sql, read="athena", write="duckdb")[0]
    cursor = connection.execute(duck)
    names = [d[0] for d in cursor.description]
    values = cursor.fetchone()
    assert values is not None
    row = dict(zip(names, values, strict=True))
    return {result["check"]: result for result in evaluate(model, row)}


def test_check_sql_is_athena_sql_with_one_column_per_check(catalog: Catalog) -> None:
    model = catalog.get("events")
    sql = audit_sql(model, "lake_staging", ["a", "b"])
    parsed = sqlglot.parse_one(sql, read="athena")
    assert parsed.find(sqlglot.exp.Union) is not None
    assert [c.name for c in all_checks(model)] == [
        "min_rows",
        "not_null(sensor_id)",
        "not_null(event_time)",
        "not_null(speed)",
        "range(speed)",
        "range(occupancy)",
        "unique(sensor_id, event_time, year, month, day, hour)",
    ]
    assert "count_if(occupancy < 0)" in sql  # open upper bound: no upper comparison


def test_clean_staged_data_passes_every_check(catalog: Catalog) -> None:
    results = _audit_on_duckdb(catalog, [GOOD, [("s1", "t2", 250, 100, "2026", "03", "29", "02")]])
    assert all(r["passed"] for r in results.values())
    assert results["min_rows"]["value"] == 3


def test_each_violation_is_counted(catalog: Catalog) -> None:
    bad = [
        (None, "t1", 80, 5, "2026", "03", "29", "01"),
        ("s1", "t1", None, 5, "2026", "03", "29", "01"),
        ("s1", "t1", 251, -1, "2026", "03", "29", "01"),
        ("s1", "t1", 80, 5, "2026", "03", "29", "01"),
        ("s1", "t1", 80, 5, "2026", "03", "29", "02"),  # same key, other partition: fine
    ]
    results = _audit_on_duckdb(catalog, [bad])
    assert results["not_null(sensor_id)"]["value"] == 1
    assert results["not_null(speed)"]["value"] == 1
    assert results["range(speed)"]["value"] == 1
    assert results["range(occupancy)"]["value"] == 1
    # s1/t1/hour 01 appears three times: two rows too many.
    assert results["unique(sensor_id, event_time, year, month, day, hour)"]["value"] == 2
    assert results["min_rows"]["passed"]


def test_duplicates_across_chunks_and_empty_runs_are_caught(catalog: Catalog) -> None:
    results = _audit_on_duckdb(catalog, [GOOD, GOOD[:1]])
    assert results["unique(sensor_id, event_time, year, month, day, hour)"]["value"] == 1
    empty = _audit_on_duckdb(catalog, [[]])
    assert empty["min_rows"] == {
        "check": "min_rows",
        "value": 0,
        "passed": False,
        "detail": "min_rows: 0 rows, at least 1 required",
    }


AUDIT_ENV = {
    "ATHENA_WORKGROUP": "lake-dev",
    "ATHENA_ENGINE_VERSION": "Athena engine version 3",
    "GLUE_DATABASE_PREFIX": "lake_dev",
    "PIPELINE_TIME_ZONE": "Europe/Brussels",
}
STAGED = {
    "run_id": RUN,
    "model": "events",
    "staging_tables": [f"events__{RUN}__c0"],
    "windows": [{"start_date": "2026-11-20", "end_date": "2026-11-20"}],
}


def test_audit_start_starts_one_query_per_attempt(load_step: Any, context: Any) -> None:
    audit_start = load_step("audit_start", **AUDIT_ENV)
    sent: list[dict[str, Any]] = []
    with mock_aws():
        athena = boto3.client("athena")
        athena.create_work_group(Name="lake-dev", Configuration={})
        athena.meta.events.register(
            "provide-client-params.athena.StartQueryExecution",
            lambda params, **_: sent.append(dict(params)),
        )
        audit_start.client = lambda service: athena
        first = audit_start.handler({**STAGED, "attempt": 1}, context)
        audit_start.handler({**STAGED, "attempt": 1}, context)
        second = audit_start.handler({**STAGED, "attempt": 2}, context)
    # A retried step reuses its attempt's token (Athena returns the same query); a new attempt
    # after a transient failure is a new query.
    assert sent[0]["ClientRequestToken"] == sent[1]["ClientRequestToken"]
    assert sent[2]["ClientRequestToken"] != sent[0]["ClientRequestToken"]
    assert first == {"query_execution_id": first["query_execution_id"], "attempt": 1}
    assert second["attempt"] == 2
    assert sent[0]["QueryExecutionContext"] == {"Database": "lake_dev_staging"}
    assert f"FROM lake_dev_staging.events__{RUN}__c0" in sent[0]["QueryString"]


def test_audit_start_refuses_another_runs_tables(load_step: Any, context: Any) -> None:
    audit_start = load_step("audit_start", **AUDIT_ENV)
    with pytest.raises(InvalidRunRequest, match="do not belong"):
        audit_start.handler(
            {**STAGED, "staging_tables": ["events__20200101t000000z_00000000__c0"], "attempt": 1},
            context,
        )


def _queue_result(values: list[int]) -> None:
    # moto's documented way to give get_query_results an answer (Athena itself is not emulated).
    backend = athena_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"]
    header = {"Data": [{"VarCharValue": f"c{i}"} for i in range(len(values))]}
    row = {"Data": [{"VarCharValue": str(v)} for v in values]}
    backend.query_results_queue.append(
        QueryResults(
            rows=[header, row],
            column_info=[{"Name": f"c{i}", "Type": "bigint"} for i in range(len(values))],
        )
    )


def _verdict(load_step: Any, context: Any, values: list[int]) -> dict[str, Any]:
    audit_verdict = load_step("audit_verdict")
    with mock_aws():
        athena = boto3.client("athena")
        athena.create_work_group(Name="lake-dev", Configuration={})
        query_id = athena.start_query_execution(QueryString="SELECT 1", WorkGroup="lake-dev")[
            "QueryExecutionId"
        ]
        _queue_result(values)
        return dict(
            audit_verdict.handler(
                {"run_id": RUN, "model": "events", "query_execution_id": query_id}, context
            )
        )


def test_audit_verdict_passes_and_returns_the_checks(load_step: Any, context: Any) -> None:
    result = _verdict(load_step, context, [12, 0, 0, 0, 0, 0, 0])
    assert result["rows"] == 12 and all(c["passed"] for c in result["checks"])


def test_audit_verdict_fails_naming_each_failed_check(load_step: Any, context: Any) -> None:
    with pytest.raises(AuditFailed) as raised:
        _verdict(load_step, context, [12, 3, 0, 0, 5, 0, 2])
    message = str(raised.value)
    assert "not_null(sensor_id): 3 violating rows" in message
    assert "range(speed): 5 violating rows" in message
    assert "unique(sensor_id, event_time, year, month, day, hour): 2 violating rows" in message
    assert "min_rows" not in message
