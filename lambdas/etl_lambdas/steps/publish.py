"""Step `publish`: the staged partitions become the model table's partitions, then clean-up."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from etl_lambdas.aws import client
from etl_lambdas.catalog import load_catalog
from etl_lambdas.config import non_negative_int, step_environment
from etl_lambdas.events import PublishEvent
from etl_lambdas.publishing import Publisher

_ENV = step_environment("publish")
# Superseded runs kept per model for rollback; 0 keeps only what is published.
KEEP_RUNS = non_negative_int("KEEP_RUNS", _ENV["KEEP_RUNS"])

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = PublishEvent.parse(event, load_catalog())
    staged = request.staged
    publisher = Publisher(
        client("glue"),
        client("s3"),
        glue_prefix=_ENV["GLUE_DATABASE_PREFIX"],
        bucket=_ENV["CURATED_BUCKET"],
    )
    result = publisher.publish(
        staged.run_id,
        staged.model.tier,
        staged.model.name,
        staged.tables,
        KEEP_RUNS,
        parameters=request.fingerprints.partition_parameters(staged.run_id),
    )
    logger.info("published", extra=result)
    return result
