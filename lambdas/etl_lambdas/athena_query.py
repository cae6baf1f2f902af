"""Running one Athena query to its end inside a Lambda, within a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from etl_lambdas.aws import throttling_as_retryable
from etl_lambdas.errors import QueryFailed

_FIRST_POLL_SECONDS = 0.2
_MAX_POLL_SECONDS = 5.0


def run_query(
    athena: Any,
    sql: str,
    *,
    token: str,
    database: str,
    workgroup: str,
    seconds_left: Callable[[], float],
    sleep: Callable[[float], None] = time.sleep,
) -> list[dict[str, str | None]]:
    """Rows of a SELECT as dicts (strings, as Athena returns them); QueryFailed otherwise."""
    with throttling_as_retryable():
        query_id = athena.start_query_execution(
            QueryString=sql,
            ClientRequestToken=token,
            QueryExecutionContext={"Database": database},
            WorkGroup=workgroup,
        )["QueryExecutionId"]
    delay = _FIRST_POLL_SECONDS
    while True:
        with throttling_as_retryable():
            status = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"][
                "Status"
            ]
        state = status["State"]
        if state == "SUCCEEDED":
            break
        if state in ("FAILED", "CANCELLED"):
            reason = status.get("AthenaError", {}).get("ErrorMessage") or status.get(
                "StateChangeReason", ""
            )
            raise QueryFailed(f"query {query_id} {state}: {reason}")
        if seconds_left() < delay + 1:
            raise QueryFailed(f"query {query_id} still {state} when the step ran out of time")
        sleep(delay)
        delay = min(delay * 2, _MAX_POLL_SECONDS)
    return _rows(athena, query_id)


def _rows(athena: Any, query_id: str) -> list[dict[str, str | None]]:
    rows: list[dict[str, str | None]] = []
    header: list[str] | None = None
    with throttling_as_retryable():
        pages = athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id)
        for page in pages:
            for row in page["ResultSet"]["Rows"]:
                values = [cell.get("VarCharValue") for cell in row["Data"]]
                if header is None:
                    header = [str(value) for value in values]
                    continue
                rows.append(dict(zip(header, values, strict=False)))
    return rows
