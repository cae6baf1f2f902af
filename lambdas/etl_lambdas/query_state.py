"""Step `query-state`: one verdict over any number of Athena queries."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aws_lambda_powertools import Logger

from etl_lambdas.aws import THROTTLING_CODES, client, throttling_as_retryable
from etl_lambdas.errors import InvalidRunRequest, Throttled

logger = Logger(service="etl")

# BatchGetQueryExecution accepts at most 50 ids per call.
BATCH_SIZE = 50
RUNNING, SUCCEEDED, FAILED, CANCELLED = "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"


def batches(items: list[str], size: int = BATCH_SIZE) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def verdict(states: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """FAILED beats CANCELLED beats RUNNING beats SUCCEEDED; names the first bad query."""
    for outcome in (FAILED, CANCELLED):
        for query_id, state in states.items():
            if state["state"] == outcome:
                return {"status": outcome, "failed_query_id": query_id, "reason": state["reason"]}
    if any(state["state"] in ("QUEUED", RUNNING) for state in states.values()):
        return {"status": RUNNING, "failed_query_id": None, "reason": None}
    return {"status": SUCCEEDED, "failed_query_id": None, "reason": None}


def query_states(query_ids: list[str]) -> dict[str, dict[str, Any]]:
    athena = client("athena")
    states: dict[str, dict[str, Any]] = {}
    for batch in batches(query_ids):
        with throttling_as_retryable():
            response = athena.batch_get_query_execution(QueryExecutionIds=batch)
        for execution in response.get("QueryExecutions", []):
            status = execution.get("Status", {})
            reason = status.get("AthenaError", {}).get("ErrorMessage") or status.get(
                "StateChangeReason"
            )
            states[execution["QueryExecutionId"]] = {
                "state": status.get("State", "QUEUED"),
                "reason": reason,
                "data_scanned_bytes": execution.get("Statistics", {}).get("DataScannedInBytes", 0),
            }
        for unprocessed in response.get("UnprocessedQueryExecutionIds", []):
            code = unprocessed.get("ErrorCode", "")
            if code in THROTTLING_CODES:
                raise Throttled(f"query {unprocessed['QueryExecutionId']}: {code}")
            # Unknown id or similar: that query can never succeed.
            states[unprocessed["QueryExecutionId"]] = {
                "state": FAILED,
                "reason": f"{code}: {unprocessed.get('ErrorMessage', '')}".strip(": "),
                "data_scanned_bytes": 0,
            }
    missing = [query_id for query_id in query_ids if query_id not in states]
    for query_id in missing:
        states[query_id] = {
            "state": FAILED,
            "reason": "query not returned by Athena",
            "data_scanned_bytes": 0,
        }
    return states


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Event: {"query_ids": [...]}."""
    query_ids = event.get("query_ids")
    if (
        not isinstance(query_ids, list)
        or not query_ids
        or not all(isinstance(q, str) and q for q in query_ids)
    ):
        raise InvalidRunRequest(f"query_ids {query_ids!r} must be a non-empty list of ids")
    states = query_states(list(dict.fromkeys(query_ids)))
    result = verdict(states)
    result["queries"] = len(states)
    result["data_scanned_bytes"] = sum(state["data_scanned_bytes"] for state in states.values())
    logger.info("query state", extra=result)
    return result
