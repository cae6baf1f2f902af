"""Step `crawler-state`: one verdict over the started crawlers."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from etl_lambdas import crawling
from etl_lambdas.aws import client
from etl_lambdas.config import step_environment, string_map
from etl_lambdas.events import CrawlersEvent

SOURCE_CRAWLERS = string_map(
    "SOURCE_CRAWLERS", step_environment("crawler-state")["SOURCE_CRAWLERS"]
)

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = CrawlersEvent.parse(event, list(SOURCE_CRAWLERS.values()))
    result = crawling.states(client("glue"), request.crawlers)
    logger.info("crawler states", extra=result)
    return result
