"""Audits that compare each day with the past: declared in sql/models.toml, run with the
model's other checks on its staged rows, judged per local day of the run.

- `row_count = { trailing_days = 7, tolerance = 0.5, min_history_days = 3 }`: each day's rows
  within +-tolerance of the median daily rows of the trailing days that hold rows (the staged
  ones where the run rewrites them, else the published ones). A day with fewer days of
  history than `min_history_days` is not judged (said so).
- `freshness = { column = "event_time", max_lag_minutes = 60 }`: the source's data for the
  day arrived: the day's latest `column` (a UTC timestamp, as the event times of the models
  are) is at most `max_lag_minutes` before the local day's end.
- `reconcile = [{ expression = "sum(events)", source = "dwd.traffic_events",
  source_expression = "count(*)", tolerance = 0 }]`: each day's aggregate of the staged rows
  equals (within the relative tolerance) the same day's aggregate of an upstream model's
  published rows.

The query adds one row of columns to the audit's (`h<k>_...`, see `history_sql`): per check
the days that failed and were judged, and one day with its two numbers (the first failed
day, else the last judged one), so a failure names the check, the day and the numbers.
Pure: the audit step passes the run's days and databases; nothing here calls AWS.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from etl_lambdas.catalog import Model

# Trailing days a row count may look back (a window longer than this costs more than it tells).
MAX_TRAILING_DAYS = 92
# Granularities whose partitions are whole local days or parts of one: history is per day.
DAILY_GRANULARITIES = ("hour", "day")
# One SQL fragment: an aggregate expression, never a second statement.
_FORBIDDEN_IN_EXPRESSION = re.compile(r";|--|/\*")
_COLUMN = re.compile(r"^[a-z_][a-z0-9_]*$")


class HistoryCheckError(ValueError):
    """A history check's declaration is invalid (raised as CatalogError by the catalog)."""


@dataclass(frozen=True)
class RowCountCheck:
    trailing_days: int
    tolerance: float
    min_history_days: int = 1

    @property
    def name(self) -> str:
        return f"row_count(trailing {self.trailing_days} days, +-{_percent(self.tolerance)})"


@dataclass(frozen=True)
class FreshnessCheck:
    column: str
    max_lag_minutes: int = 0

    @property
    def name(self) -> str:
        return f"freshness({self.column}, {self.max_lag_minutes} min)"


@dataclass(frozen=True)
class ReconcileCheck:
    expression: str
    source: str
    source_expression: str
    tolerance: float = 0.0

    @property
    def name(self) -> str:
        return f"reconcile({self.expression} = {self.source} {self.source_expression})"


HistoryCheck = RowCountCheck | FreshnessCheck | ReconcileCheck


def _percent(fraction: float) -> str:
    return f"{fraction * 100:g}%"


# -- declaration -----------------------------------------------------------------------------

HISTORY_FIELDS = ("row_count", "freshness", "reconcile")


def parse_history_checks(
    entry: Mapping[str, Any], granularity: str, where: str
) -> tuple[HistoryCheck, ...]:
    """The history checks of one models.toml entry, in a stable order."""
    checks: list[HistoryCheck] = []
    declared = [name for name in HISTORY_FIELDS if name in entry]
    if declared and granularity not in DAILY_GRANULARITIES:
        raise HistoryCheckError(
            f"{where}: {', '.join(declared)} compare days; granularity {granularity!r} has none "
            f"(use one of {list(DAILY_GRANULARITIES)})"
        )
    if "row_count" in entry:
        checks.append(_row_count(_table(entry["row_count"], "row_count", where), where))
    if "freshness" in entry:
        checks.append(_freshness(_table(entry["freshness"], "freshness", where), where))
    reconcile = entry.get("reconcile", [])
    if not isinstance(reconcile, list):
        raise HistoryCheckError(f"{where}: reconcile must be a list of tables")
    checks.extend(_reconcile(_table(item, "reconcile", where), where) for item in reconcile)
    return tuple(checks)


def _table(value: object, label: str, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise HistoryCheckError(f"{where}: {label} must be a table, e.g. {label} = {{ ... }}")
    return value


def _known(value: Mapping[str, Any], fields: Sequence[str], label: str, where: str) -> None:
    unknown = sorted(set(value) - set(fields))
    if unknown:
        raise HistoryCheckError(
            f"{where}: {label}: unknown field(s) {unknown} (known: {', '.join(fields)})"
        )


def _integer(value: object, label: str, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise HistoryCheckError(f"{where}: {label} {value!r} must be an integer {low}..{high}")
    return value


def _fraction(value: object, label: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise HistoryCheckError(f"{where}: {label} {value!r} must be a number >= 0")
    return float(value)


def _expression(value: object, label: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or _FORBIDDEN_IN_EXPRESSION.search(value):
        raise HistoryCheckError(
            f"{where}: {label} {value!r} must be one SQL expression (no ';' or comments)"
        )
    return value.strip()


def _row_count(value: Mapping[str, Any], where: str) -> RowCountCheck:
    _known(value, ("trailing_days", "tolerance", "min_history_days"), "row_count", where)
    if "trailing_days" not in value or "tolerance" not in value:
        raise HistoryCheckError(f"{where}: row_count needs trailing_days and tolerance")
    days = _integer(value["trailing_days"], "row_count trailing_days", where, 1, MAX_TRAILING_DAYS)
    minimum = _integer(
        value.get("min_history_days", 1), "row_count min_history_days", where, 1, days
    )
    return RowCountCheck(days, _fraction(value["tolerance"], "row_count tolerance", where), minimum)


def _freshness(value: Mapping[str, Any], where: str) -> FreshnessCheck:
    _known(value, ("column", "max_lag_minutes"), "freshness", where)
    column = value.get("column")
    if not isinstance(column, str) or not _COLUMN.match(column):
        raise HistoryCheckError(f"{where}: freshness column {column!r} must be a column name")
    lag = _integer(value.get("max_lag_minutes", 0), "freshness max_lag_minutes", where, 0, 1440)
    return FreshnessCheck(column, lag)


def _reconcile(value: Mapping[str, Any], where: str) -> ReconcileCheck:
    fields = ("expression", "source", "source_expression", "tolerance")
    _known(value, fields, "reconcile", where)
    source = value.get("source")
    if not isinstance(source, str) or source.count(".") != 1:
        raise HistoryCheckError(f"{where}: reconcile source {source!r} must be '<tier>.<model>'")
    return ReconcileCheck(
        expression=_expression(value.get("expression"), "reconcile expression", where),
        source=source,
        source_expression=_expression(
            value.get("source_expression"), "reconcile source_expression", where
        ),
        tolerance=_fraction(value.get("tolerance", 0), "reconcile tolerance", where),
    )


# -- the query ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditContext:
    """What the history checks read besides the staged rows: the local days the run writes,
    the pipeline's time zone, where each tier's tables are, and whether the model's table is
    published yet (before its first publish the staged rows are all the history there is)."""

    days: tuple[date, ...]
    time_zone: str
    database: Callable[[str], str]
    published: bool


def day_end_utc(day: date, time_zone: str) -> datetime:
    """When the local day ends, in UTC (a DST day is 23 or 25 hours long)."""
    midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(time_zone))
    return midnight.astimezone(UTC).replace(tzinfo=None)


_LOCAL_DAY = "CAST(concat(year, '-', month, '-', day) AS date)"


def _timestamp(moment: datetime) -> str:
    return f"TIMESTAMP '{moment:%Y-%m-%d %H:%M:%S}'"


def _number(value: float) -> str:
    """A tolerance as SQL: an integer, else a double literal (Trino reads 0.5 as a decimal,
    whose arithmetic has rules of its own; 0.5e0 is a double on every engine)."""
    if value == int(value):
        return repr(int(value))
    text = repr(value)
    return text if "e" in text else f"{text}e0"


def _days_filter(first: date, last: date) -> str:
    from etl_lambdas.planning import day_partition_filter

    return day_partition_filter(first, last)


def history_ctes(model: Model, context: AuditContext) -> list[tuple[str, str]]:
    """(name, query) of the CTEs that judge the history checks, after `staged`; the last,
    `history`, is one row of columns h<k>_failed, h<k>_judged, h<k>_day, h<k>_observed,
    h<k>_expected per check k."""
    checks = model.history_checks
    days = sorted(set(context.days))
    freshness = next((c for c in checks if isinstance(c, FreshnessCheck)), None)
    rows = []
    for day in days:
        fresh_by = ""
        if freshness is not None:
            deadline = day_end_utc(day, context.time_zone) - timedelta(
                minutes=freshness.max_lag_minutes
            )
            fresh_by = f", {_timestamp(deadline)}"
        rows.append(f"(DATE '{day.isoformat()}'{fresh_by})")
    columns = "local_day" + (", fresh_by" if freshness is not None else "")
    ctes = [("run_days", f"SELECT * FROM (VALUES {', '.join(rows)}) AS v({columns})")]
    aggregates = ["count(*) AS row_count"]
    if freshness is not None:
        aggregates.append(f"max({freshness.column}) AS latest")
    for index, check in enumerate(checks):
        if isinstance(check, ReconcileCheck):
            aggregates.append(f"{check.expression} AS reconcile_{index}")
    ctes.append(
        (
            "staged_days",
            f"SELECT {_LOCAL_DAY} AS local_day, {', '.join(aggregates)}\n"
            "  FROM staged GROUP BY year, month, day",
        )
    )
    for index, check in enumerate(checks):
        ctes.extend(_check_ctes(model, check, index, context, days))
    ctes.append(("history", _summary(len(checks))))
    return ctes


def _check_ctes(
    model: Model, check: HistoryCheck, index: int, context: AuditContext, days: list[date]
) -> list[tuple[str, str]]:
    name = f"h{index}"
    if isinstance(check, RowCountCheck):
        return _row_count_ctes(model, check, name, context, days)
    if isinstance(check, FreshnessCheck):
        judged = (
            "SELECT d.local_day, s.latest AS observed, d.fresh_by AS expected, true AS judged,\n"
            "    (s.latest IS NULL OR s.latest < d.fresh_by) AS failed\n"
            "  FROM run_days d LEFT JOIN staged_days s ON s.local_day = d.local_day"
        )
        return [(name, judged)]
    tier, _, table = check.source.partition(".")
    source = f"{name}_source"
    aggregate = (
        f"SELECT {_LOCAL_DAY} AS local_day, {check.source_expression} AS value\n"
        f"  FROM {context.database(tier)}.{table}\n"
        f"  WHERE {_days_filter(days[0], days[-1])}\n"
        "  GROUP BY year, month, day"
    )
    values = (
        f"SELECT d.local_day, coalesce(s.reconcile_{index}, 0) AS observed,\n"
        "    coalesce(r.value, 0) AS expected\n"
        "  FROM run_days d\n"
        "  LEFT JOIN staged_days s ON s.local_day = d.local_day\n"
        f"  LEFT JOIN {source} r ON r.local_day = d.local_day"
    )
    judged = (
        "SELECT local_day, observed, expected, true AS judged,\n"
        f"    abs(observed - expected) > {_number(check.tolerance)} * abs(expected) AS failed\n"
        f"  FROM {name}_values"
    )
    return [(source, aggregate), (f"{name}_values", values), (name, judged)]


def _row_count_ctes(
    model: Model, check: RowCountCheck, name: str, context: AuditContext, days: list[date]
) -> list[tuple[str, str]]:
    history = "SELECT local_day, row_count FROM staged_days"
    ctes = []
    if context.published:
        first = days[0] - timedelta(days=check.trailing_days)
        ctes.append(
            (
                f"{name}_published",
                f"SELECT {_LOCAL_DAY} AS local_day, count(*) AS row_count\n"
                f"  FROM {context.database(model.tier)}.{model.name}\n"
                f"  WHERE {_days_filter(first, days[-1])}\n"
                "  GROUP BY year, month, day",
            )
        )
        # A day the run rewrites counts as staged, not as published.
        history += (
            f"\n  UNION ALL\n  SELECT local_day, row_count FROM {name}_published\n"
            "  WHERE local_day NOT IN (SELECT local_day FROM run_days)"
        )
    ctes.append((f"{name}_days", history))
    # The reference is the median of the trailing days, not their mean: one partial day in
    # the history (a source's first day, an outage) moves a mean by half on two days of
    # history, and would fail the complete days after it for as long as it trails them.
    ctes.append(
        (
            f"{name}_trailing",
            "SELECT d.local_day, h.row_count,\n"
            "    row_number() OVER (PARTITION BY d.local_day ORDER BY h.row_count) AS position,\n"
            "    count(*) OVER (PARTITION BY d.local_day) AS history_days\n"
            "  FROM run_days d\n"
            f"  JOIN {name}_days h ON h.local_day BETWEEN\n"
            # CAST: the day stays a date on every engine (DuckDB would make it a timestamp)
            f"    CAST(d.local_day AS date) - INTERVAL '{check.trailing_days}' DAY"
            " AND CAST(d.local_day AS date) - INTERVAL '1' DAY",
        )
    )
    ctes.append(
        (
            # The middle day, or the mean of the two middle ones (no integer division: the
            # engines divide integers differently).
            f"{name}_median",
            "SELECT local_day, avg(row_count) AS expected, max(history_days) AS history_days\n"
            f"  FROM {name}_trailing\n"
            "  WHERE 2 * position BETWEEN history_days AND history_days + 2\n"
            "  GROUP BY local_day",
        )
    )
    ctes.append(
        (
            f"{name}_values",
            "SELECT d.local_day, coalesce(s.row_count, 0) AS observed, m.expected,\n"
            "    coalesce(m.history_days, 0) AS history_days\n"
            "  FROM run_days d\n"
            "  LEFT JOIN staged_days s ON s.local_day = d.local_day\n"
            f"  LEFT JOIN {name}_median m ON m.local_day = d.local_day",
        )
    )
    judged_when = f"history_days >= {check.min_history_days}"
    ctes.append(
        (
            name,
            f"SELECT local_day, observed, expected, {judged_when} AS judged,\n"
            f"    ({judged_when} AND abs(observed - expected) > "
            f"{_number(check.tolerance)} * expected) AS failed\n"
            f"  FROM {name}_values",
        )
    )
    return ctes


def _summary(count: int) -> str:
    """One row: per check, the failed and judged days, and the day it reports with its numbers
    (the first failed day, else the last judged one, else the last day)."""
    parts = []
    for index in range(count):
        name = f"h{index}"
        parts.append(
            f"(SELECT count_if(failed) AS {name}_failed, count_if(judged) AS {name}_judged\n"
            f"    FROM {name}) AS {name}_counts\n"
            # observed and expected as their own types: a double cast to varchar reads as Java
            # writes it on Athena (1.07E3), and each engine renders its result types itself
            f"  CROSS JOIN (SELECT CAST(local_day AS varchar) AS {name}_day,\n"
            f"      observed AS {name}_observed,\n"
            f"      expected AS {name}_expected\n"
            f"    FROM {name}\n"
            "    ORDER BY failed DESC, judged DESC, CASE WHEN failed THEN local_day END,"
            " local_day DESC\n"
            f"    LIMIT 1) AS {name}_pick"
        )
    return "SELECT *\n  FROM " + "\n  CROSS JOIN ".join(parts)


# -- the verdict -------------------------------------------------------------------------------


def evaluate_history(model: Model, row: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each history check's result from the audit row: passed, and a detail naming the day
    and the numbers."""
    results = []
    for index, check in enumerate(model.history_checks):
        name = f"h{index}"
        failed = _int(row.get(f"{name}_failed"))
        judged = _int(row.get(f"{name}_judged"))
        day = row.get(f"{name}_day") or "?"
        observed, expected = row.get(f"{name}_observed"), row.get(f"{name}_expected")
        results.append(
            {
                "check": check.name,
                "kind": "history",
                "value": failed,
                "passed": failed == 0,
                "detail": _detail(check, failed, judged, str(day), observed, expected),
                "day": day,
                "observed": observed,
                "expected": expected,
                "judged_days": judged,
            }
        )
    return results


def _int(value: object) -> int:
    return int(str(value)) if value not in (None, "") else 0


def _moment(value: object) -> str:
    """A timestamp as Athena's result text gives it (2025-11-29 22:00:00.000), to the second
    when it has no fraction."""
    text = str(value)
    return text.removesuffix(".000") if len(text) == len("2025-11-29 22:00:00.000") else text


def _float(value: object) -> float | None:
    try:
        return float(str(value))
    except ValueError:
        return None


def _amount(value: object) -> str:
    number = _float(value)
    if number is None:
        return str(value)
    return f"{number:,.0f}" if number == int(number) else f"{number:,.2f}"


def _detail(
    check: HistoryCheck, failed: int, judged: int, day: str, observed: object, expected: object
) -> str:
    if isinstance(check, RowCountCheck) and judged == 0:
        return (
            f"{check.name}: not judged, no day had {check.min_history_days} day(s) of history "
            f"(last: {day}, {_amount(observed)} rows)"
        )
    outcome = f"failed on {failed} of {judged} day(s)" if failed else f"passed on {judged} day(s)"
    if isinstance(check, RowCountCheck):
        median = _float(expected) or 0.0
        low, high = median * (1 - check.tolerance), median * (1 + check.tolerance)
        numbers = (
            f"{_amount(observed)} rows, trailing median {_amount(expected)} "
            f"(allowed {_amount(max(low, 0))}..{_amount(high)})"
        )
    elif isinstance(check, FreshnessCheck):
        latest = "no rows" if observed in (None, "") else f"latest {_moment(observed)} UTC"
        numbers = f"{latest}, the day's data must reach {_moment(expected)} UTC"
    else:
        difference = abs((_float(observed) or 0.0) - (_float(expected) or 0.0))
        numbers = (
            f"{_amount(observed)} vs {_amount(expected)} in {check.source} "
            f"(difference {_amount(difference)}, tolerance {_percent(check.tolerance)})"
        )
    return f"{check.name} {outcome}; {day}: {numbers}"
