"""Step `audit-start`: start the query of a model's declared checks on its staged rows.

The state machine polls it (query-state) and judges it (audit-verdict): no Lambda waits
for Athena, so a long audit never hits a function's timeout. Each attempt is its own query
(the attempt is part of the ClientRequestToken): Athena answers a reused token with the
query it already ran, so a transiently failed audit could otherwise never be retried.

On Athena's DuckDB engine, the staged partitions are first registered in the catalogue where
the CTAS left them out (etl_lambdas.staging.register_staged_partitions): the checks read the
staging tables through it, and publish takes their partitions from it.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from etl_lambdas.aws import client, throttling_as_retryable
from etl_lambdas.catalog import DUCKDB_ENGINE, ENGINES, load_catalog
from etl_lambdas.checks import audit_sql
from etl_lambdas.config import step_environment
from etl_lambdas.errors import ConfigurationError
from etl_lambdas.events import AuditStartEvent
from etl_lambdas.naming import database
from etl_lambdas.staging import register_staged_partitions, request_token

_ENV = step_environment("audit-start")
STAGING_DATABASE = database(_ENV["GLUE_DATABASE_PREFIX"], "staging")
ENGINE = _ENV["ATHENA_ENGINE_VERSION"]
if ENGINE not in ENGINES:
    raise ConfigurationError(f"ATHENA_ENGINE_VERSION={ENGINE!r} must be one of {list(ENGINES)}")

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = AuditStartEvent.parse(event, load_catalog())
    staged = request.staged
    if ENGINE == DUCKDB_ENGINE:
        registered = register_staged_partitions(
            client("glue"), client("s3"), STAGING_DATABASE, staged.tables
        )
        logger.info(
            "staged partitions registered",
            extra={"run_id": staged.run_id, "model": staged.model.name, "registered": registered},
        )
    with throttling_as_retryable():
        query_id = client("athena").start_query_execution(
            QueryString=audit_sql(staged.model, STAGING_DATABASE, staged.tables),
            ClientRequestToken=request_token(
                "audit", staged.run_id, staged.model.name, request.attempt
            ),
            QueryExecutionContext={"Database": STAGING_DATABASE},
            WorkGroup=_ENV["ATHENA_WORKGROUP"],
        )["QueryExecutionId"]
    result = {"query_execution_id": query_id, "attempt": request.attempt}
    logger.info(
        "audit started", extra={"run_id": staged.run_id, "model": staged.model.name, **result}
    )
    return result
