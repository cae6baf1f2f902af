"""Step `run-cost`: what the run cost, from what AWS reports about it (etl_lambdas.run_cost).

Runs after Finish on the success path; the notification and the execution's output carry
its document. Its own invocation and the states after it are not in the history yet: the
event says how many states follow, and the handler counts its own duration so far."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from etl_lambdas.aws import client, throttling_as_retryable
from etl_lambdas.config import step_environment
from etl_lambdas.events import RunCostEvent
from etl_lambdas.run_cost import Invocation, measure

step_environment("run-cost")  # declares none; the region comes with the execution's ARN

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    began = time.monotonic()
    request = RunCostEvent.parse(event)
    with throttling_as_retryable():
        document = measure(
            client,
            request.execution_arn,
            transitions_after=request.transitions_after,
            running=lambda: [Invocation(context.invoked_function_arn, time.monotonic() - began)],
        )
    logger.info("run cost measured", extra={"total_usd": document["total_usd"]})
    return document
