"""Athena SQL through the Athena API, as a client runs it: start, wait, page the results.

What `etl query` does, against the local runtime's endpoint or a deployed workgroup alike
(etl_local.runtime, `etl --env`); the query's own statistics say what it scanned.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

_QUERY_TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")


class QueryError(Exception):
    """An Athena query ended FAILED or CANCELLED; the message is Athena's reason."""

    def __init__(self, state: str, reason: str, query_execution_id: str) -> None:
        super().__init__(reason)
        self.state = state
        self.reason = reason
        self.query_execution_id = query_execution_id


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    query_execution_id: str = ""
    bytes_scanned: int = 0


def run_query(
    athena: Any,
    sql: str,
    *,
    workgroup: str,
    database: str | None = None,
    timeout: float = 300,
    poll_seconds: float = 0.05,
) -> QueryResult:
    """Run `sql` in `workgroup`; QueryError (Athena's reason) if it does not succeed. A query
    still running after `timeout` seconds (or interrupted) is stopped."""
    request: dict[str, Any] = {"QueryString": sql, "WorkGroup": workgroup}
    if database:
        request["QueryExecutionContext"] = {"Database": database}
    query_id = athena.start_query_execution(**request)["QueryExecutionId"]
    try:
        execution = _wait_for_query(athena, query_id, timeout, poll_seconds)
    except KeyboardInterrupt:
        athena.stop_query_execution(QueryExecutionId=query_id)
        raise
    status = execution["Status"]
    if status["State"] != "SUCCEEDED":
        raise QueryError(status["State"], status.get("StateChangeReason", ""), query_id)
    columns, rows = _results(athena, query_id)
    scanned = int(execution.get("Statistics", {}).get("DataScannedInBytes", 0) or 0)
    return QueryResult(columns, rows, query_id, scanned)


def _results(athena: Any, query_id: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    columns: list[str] = []
    types: list[str] = []
    rows: list[tuple[Any, ...]] = []
    first_page = True
    for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id):
        result_set = page["ResultSet"]
        if first_page:
            info = result_set.get("ResultSetMetadata", {}).get("ColumnInfo", [])
            columns = [c["Name"] for c in info]
            types = [c.get("Type", "varchar") for c in info]
        page_rows = result_set.get("Rows", [])
        # Athena repeats the header as the first row of a SELECT's first page.
        if first_page and page_rows and columns and _cells(page_rows[0]) == columns:
            page_rows = page_rows[1:]
        rows.extend(
            tuple(_typed(value, kind) for value, kind in zip(_cells(row), types, strict=False))
            for row in page_rows
        )
        first_page = False
    return columns, rows


def _cells(row: dict[str, Any]) -> list[str | None]:
    return [cell.get("VarCharValue") for cell in row.get("Data", [])]


_INTEGER_TYPES = {"tinyint", "smallint", "integer", "int", "bigint"}
_FLOAT_TYPES = {"double", "float", "real"}


def _typed(value: str | None, kind: str) -> Any:
    """Athena returns every value as text; give numbers and booleans their Python type."""
    if value is None:
        return None
    kind = kind.lower()
    try:
        if kind in _INTEGER_TYPES:
            return int(value)
        if kind in _FLOAT_TYPES:
            return float(value)
    except ValueError:
        return value
    if kind == "boolean":
        return value.lower() == "true"
    return value


def _wait_for_query(
    athena: Any, query_id: str, timeout: float, poll_seconds: float
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        execution: dict[str, Any] = athena.get_query_execution(QueryExecutionId=query_id)[
            "QueryExecution"
        ]
        if execution["Status"]["State"] in _QUERY_TERMINAL:
            return execution
        if time.monotonic() > deadline:
            athena.stop_query_execution(QueryExecutionId=query_id)
            raise QueryError("CANCELLED", f"no result after {timeout:.0f} s", query_id)
        time.sleep(poll_seconds)
