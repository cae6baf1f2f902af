"""Step `restate`: the models to run and their windows: the run's own days plus the earlier
days that received events since they were settled (within the look-back bound), from the
ledger; and what the finish step settles once they are published."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from etl_lambdas import ledger, restatement
from etl_lambdas.aws import client
from etl_lambdas.catalog import load_catalog
from etl_lambdas.config import step_environment
from etl_lambdas.events import Run

_ENV = step_environment("restate")

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    run = Run.parse(event.get("run"))
    catalog = load_catalog()
    sources = catalog.sources.names()
    s3, bucket = client("s3"), _ENV["CURATED_BUCKET"]
    found = ledger.conversions(ledger.read_entries(s3, bucket, sources))
    settled = {source: ledger.read_settled(s3, bucket, source) for source in sources}
    late = restatement.restatement(
        restatement.open_days(found, settled), run.window, run.lookback_days, run.today
    )
    item = {
        "run_id": run.run_id,
        "arrival_end_limit": run.arrival.end.isoformat(),
        "lookback_days": run.lookback_days,
    }
    tiers = restatement.tiers(catalog, run.models, run.window, late, item)
    # Only a run of every model has published every day it settles.
    consume = run.models is None
    result = {
        "tiers": tiers,
        "restated": restatement.as_rows(late.restated),
        "beyond_lookback": restatement.as_rows(late.beyond_lookback),
        "future_events": restatement.as_rows(late.future),
        "settle": {
            "window": run.window.as_dict(),
            "days": {
                source: sorted(day.isoformat() for day in late.settled_days(source))
                for source in sources
            },
        }
        if consume
        else None,
        "consume": consume,
    }
    logger.info(
        "restatement planned",
        extra={
            "run_id": run.run_id,
            "restated": result["restated"],
            "left_open": restatement.as_rows(late.later),
        },
    )
    if late.beyond_lookback:
        logger.warning(
            "late data older than the look-back bound is not restated",
            extra={"run_id": run.run_id, "beyond_lookback": result["beyond_lookback"]},
        )
    if late.future:
        logger.warning(
            "events dated after the run's day are not published",
            extra={"run_id": run.run_id, "future_events": result["future_events"]},
        )
    return result
