"""Step `write`: one model's chunks as CTAS queries into the run's staging location."""

from __future__ import annotations

import hashlib
from typing import Any

from aws_lambda_powertools import Logger

from etl_lambdas.aws import client, throttling_as_retryable
from etl_lambdas.catalog import Catalog, Model, load_catalog, render_template
from etl_lambdas.config import read_environment, time_zone
from etl_lambdas.errors import InvalidRunRequest
from etl_lambdas.naming import chunk_prefix, database, staging_table, tier_databases
from etl_lambdas.planning import RUN_ID, Chunk, parse_chunks, template_values

_ENV = read_environment(
    "ATHENA_WORKGROUP", "GLUE_DATABASE_PREFIX", "CURATED_BUCKET", "PIPELINE_TIME_ZONE"
)
ATHENA_WORKGROUP = _ENV["ATHENA_WORKGROUP"]
GLUE_DATABASE_PREFIX = _ENV["GLUE_DATABASE_PREFIX"]
CURATED_BUCKET = _ENV["CURATED_BUCKET"]
TIME_ZONE = time_zone("PIPELINE_TIME_ZONE", _ENV["PIPELINE_TIME_ZONE"])

logger = Logger(service="etl")


def ctas(
    model: Model, select: str, *, run_id: str, chunk: int, glue_prefix: str, bucket: str
) -> str:
    """The CTAS that stages one chunk; its table lives in the staging database only."""
    location = f"s3://{bucket}/{chunk_prefix(model.tier, model.name, run_id, chunk)}"
    partitions = ", ".join(f"'{column}'" for column in model.partition_by)
    body = select.strip().rstrip(";").rstrip()
    return (
        f"CREATE TABLE {database(glue_prefix, 'staging')}."
        f"{staging_table(model.name, run_id, chunk)}\n"
        f"WITH (external_location = '{location}', format = 'PARQUET', "
        f"write_compression = 'SNAPPY', partitioned_by = ARRAY[{partitions}])\n"
        f"AS\n{body}"
    )


def request_token(run_id: str, model: str, chunk: int) -> str:
    """Same for every retry of the step, so Athena returns the first query, not a second."""
    return hashlib.sha256(f"write/{run_id}/{model}/{chunk}".encode()).hexdigest()


def parse_item(event: dict[str, Any], catalog: Catalog) -> tuple[str, Model, list[Chunk]]:
    """A plan's model item (run_id, model, chunks), validated against the catalog."""
    run = event.get("run_id")
    if not isinstance(run, str) or not RUN_ID.match(run):
        raise InvalidRunRequest(f"run_id {run!r} is not a run id")
    name = event.get("model")
    if not isinstance(name, str) or name not in catalog.names():
        raise InvalidRunRequest(f"unknown model {name!r}")
    return run, catalog.get(name), parse_chunks(event.get("chunks"))


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    catalog = load_catalog()
    run, model, chunks = parse_item(event, catalog)
    template = catalog.sql(model)
    athena = client("athena")
    queries = []
    for chunk in chunks:
        values = template_values(
            chunk.start_date, chunk.end_date, TIME_ZONE, tier_databases(GLUE_DATABASE_PREFIX)
        )
        select = render_template(template, values)
        sql = ctas(
            model,
            select,
            run_id=run,
            chunk=chunk.index,
            glue_prefix=GLUE_DATABASE_PREFIX,
            bucket=CURATED_BUCKET,
        )
        with throttling_as_retryable():
            started = athena.start_query_execution(
                QueryString=sql,
                ClientRequestToken=request_token(run, model.name, chunk.index),
                QueryExecutionContext={"Database": database(GLUE_DATABASE_PREFIX, "staging")},
                WorkGroup=ATHENA_WORKGROUP,
            )
        queries.append(
            {
                "chunk": chunk.index,
                "query_execution_id": started["QueryExecutionId"],
                "staging_table": staging_table(model.name, run, chunk.index),
            }
        )
    logger.info(
        "chunks started",
        extra={"run_id": run, "model": model.name, "queries": queries},
    )
    return {
        "run_id": run,
        "model": model.name,
        "tier": model.tier,
        "queries": queries,
        "query_ids": [query["query_execution_id"] for query in queries],
        "staging_tables": [query["staging_table"] for query in queries],
    }
