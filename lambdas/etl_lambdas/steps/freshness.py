"""Step `freshness`: every hour, per declared source, the arrival partitions of its last due
day that hold no file, as the metric its freshness alarm watches (etl_lambdas.freshness).

Not a state of the machines: an EventBridge schedule invokes it with its scheduled event,
whose `time` is the check's time (a run that never happens is what this check catches).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from etl_lambdas import metrics
from etl_lambdas.aws import client, throttling_as_retryable
from etl_lambdas.catalog import load_catalog
from etl_lambdas.config import step_environment, string_map
from etl_lambdas.errors import ConfigurationError, InvalidRunRequest
from etl_lambdas.freshness import check, listed_partitions

_ENV = step_environment("freshness")
ARRIVAL_DEADLINES = string_map("ARRIVAL_DEADLINES", _ENV["ARRIVAL_DEADLINES"])

logger = Logger()


def check_time(event: dict[str, Any]) -> datetime:
    """The scheduled event's `time` (ISO-8601 UTC), or now for an invocation without one."""
    raw = event.get("time")
    if raw is None:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRunRequest(f"time {raw!r} is not an ISO-8601 timestamp") from None
    if parsed.tzinfo is None:
        raise InvalidRunRequest(f"time {raw!r} has no UTC offset")
    return parsed.astimezone(UTC)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    now = check_time(event)
    sources = list(load_catalog().sources)
    undeclared = [s.name for s in sources if s.name not in ARRIVAL_DEADLINES]
    if undeclared:
        raise ConfigurationError(f"ARRIVAL_DEADLINES has no deadline for {undeclared}")
    with throttling_as_retryable():
        arrivals = check(
            sources, ARRIVAL_DEADLINES, now, listed_partitions(client("s3"), _ENV["RAW_BUCKET"])
        )
    data = [
        metrics.Datum(
            metrics.MISSING_ARRIVAL_PARTITIONS,
            len(arrival.missing),
            dimensions={metrics.SOURCE: arrival.source},
        )
        for arrival in arrivals
    ]
    metrics.put(client("cloudwatch"), _ENV["METRICS_NAMESPACE"], data, now)
    result = {
        "checked_at": now.isoformat(),
        "sources": {arrival.source: arrival.as_dict() for arrival in arrivals},
    }
    for arrival in arrivals:
        if arrival.missing:
            logger.warning(
                "raw data missing",
                extra={"source": arrival.source, **arrival.as_dict()},
            )
    logger.info("freshness checked", extra=result)
    return result
