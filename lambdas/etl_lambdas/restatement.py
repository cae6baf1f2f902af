"""Late data, restated exactly: which earlier days each model must run again, and why.

Pure: the restate step reads the ledger (etl_lambdas.ledger) and passes its open days here: the
event days that received events since they were last settled, per source. A run restatement
looks back only: an open day before the run's window is restated when it lies within the
look-back bound, and counted and reported beyond it (never silently dropped); a day of the
window is published by the window itself; a day after the window's end stays open, for its
own run or a later run's look-back (a day is published by its own run, complete); a day after
the run's `today` cannot have happened yet: its events are reported as dated in the future.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from etl_lambdas.catalog import TIERS, Catalog, Model
from etl_lambdas.ledger import Conversion, Settled
from etl_lambdas.planning import DateRange, ranges_of_days, whole_partitions

DayCounts = dict[date, dict[str, int]]  # day -> source -> events


@dataclass(frozen=True)
class Restatement:
    restated: DayCounts = field(default_factory=dict)
    beyond_lookback: DayCounts = field(default_factory=dict)
    # Open days after the window's end: left open, for a later run.
    later: DayCounts = field(default_factory=dict)
    # Open days after the run's today: events dated in the future, reported and settled.
    future: DayCounts = field(default_factory=dict)

    def days_for(self, sources: Iterable[str]) -> set[date]:
        wanted = set(sources)
        return {day for day, counts in self.restated.items() if wanted & set(counts)}

    def settled_days(self, source: str) -> set[date]:
        """The days this run settles for the source besides its window's: those it restated
        and those it reported (too old to restate, or in the future)."""
        return {
            day
            for counts in (self.restated, self.beyond_lookback, self.future)
            for day, by_source in counts.items()
            if source in by_source
        }


def open_days(conversions: Iterable[Conversion], settled: Mapping[str, Settled]) -> DayCounts:
    """The events of each day that was settled before the run that converted them."""
    counts: DayCounts = {}
    for conversion in conversions:
        marks = settled.get(conversion.source) or Settled(conversion.source)
        for day, events in conversion.partition.event_days.items():
            if events > 0 and marks.is_open(day, conversion.run_id):
                by_source = counts.setdefault(day, {})
                by_source[conversion.source] = by_source.get(conversion.source, 0) + events
    return counts


def restatement(
    open_counts: DayCounts, window: DateRange, lookback_days: int, today: date
) -> Restatement:
    earliest = window.start - timedelta(days=lookback_days)
    result = Restatement()
    for day, by_source in sorted(open_counts.items()):
        if window.start <= day <= window.end:
            continue  # the window publishes it
        if day > window.end:
            target = result.future if day > today else result.later
        else:
            target = result.restated if day >= earliest else result.beyond_lookback
        target[day] = dict(by_source)
    return result


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
    catalog: Catalog, model: Model, window: DateRange, restated: Restatement
) -> list[DateRange]:
    """The run's window plus the restated days of the model's sources, as whole partitions,
    none after the window's end (a month's partition holds the month up to it)."""
    days = set(window.days()) | restated.days_for(upstream_sources(catalog, model))
    return whole_partitions(ranges_of_days(days), model.granularity, window.end)


def tiers(
    catalog: Catalog,
    selected: list[str] | None,
    window: DateRange,
    restated: Restatement,
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
                "windows": [r.as_dict() for r in model_windows(catalog, model, window, restated)],
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
