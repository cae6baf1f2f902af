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
from botocore.exceptions import ClientError

from etl_lambdas.aws import client, error_code, throttling_as_retryable
from etl_lambdas.catalog import DUCKDB_ENGINE, ENGINES, Model, load_catalog
from etl_lambdas.checks import audit_sql
from etl_lambdas.config import step_environment, time_zone
from etl_lambdas.errors import ConfigurationError
from etl_lambdas.events import AuditStartEvent
from etl_lambdas.history_checks import AuditContext
from etl_lambdas.naming import database
from etl_lambdas.staging import register_staged_partitions, request_token

_ENV = step_environment("audit-start")
GLUE_DATABASE_PREFIX = _ENV["GLUE_DATABASE_PREFIX"]
STAGING_DATABASE = database(GLUE_DATABASE_PREFIX, "staging")
TIME_ZONE = time_zone("PIPELINE_TIME_ZONE", _ENV["PIPELINE_TIME_ZONE"])
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
    history = None
    if staged.model.history_checks:
        history = AuditContext(
            days=tuple(day for window in request.windows for day in window.days()),
            time_zone=TIME_ZONE,
            database=lambda tier: database(GLUE_DATABASE_PREFIX, tier),
            published=_published(staged.model),
        )
    with throttling_as_retryable():
        query_id = client("athena").start_query_execution(
            QueryString=audit_sql(staged.model, STAGING_DATABASE, staged.tables, history),
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


def _published(model: Model) -> bool:
    """Whether the model's table exists: before its first publish there is no history to read."""
    try:
        with throttling_as_retryable():
            client("glue").get_table(
                DatabaseName=database(GLUE_DATABASE_PREFIX, model.tier), Name=model.name
            )
    except ClientError as error:
        if error_code(error) == "EntityNotFoundException":
            return False
        raise
    return True
