"""Step `query-state`: one verdict over any number of Athena queries (write's or audit's),
after watching them for up to the event's `settle_seconds` while they run; with
`stop_running`, the model gives up on them (it timed out waiting, or another of its queries
failed) and those still running are stopped."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from etl_lambdas.athena_states import query_states, settled_states, stop_running, verdict
from etl_lambdas.aws import client
from etl_lambdas.config import step_environment
from etl_lambdas.events import QueryStateEvent

step_environment("query-state")  # declares none; kept so every step reads its environment alike

logger = Logger()

# Left to the function after watching, of its timeout: its reply and log line.
REPLY_SECONDS = 2.0


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = QueryStateEvent.parse(event)
    athena = client("athena")
    remaining = context.get_remaining_time_in_millis() / 1000 - REPLY_SECONDS
    states, looks = settled_states(
        lambda: query_states(athena, request.query_ids),
        max(0.0, min(request.settle_seconds, remaining)),
    )
    result = verdict(states)
    if request.stop_running:
        result["stopped"] = stop_running(athena, states)
    result["queries"] = len(states)
    result["looks"] = looks
    result["data_scanned_bytes"] = sum(state["data_scanned_bytes"] for state in states.values())
    logger.info("query state", extra=result)
    return result
