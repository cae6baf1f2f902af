"""Athena query states (one verdict over many queries) and a finished query's rows.

The state machine polls (query-state -> Choice -> Wait -> query-state) instead of a Lambda
waiting for a query to end: a long query never hits a function's timeout, and every poll is
in the history. One poll may watch for a few seconds (`settled_states`), so that a query
that ends within them (a summary's CTAS, an audit: seconds on Athena) is seen ended without
a Wait of the machine's poll interval, and costs one poll instead of two.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from etl_lambdas.aws import THROTTLING_CODES, throttling_as_retryable
from etl_lambdas.errors import Throttled

# BatchGetQueryExecution accepts at most 50 ids per call.
BATCH_SIZE = 50
RUNNING, SUCCEEDED, FAILED, CANCELLED = "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"


def batches(items: list[str], size: int = BATCH_SIZE) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def verdict(states: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """FAILED beats CANCELLED beats RUNNING beats SUCCEEDED; names the first bad query and
    whether Athena says retrying it could succeed (AthenaError.Retryable)."""
    for outcome in (FAILED, CANCELLED):
        for query_id, state in states.items():
            if state["state"] == outcome:
                return {
                    "status": outcome,
                    "failed_query_id": query_id,
                    "reason": state["reason"],
                    "retryable": bool(state.get("retryable")),
                }
    if any(state["state"] in ("QUEUED", RUNNING) for state in states.values()):
        return {"status": RUNNING, "failed_query_id": None, "reason": None, "retryable": False}
    return {"status": SUCCEEDED, "failed_query_id": None, "reason": None, "retryable": False}


# How soon a watching poll looks again: soon at first, then less often, so that watching
# several models' queries stays far below Athena's API rate quotas ("Service Quotas",
# Athena User Guide: per-account calls per second).
FIRST_LOOK_SECONDS = 0.25
MAX_LOOK_SECONDS = 1.0

States = dict[str, dict[str, Any]]


def settled_states(
    look: Callable[[], States],
    seconds: float,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[States, int]:
    """Look at the queries until none runs or `seconds` have passed (0: one look); returns
    the last states and how many looks it took."""
    deadline = clock() + seconds
    delay = FIRST_LOOK_SECONDS
    states, looks = look(), 1
    while verdict(states)["status"] == RUNNING:
        remaining = deadline - clock()
        if remaining <= 0:
            break
        sleep(min(delay, remaining))
        states, looks = look(), looks + 1
        delay = min(delay * 2, MAX_LOOK_SECONDS)
    return states, looks


def query_states(athena: Any, query_ids: list[str]) -> States:
    states: dict[str, dict[str, Any]] = {}
    for batch in batches(query_ids):
        with throttling_as_retryable():
            response = athena.batch_get_query_execution(QueryExecutionIds=batch)
        for execution in response.get("QueryExecutions", []):
            status = execution.get("Status", {})
            error = status.get("AthenaError", {})
            states[execution["QueryExecutionId"]] = {
                "state": status.get("State", "QUEUED"),
                "reason": error.get("ErrorMessage") or status.get("StateChangeReason"),
                "retryable": bool(error.get("Retryable", False)),
                "data_scanned_bytes": execution.get("Statistics", {}).get("DataScannedInBytes", 0),
            }
        for unprocessed in response.get("UnprocessedQueryExecutionIds", []):
            code = unprocessed.get("ErrorCode", "")
            if code in THROTTLING_CODES:
                raise Throttled(f"query {unprocessed['QueryExecutionId']}: {code}")
            # Unknown id, or a workgroup the caller may not read: that query can never succeed.
            states[unprocessed["QueryExecutionId"]] = {
                "state": FAILED,
                "reason": f"{code}: {unprocessed.get('ErrorMessage', '')}".strip(": "),
                "retryable": False,
                "data_scanned_bytes": 0,
            }
    for query_id in query_ids:
        states.setdefault(
            query_id,
            {"state": FAILED, "reason": "query not returned by Athena", "retryable": False,
             "data_scanned_bytes": 0},
        )  # fmt: skip
    return states


def stop_running(athena: Any, states: States) -> list[str]:
    """Stop the queries still queued or running (the model gives up on them): Athena would
    otherwise run them to their end and bill the data they scan. Returns their ids.
    StopQueryExecution on a query that has just ended is accepted and changes nothing
    (Athena API Reference, StopQueryExecution)."""
    stopped = [
        query_id for query_id, state in states.items() if state["state"] in ("QUEUED", RUNNING)
    ]
    for query_id in stopped:
        with throttling_as_retryable():
            athena.stop_query_execution(QueryExecutionId=query_id)
    return stopped


def query_rows(athena: Any, query_id: str) -> list[dict[str, str | None]]:
    """Rows of a finished SELECT as dicts of strings (Athena's VarCharValue); the header row
    Athena returns first is used for the names."""
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
