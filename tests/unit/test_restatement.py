"""Late data: which days are restated (properties with hypothesis) and for which models."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl_lambdas.catalog import Catalog
from etl_lambdas.changes import ChangeReport
from etl_lambdas.planning import DateRange
from etl_lambdas.restatement import (
    as_rows,
    from_rows,
    model_windows,
    restatement,
    tiers,
    upstream_sources,
)

TODAY = date(2026, 11, 21)


def report(
    source: str, days: dict[date, int], run: str = "20261121t030000z_00000000"
) -> ChangeReport:
    return ChangeReport(
        key=f"changes/{run}/{source}.json", source=source, run_id=run, ods_table=source,
        partition_keys=("year", "month", "day"), partitions=(), columns=(),
        event_days=days, events=sum(days.values()), malformed_lines=0, unparsable_event_times=0,
    )  # fmt: skip


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[DateRange, int, dict[date, int], date]:
    today = draw(st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)))
    end = today - timedelta(days=draw(st.integers(1, 60)))
    start = end - timedelta(days=draw(st.integers(0, 20)))
    lookback = draw(st.integers(0, 14))
    offsets = draw(st.dictionaries(st.integers(-120, 30), st.integers(0, 5), max_size=25))
    days = {start + timedelta(days=n): count for n, count in offsets.items()}
    return DateRange(start, end), lookback, days, today


@given(scenarios())
@settings(max_examples=300, deadline=None)
def test_restated_days_are_exactly_the_late_days_within_the_bound(
    scenario: tuple[DateRange, int, dict[date, int], date],
) -> None:
    window, lookback, days, today = scenario
    result = restatement([report("traffic", days)], window, lookback, today)
    earliest = window.start - timedelta(days=lookback)
    outside = {
        d for d, n in days.items() if n > 0 and not window.start <= d <= window.end and d < today
    }
    # Never outside the bound, never missing a day that received data within it.
    assert set(result.restated) == {d for d in outside if d >= earliest}
    # Older ones are counted and reported, never silently dropped.
    assert set(result.beyond_lookback) == {d for d in outside if d < earliest}
    assert all(result.restated[d]["traffic"] == days[d] for d in result.restated)


Reports = list[tuple[str, dict[date, int]]]  # (source, event day -> events), one per report


@st.composite
def multi_source_scenarios(draw: st.DrawFn) -> tuple[DateRange, int, Reports, date]:
    """Several runs' reports of both reference sources, late days before and after the window."""
    window, lookback, _, today = draw(scenarios())
    reports = []
    for _ in range(draw(st.integers(0, 4))):
        source = draw(st.sampled_from(["traffic", "app_activity"]))
        offsets = draw(st.dictionaries(st.integers(-60, 60), st.integers(-1, 5), max_size=10))
        reports.append((source, {window.start + timedelta(days=n): c for n, c in offsets.items()}))
    return window, lookback, reports, today


def covered_days(windows: list[DateRange]) -> set[date]:
    return {day for window in windows for day in window.days()}


@given(multi_source_scenarios())
@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_each_model_rewrites_every_late_day_of_its_sources_and_nothing_beyond_the_bound(
    catalog: Catalog, scenario: tuple[DateRange, int, Reports, date]
) -> None:
    window, lookback, drawn, today = scenario
    reports = [
        report(source, days, run=f"20261121t03000{i}z_00000000")
        for i, (source, days) in enumerate(drawn)
    ]
    late = restatement(reports, window, lookback, today)
    earliest = window.start - timedelta(days=lookback)
    received: dict[date, dict[str, int]] = {}
    for source, days in drawn:
        for day, events in days.items():
            if events > 0 and not window.start <= day <= window.end and day < today:
                received.setdefault(day, {}).setdefault(source, 0)
                received[day][source] += events
    # every day that received data is restated or reported, with every source's events
    assert {**late.restated, **late.beyond_lookback} == received
    assert all(earliest <= day < today for day in late.restated)
    assert all(day < earliest for day in late.beyond_lookback)
    for model in catalog.models:
        covered = covered_days(model_windows(catalog, model, window, late, today))
        wanted = set(window.days()) | late.days_for(upstream_sources(catalog, model))
        # never missing a day: the run's own and every restated day of the model's sources
        assert wanted <= covered, model.name
        if model.granularity != "month":
            # exactly those: no day beyond the bound, no day of another source
            assert covered == wanted, model.name
        else:
            # whole months, of the wanted days only, and none after the last complete day
            assert {(d.year, d.month) for d in covered} == {(d.year, d.month) for d in wanted}
            assert max(covered) <= max(window.end, today - timedelta(days=1)), model.name


def test_counts_of_several_reports_and_sources_add_up() -> None:
    day = date(2026, 11, 17)
    reports = [
        report("traffic", {day: 3}, run="20261119t030000z_00000000"),
        report("traffic", {day: 4}),
        report("app_activity", {day: 1}),
    ]
    result = restatement(reports, DateRange(date(2026, 11, 20), date(2026, 11, 20)), 7, TODAY)
    assert result.restated == {day: {"traffic": 7, "app_activity": 1}}
    # The rows in the execution output read back as the same counts.
    assert from_rows(as_rows(result.restated)) == result.restated


def test_a_model_restates_only_the_days_of_the_sources_it_reads(catalog: Catalog) -> None:
    window = DateRange(date(2026, 11, 20), date(2026, 11, 20))
    late = restatement([report("traffic", {date(2026, 11, 15): 2})], window, 7, TODAY)
    daily = catalog.get("daily")
    assert upstream_sources(catalog, catalog.get("monthly")) == {"traffic"}
    assert model_windows(catalog, daily, window, late, TODAY) == [
        DateRange(date(2026, 11, 15), date(2026, 11, 15)),
        window,
    ]
    other = restatement([report("app_activity", {date(2026, 11, 15): 2})], window, 7, TODAY)
    assert model_windows(catalog, daily, window, other, TODAY) == [window]
    # A month model rewrites whole months, up to the last complete day.
    assert model_windows(catalog, catalog.get("monthly"), window, late, TODAY) == [
        DateRange(date(2026, 11, 1), date(2026, 11, 20))
    ]


def test_the_work_list_keeps_tier_order_and_the_selection(catalog: Catalog) -> None:
    window = DateRange(date(2026, 11, 20), date(2026, 11, 20))
    item = {"run_id": "r", "arrival_end_limit": "2026-11-21", "lookback_days": 7}
    work = tiers(
        catalog, ["monthly", "events"], window, restatement([], window, 7, TODAY), TODAY, item
    )
    assert [(t["tier"], [m["model"] for m in t["models"]]) for t in work] == [  # type: ignore[union-attr]
        ("dwd", ["events"]),
        ("ads", ["monthly"]),
    ]
    events = work[0]["models"][0]  # type: ignore[index]
    assert events == {**item, "model": "events", "tier": "dwd", "windows": [window.as_dict()]}
