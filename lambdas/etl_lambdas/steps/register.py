"""Step `register`: every converted ODS partition the ledger names becomes a catalog
partition; a table whose columns differ from the declared ones in their types is given the
declared ones; the crawlers of sources whose table is missing or whose columns were renamed
or added are named to be run; what the run's conversion took in is reported per source."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from etl_lambdas import ledger
from etl_lambdas.aws import client
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
    sources = sorted(SOURCE_CRAWLERS)
    entries = ledger.read_entries(client("s3"), _ENV["CURATED_BUCKET"], sources)
    found = ledger.conversions(entries)
    registrar = OdsRegistrar(client("glue"), database(_ENV["GLUE_DATABASE_PREFIX"], "ods"))
    result = registrar.register(
        by_source(entries, found), SOURCE_CRAWLERS, crawl_allowed=request.crawl_allowed
    )
    # A declared source the job has never converted anything of, and that has no table yet.
    without_entries = [s for s in sources if s not in {e.source for e in entries}]
    result["waiting_for_data"] = sorted(
        {*result["waiting_for_data"], *registrar.missing_tables(without_entries)}
    )
    result["intake"] = ledger.intake(found, request.run_id, sources)
    result["ledger_entries"] = len(entries)
    logger.info("ods partitions registered", extra={"run_id": request.run_id, **result})
    for row in result["intake"]:
        if row["malformed_lines"]:
            logger.warning("malformed lines dropped", extra={"run_id": request.run_id, **row})
    if result["waiting_for_data"]:
        logger.info(
            "sources without data yet",
            extra={"run_id": request.run_id, "sources": result["waiting_for_data"]},
        )
    return result
