"""How CloudWatch would judge an alarm: its state from its configuration and the metric's data.

moto stores alarms but never evaluates them, so this module does, for the alarms the plan
declares (aws_cloudwatch_metric_alarm values), from CloudWatch's documented behaviour
("Using Amazon CloudWatch alarms", CloudWatch User Guide):

- each period is one data point; the alarm looks at the most recent `evaluation_periods`
  of them and goes to ALARM when at least `datapoints_to_alarm` are breaching, else OK;
- it retrieves more points than that, its *evaluation range* (5 for 3 periods in the
  guide's example: here evaluation_periods + 2). When fewer points exist in the range than
  evaluation periods, missing ones are filled as `treat_missing_data` says (breaching,
  notBreaching; missing: INSUFFICIENT_DATA when none exists; ignore: the state stays),
  as few as possible, and every real point of the range is used (with `missing` or `ignore`
  and some breaching data the guide's examples are no rule: UnsupportedAlarm);
- metric math: FILL(m, value) fills every period of the range; in arithmetic a missing
  value is 0 ("Using metric math").

Only the shapes modules/monitoring declares are understood: one metric per query, and
expressions that are an id, FILL(id, number) or ids added together; anything else raises.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

# Per query id: period index -> the statistic's value over that period (absent: no data).
Series = Mapping[int, float]

OK, ALARM, INSUFFICIENT_DATA = "OK", "ALARM", "INSUFFICIENT_DATA"
_FILL = re.compile(r"^FILL\((\w+),\s*(-?[0-9.]+)\)$")
_SUM = re.compile(r"^\w+(\s*\+\s*\w+)*$")
_COMPARE = {
    "GreaterThanOrEqualToThreshold": lambda value, threshold: value >= threshold,
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "LessThanThreshold": lambda value, threshold: value < threshold,
    "LessThanOrEqualToThreshold": lambda value, threshold: value <= threshold,
}


class UnsupportedAlarm(ValueError):
    """The alarm uses metric math this evaluator does not implement."""


def evaluation_range(alarm: Mapping[str, Any]) -> int:
    return int(alarm["evaluation_periods"]) + 2


def state(
    alarm: Mapping[str, Any], metrics: Mapping[str, Series], now: int, previous: str = OK
) -> str:
    """The alarm's state when evaluated during period `now` (an index; the current period is
    evaluated too). `metrics` holds each metric query's data by its id."""
    periods = range(now - evaluation_range(alarm) + 1, now + 1)
    values = _returned_series(alarm, metrics, periods)
    existing = [p for p in periods if p in values]
    wanted = int(alarm["evaluation_periods"])
    breaching = _COMPARE[alarm["comparison_operator"]]
    threshold = float(alarm["threshold"])
    if len(existing) >= wanted:
        points = [breaching(values[p], threshold) for p in existing[-wanted:]]
    else:
        treat = alarm.get("treat_missing_data") or "missing"
        if not existing and treat == "missing":
            return INSUFFICIENT_DATA
        if not existing and treat == "ignore":
            return previous
        points = [breaching(values[p], threshold) for p in existing]
        if treat not in ("breaching", "notBreaching"):
            if not any(points):
                return OK
            raise UnsupportedAlarm(f"{alarm.get('alarm_name')}: partial data with {treat!r}")
        points = [treat == "breaching"] * (wanted - len(points)) + points
    needed = int(alarm.get("datapoints_to_alarm") or wanted)
    return ALARM if sum(points) >= needed else OK


def _returned_series(
    alarm: Mapping[str, Any], metrics: Mapping[str, Series], periods: Sequence[int]
) -> dict[int, float]:
    queries = alarm.get("metric_query") or []
    if not queries:
        return {p: metrics["m1"][p] for p in periods if p in metrics.get("m1", {})}
    returned = [q for q in queries if q.get("return_data")]
    if len(returned) != 1:
        raise UnsupportedAlarm(f"{alarm.get('alarm_name')}: one query must return data")
    expression = returned[0].get("expression")
    if not expression:
        series = metrics.get(returned[0]["id"], {})
        return {p: series[p] for p in periods if p in series}
    expression = expression.strip()
    if match := _FILL.match(expression):
        series, filler = metrics.get(match.group(1), {}), float(match.group(2))
        return {p: series.get(p, filler) for p in periods}
    if _SUM.match(expression):
        ids = [name.strip() for name in expression.split("+")]
        present = [p for p in periods if any(p in metrics.get(i, {}) for i in ids)]
        return {p: sum(metrics.get(i, {}).get(p, 0.0) for i in ids) for p in present}
    raise UnsupportedAlarm(f"{alarm.get('alarm_name')}: expression {expression!r}")
