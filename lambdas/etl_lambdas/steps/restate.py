"""Step `restate`: the models to run and their windows: the run's own days plus the earlier
days that received late data since they were processed (within the look-back bound)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from etl_lambdas import restatement
from etl_lambdas.aws import client
from etl_lambdas.catalog import load_catalog
from etl_lambdas.changes import pending_reports
from etl_lambdas.config import step_environment
from etl_lambdas.events import Run

_ENV = step_environment("restate")

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    run = Run.parse(event.get("run"))
    reports = pending_reports(client("s3"), _ENV["ARTIFACTS_BUCKET"])
    late = restatement.restatement(reports, run.window, run.lookback_days, run.today)
    item = {
        "run_id": run.run_id,
        "arrival_end_limit": run.arrival.end.isoformat(),
        "lookback_days": run.lookback_days,
    }
    tiers = restatement.tiers(load_catalog(), run.models, run.window, late, run.today, item)
    # Only a run of every model has restated everything a report asks for.
    consume = run.models is None
    result = {
        "tiers": tiers,
        "restated": restatement.as_rows(late.restated),
        "beyond_lookback": restatement.as_rows(late.beyond_lookback),
        "reports": [report.key for report in reports] if consume else [],
        "consume": consume,
    }
    logger.info(
        "restatement planned",
        extra={"run_id": run.run_id, "restated": result["restated"], "reports": len(reports)},
    )
    if late.beyond_lookback:
        logger.warning(
            "late data older than the look-back bound is not restated",
            extra={"run_id": run.run_id, "beyond_lookback": result["beyond_lookback"]},
        )
    return result
