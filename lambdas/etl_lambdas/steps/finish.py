"""Step `finish`: give the run lease back (success or failure); after a run of every model
succeeded, mark the change reports it restated as consumed."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from etl_lambdas.aws import client
from etl_lambdas.changes import consume
from etl_lambdas.config import step_environment
from etl_lambdas.events import FinishEvent
from etl_lambdas.lease import RunLease

_ENV = step_environment("finish")

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = FinishEvent.parse(event)
    # Consumed before the lease goes: a crash in between leaves the lease to expire, never
    # reports consumed by a run that another run could overlap.
    consumed = (
        consume(client("s3"), _ENV["ARTIFACTS_BUCKET"], request.reports) if request.consume else 0
    )
    released = RunLease(client("dynamodb"), _ENV["RUN_LEASE_TABLE"]).release(request.execution_arn)
    result = {
        "status": request.status,
        "run_id": request.run_id,
        "lease_released": released,
        "reports_consumed": consumed,
    }
    logger.info("run finished", extra=result)
    return result
