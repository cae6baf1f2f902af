"""Step `query-state`: one verdict over any number of Athena queries (write's or audit's)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from etl_lambdas.athena_states import query_states, verdict
from etl_lambdas.aws import client
from etl_lambdas.config import step_environment
from etl_lambdas.events import QueryStateEvent

step_environment("query-state")  # declares none; kept so every step reads its environment alike

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = QueryStateEvent.parse(event)
    states = query_states(client("athena"), request.query_ids)
    result = verdict(states)
    result["queries"] = len(states)
    result["data_scanned_bytes"] = sum(state["data_scanned_bytes"] for state in states.values())
    logger.info("query state", extra=result)
    return result
