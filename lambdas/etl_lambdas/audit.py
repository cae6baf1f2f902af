"""Step `audit`: the model's declared checks on all staged chunks of the run."""

from __future__ import annotations

import hashlib
from typing import Any

from aws_lambda_powertools import Logger

from etl_lambdas.athena_query import run_query
from etl_lambdas.aws import client
from etl_lambdas.catalog import load_catalog
from etl_lambdas.checks import audit_sql, evaluate
from etl_lambdas.config import read_environment
from etl_lambdas.errors import AuditFailed, QueryFailed
from etl_lambdas.naming import database
from etl_lambdas.staged_run import parse_staged_run

_ENV = read_environment("ATHENA_WORKGROUP", "GLUE_DATABASE_PREFIX")
ATHENA_WORKGROUP = _ENV["ATHENA_WORKGROUP"]
GLUE_DATABASE_PREFIX = _ENV["GLUE_DATABASE_PREFIX"]

logger = Logger(service="etl")

# Seconds kept back from the Lambda's remaining time to report a timeout cleanly.
_SAFETY_SECONDS = 10.0
# When invoked without a Lambda context (tests, direct calls).
_DEFAULT_SECONDS = 60.0


def _seconds_left(context: object) -> float:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining):
        return float(remaining()) / 1000.0 - _SAFETY_SECONDS
    return _DEFAULT_SECONDS


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Event: {"run_id", "model", "staging_tables": [...]} (the write step's output)."""
    staged = parse_staged_run(event, load_catalog())
    run, model, name, tables = staged.run_id, staged.model, staged.model.name, staged.tables
    sql = audit_sql(model, database(GLUE_DATABASE_PREFIX, "staging"), tables)
    rows = run_query(
        client("athena"),
        sql,
        token=hashlib.sha256(f"audit/{run}/{name}".encode()).hexdigest(),
        database=database(GLUE_DATABASE_PREFIX, "staging"),
        workgroup=ATHENA_WORKGROUP,
        seconds_left=lambda: _seconds_left(context),
    )
    if len(rows) != 1:
        raise QueryFailed(f"audit query of {name} returned {len(rows)} rows, expected 1")
    results = evaluate(model, rows[0])
    failed = [result for result in results if not result["passed"]]
    logger.info(
        "audit",
        extra={"run_id": run, "model": name, "checks": results, "failed": len(failed)},
    )
    if failed:
        raise AuditFailed(
            f"model {name} run {run}: " + "; ".join(result["detail"] for result in failed)
        )
    rows_checked = results[0]["value"]
    return {"run_id": run, "model": name, "rows": rows_checked, "checks": results}
