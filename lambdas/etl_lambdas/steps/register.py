"""Step `register`: the ODS partitions the Glue job wrote become catalog partitions; the
crawlers of sources whose table is missing or whose schema changed are named to be run."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from etl_lambdas.aws import client
from etl_lambdas.changes import pending_reports
from etl_lambdas.config import step_environment, string_map
from etl_lambdas.events import RegisterEvent
from etl_lambdas.naming import database
from etl_lambdas.ods_catalog import OdsRegistrar, by_source

_ENV = step_environment("register")
SOURCE_CRAWLERS = string_map("SOURCE_CRAWLERS", _ENV["SOURCE_CRAWLERS"])

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = RegisterEvent.parse(event)
    reports = pending_reports(client("s3"), _ENV["ARTIFACTS_BUCKET"])
    registrar = OdsRegistrar(client("glue"), database(_ENV["GLUE_DATABASE_PREFIX"], "ods"))
    result = registrar.register(
        by_source(reports), SOURCE_CRAWLERS, crawl_allowed=request.crawl_allowed
    )
    result["reports"] = len(reports)
    logger.info("ods partitions registered", extra={"run_id": request.run_id, **result})
    return result
