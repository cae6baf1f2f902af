"""Step `plan`: the execution input -> the run plan (run id, dates, tiers, chunks)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger

from etl_lambdas.catalog import load_catalog
from etl_lambdas.config import positive_int, read_environment, time_zone
from etl_lambdas.errors import InvalidRunRequest
from etl_lambdas.planning import build_plan, parse_timestamp

_ENV = read_environment("PIPELINE_TIME_ZONE", "MAX_BACKFILL_DAYS")
TIME_ZONE = time_zone("PIPELINE_TIME_ZONE", _ENV["PIPELINE_TIME_ZONE"])
MAX_BACKFILL_DAYS = positive_int("MAX_BACKFILL_DAYS", _ENV["MAX_BACKFILL_DAYS"])

logger = Logger(service="etl")


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Event: {"input": <execution input>, "execution": {"name", "start_time"}} (from the ASL)."""
    request = event.get("input")
    execution = event.get("execution")
    if not isinstance(request, dict):
        raise InvalidRunRequest(f"execution input {request!r} must be a JSON object")
    if not isinstance(execution, dict) or not isinstance(execution.get("name"), str):
        raise InvalidRunRequest(f"execution context {execution!r} must have a name")
    start = parse_timestamp("execution start_time", execution.get("start_time"))
    plan = build_plan(
        request,
        execution_name=execution["name"],
        execution_start=start,
        now=datetime.now(UTC),
        time_zone=TIME_ZONE,
        max_days=MAX_BACKFILL_DAYS,
        catalog=load_catalog(),
    )
    logger.info(
        "run planned",
        extra={
            "run_id": plan["run_id"],
            "start_date": plan["start_date"],
            "end_date": plan["end_date"],
            "models": [m["model"] for tier in plan["tiers"] for m in tier["models"]],
        },
    )
    return plan
