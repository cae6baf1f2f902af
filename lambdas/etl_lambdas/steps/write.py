"""Step `write`: one model's chunks as CTAS queries into the run's staging location."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from etl_lambdas.aws import client, throttling_as_retryable
from etl_lambdas.catalog import load_catalog, render_template
from etl_lambdas.config import step_environment, time_zone
from etl_lambdas.events import ModelRun
from etl_lambdas.fingerprints import of_model
from etl_lambdas.naming import database, staging_table, tier_databases
from etl_lambdas.planning import chunks, template_values
from etl_lambdas.staging import ctas, request_token

_ENV = step_environment("write")
GLUE_DATABASE_PREFIX = _ENV["GLUE_DATABASE_PREFIX"]
TIME_ZONE = time_zone("PIPELINE_TIME_ZONE", _ENV["PIPELINE_TIME_ZONE"])

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    catalog = load_catalog()
    work = ModelRun.parse(event, catalog)
    model = work.model
    template = catalog.sql(model)
    athena = client("athena")
    staging = database(GLUE_DATABASE_PREFIX, "staging")
    queries = []
    for chunk in chunks(work.windows, model.granularity):
        values = template_values(
            chunk,
            arrival_end_limit=work.arrival_end_limit,
            lookback_days=work.lookback_days,
            time_zone=TIME_ZONE,
            databases=tier_databases(GLUE_DATABASE_PREFIX),
        )
        sql = ctas(
            model,
            render_template(template, values),
            run_id=work.run_id,
            chunk=chunk.index,
            glue_prefix=GLUE_DATABASE_PREFIX,
            bucket=_ENV["CURATED_BUCKET"],
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
