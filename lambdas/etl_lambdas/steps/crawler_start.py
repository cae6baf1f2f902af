"""Step `crawler-start`: start the crawlers of the sources whose schema changed."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from etl_lambdas import crawling
from etl_lambdas.aws import client
from etl_lambdas.config import step_environment, string_map
from etl_lambdas.events import CrawlersEvent

SOURCE_CRAWLERS = string_map(
    "SOURCE_CRAWLERS", step_environment("crawler-start")["SOURCE_CRAWLERS"]
)

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = CrawlersEvent.parse(event, list(SOURCE_CRAWLERS.values()))
    glue = client("glue")
    # One already running (e.g. this step retried) counts as started.
    started = {name: crawling.start(glue, name) for name in request.crawlers}
    result = {
        "crawlers": request.crawlers,
        "already_running": [name for name, fresh in started.items() if not fresh],
    }
    logger.info("crawlers started", extra=result)
    return result
