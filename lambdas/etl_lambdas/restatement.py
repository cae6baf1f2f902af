"""Late data, restated exactly: which earlier days each model must run again, and why.

Pure: the restate step reads the change reports and passes them here. A day is restated
when a conversion read NEW raw files holding events of that day (the reports count them
per event day), the day lies outside the run's own window (before it, or after it when an
earlier day is re-run and reads files that arrived late for a later one), and it is within
the look-back bound. Older days are counted and reported, never silently dropped. Days on
or after the run's `today` are not complete yet: their own scheduled run processes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from etl_lambdas.catalog import TIERS, Catalog, Model
from etl_lambdas.changes import ChangeReport
from etl_lambdas.planning import DateRange, ranges_of_days, whole_partitions

DayCounts = dict[date, dict[str, int]]  # day -> source -> events


@dataclass(frozen=True)
class Restatement:
    restated: DayCounts = field(default_factory=dict)
    beyond_lookback: DayCounts = field(default_factory=dict)

    def days_for(self, sources: Iterable[str]) -> set[date]:
        wanted = set(sources)
        return {day for day, counts in self.restated.items() if wanted & set(counts)}


def restatement(
    reports: Iterable[ChangeReport], window: DateRange, lookback_days: int, today: date
) -> Restatement:
    earliest = window.start - timedelta(days=lookback_days)
    restated: DayCounts = {}
    beyond: DayCounts = {}
    for report in reports:
        for day, events in report.event_days.items():
            if events <= 0 or window.start <= day <= window.end or day >= today:
                continue
            target = restated if day >= earliest else beyond
            counts = target.setdefault(day, {})
            counts[report.source] = counts.get(report.source, 0) + events
    return Restatement(restated, beyond)


def upstream_sources(catalog: Catalog, model: Model) -> set[str]:
    """The ODS sources a model reads, directly or through the models it reads."""
    found: set[str] = set()
    pending = list(model.sources)
    seen: set[str] = set()
    while pending:
        source = pending.pop()
        if source in seen:
            continue
        seen.add(source)
        tier, _, name = source.partition(".")
        if tier == "ods":
            found.add(name)
        else:
            pending.extend(catalog.get(name).sources)
    return found


def model_windows(
    catalog: Catalog, model: Model, window: DateRange, restated: Restatement, today: date
) -> list[DateRange]:
    """The run's window plus the restated days of the model's sources, as whole partitions."""
    days = set(window.days()) | restated.days_for(upstream_sources(catalog, model))
    return whole_partitions(ranges_of_days(days), model.granularity, today - timedelta(days=1))


def tiers(
    catalog: Catalog,
    selected: list[str] | None,
    window: DateRange,
    restated: Restatement,
    today: date,
    item: Mapping[str, object],
) -> list[dict[str, object]]:
    """The state machine's work list: tiers in order, each with its models' items."""
    models = [m for m in catalog.models if selected is None or m.name in selected]
    result: list[dict[str, object]] = []
    for tier in TIERS:
        items: list[dict[str, object]] = [
            {
                **item,
                "model": model.name,
                "tier": model.tier,
                "windows": [
                    r.as_dict() for r in model_windows(catalog, model, window, restated, today)
                ],
            }
            for model in models
            if model.tier == tier
        ]
        if items:
            result.append({"tier": tier, "models": items})
    return result


def as_rows(counts: DayCounts) -> list[dict[str, object]]:
    return [
        {"date": day.isoformat(), "events": dict(sorted(counts[day].items()))}
        for day in sorted(counts)
    ]


def from_rows(rows: Iterable[Mapping[str, Any]]) -> DayCounts:
    """as_rows read back (the restated days in an execution's output)."""
    return {
        date.fromisoformat(str(row["date"])): {str(k): int(v) for k, v in row["events"].items()}
        for row in rows
    }
