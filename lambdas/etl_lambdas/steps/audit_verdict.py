"""Step `audit-verdict`: judge the audit query's one row; a failed check stops the model
before anything is published (AuditFailed is never retried)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from etl_lambdas.athena_states import query_rows
from etl_lambdas.aws import client
from etl_lambdas.catalog import load_catalog
from etl_lambdas.checks import evaluate
from etl_lambdas.config import step_environment
from etl_lambdas.errors import AuditFailed, QueryFailed
from etl_lambdas.events import AuditVerdictEvent

step_environment("audit-verdict")  # declares none

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = AuditVerdictEvent.parse(event, load_catalog())
    name = request.model.name
    rows = query_rows(client("athena"), request.query_execution_id)
    if len(rows) != 1:
        raise QueryFailed(f"audit query of {name} returned {len(rows)} rows, expected 1")
    results = evaluate(request.model, rows[0])
    failed = [result for result in results if not result["passed"]]
    logger.info(
        "audit",
        extra={"run_id": request.run_id, "model": name, "checks": results, "failed": len(failed)},
    )
    if failed:
        raise AuditFailed(
            f"model {name} run {request.run_id}: "
            + "; ".join(result["detail"] for result in failed)
        )
    return {"run_id": request.run_id, "model": name, "rows": results[0]["value"], "checks": results}
