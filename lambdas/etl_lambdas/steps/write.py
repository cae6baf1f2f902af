"""Step `write`: one model's chunks as CTAS queries into the run's staging location; a model
whose sources have no rows in the days it reads is skipped (etl_lambdas.inputs)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from etl_lambdas import inputs
from etl_lambdas.aws import client, throttling_as_retryable
from etl_lambdas.catalog import ENGINES, load_catalog, render_template
from etl_lambdas.config import step_environment, time_zone
from etl_lambdas.errors import ConfigurationError
from etl_lambdas.events import ModelRun
from etl_lambdas.fingerprints import of_model
from etl_lambdas.naming import database, staging_table, tier_databases
from etl_lambdas.planning import chunks, template_values
from etl_lambdas.staging import ctas, request_token

_ENV = step_environment("write")
GLUE_DATABASE_PREFIX = _ENV["GLUE_DATABASE_PREFIX"]
TIME_ZONE = time_zone("PIPELINE_TIME_ZONE", _ENV["PIPELINE_TIME_ZONE"])
# The workgroup's engine: the dialect of the models (as make build translated them) and CTAS.
ENGINE = _ENV["ATHENA_ENGINE_VERSION"]
if ENGINE not in ENGINES:
    raise ConfigurationError(f"ATHENA_ENGINE_VERSION={ENGINE!r} must be one of {list(ENGINES)}")

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    catalog = load_catalog()
    work = ModelRun.parse(event, catalog)
    model = work.model
    template = catalog.sql(model, ENGINE)
    athena = client("athena")
    staging = database(GLUE_DATABASE_PREFIX, "staging")
    databases = tier_databases(GLUE_DATABASE_PREFIX)
    planned = [
        (
            chunk,
            template_values(
                chunk,
                arrival_end_limit=work.arrival_end_limit,
                lookback_days=work.lookback_days,
                time_zone=TIME_ZONE,
                databases=databases,
            )
            | catalog.sources.time_zone_placeholders(),
        )
        for chunk in chunks(work.windows, model.granularity)
    ]
    skipped = inputs.skip_reason(
        client("glue"), inputs.reads(model, [values for _, values in planned], databases)
    )
    if skipped is not None:
        logger.info(
            "model skipped", extra={"run_id": work.run_id, "model": model.name, "reason": skipped}
        )
        return {
            "run_id": work.run_id,
            "model": model.name,
            "tier": model.tier,
            "table": f"{database(GLUE_DATABASE_PREFIX, model.tier)}.{model.name}",
            "skipped": skipped,
            "chunks": 0,
            "query_ids": [],
            "staging_tables": [],
        }
    queries = []
    for chunk, values in planned:
        sql = ctas(
            model,
            render_template(template, values),
            run_id=work.run_id,
            chunk=chunk.index,
            glue_prefix=GLUE_DATABASE_PREFIX,
            bucket=_ENV["CURATED_BUCKET"],
            engine=ENGINE,
        )
        with throttling_as_retryable():
            started = athena.start_query_execution(
                QueryString=sql,
                ClientRequestToken=request_token("write", work.run_id, model.name, chunk.index),
                QueryExecutionContext={"Database": staging},
                WorkGroup=_ENV["ATHENA_WORKGROUP"],
            )
        queries.append(
            {
                "chunk": chunk.index,
                "start_date": chunk.start_date.isoformat(),
                "end_date": chunk.end_date.isoformat(),
                "query_execution_id": started["QueryExecutionId"],
                "staging_table": staging_table(model.name, work.run_id, chunk.index),
            }
        )
    logger.info(
        "chunks started", extra={"run_id": work.run_id, "model": model.name, "queries": queries}
    )
    return {
        "run_id": work.run_id,
        "model": model.name,
        "tier": model.tier,
        "chunks": len(queries),
        "query_ids": [query["query_execution_id"] for query in queries],
        "staging_tables": [query["staging_table"] for query in queries],
        # What computed these rows; Publish records it on every partition it publishes.
        "fingerprints": of_model(catalog, model.name).as_dict(),
    }
