"""Late data: which days are open (from the ledger), which are restated (properties with
hypothesis), for which models, and never a day after the run's window."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl_lambdas.catalog import Catalog
from etl_lambdas.ledger import Conversion, ConvertedPartition, Settled
from etl_lambdas.planning import DateRange, chunks, template_values
from etl_lambdas.restatement import (
    DayCounts,
    as_rows,
    from_rows,
    model_windows,
    open_days,
    restatement,
    tiers,
    upstream_sources,
)

TODAY = date(2026, 11, 21)
RUN = "20261121t030000z_00000000"


def conversion(source: str, days: dict[date, int], run: str = RUN, hour: str = "05") -> Conversion:
    partition = ConvertedPartition(
        values=("2026", "11", "20", hour), location=f"s3://c/ods/{source}/h={hour}/",
        new_files=frozenset({f"f-{run}"}), event_days=days, unparsable_event_times=0,
        malformed_lines=0, malformed_files={}, has_rows=True,
    )  # fmt: skip
    return Conversion(source, run, partition)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[DateRange, int, DayCounts, date]:
    today = draw(st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)))
    end = today - timedelta(days=draw(st.integers(1, 60)))
    start = end - timedelta(days=draw(st.integers(0, 20)))
    lookback = draw(st.integers(0, 14))
    offsets = draw(st.dictionaries(st.integers(-120, 90), st.integers(1, 5), max_size=25))
    days = {start + timedelta(days=n): {"traffic": count} for n, count in offsets.items()}
    return DateRange(start, end), lookback, days, today


@given(scenarios())
@settings(max_examples=300, deadline=None)
def test_open_days_are_restated_within_the_bound_reported_beyond_it_and_never_after_the_window(
    scenario: tuple[DateRange, int, DayCounts, date],
) -> None:
    window, lookback, days, today = scenario
    result = restatement(days, window, lookback, today)
    earliest = window.start - timedelta(days=lookback)
    before = {d for d in days if d < window.start}
    # Never outside the bound, never missing a day that received data within it.
    assert set(result.restated) == {d for d in before if d >= earliest}
    # Older ones are counted and reported, never silently dropped.
    assert set(result.beyond_lookback) == {d for d in before if d < earliest}
    # Look back only: a later day stays open for its own run (or a later run's look-back);
    # one after the run's today cannot have happened yet, and is reported.
    assert set(result.later) == {d for d in days if window.end < d <= today}
    assert set(result.future) == {d for d in days if d > today}
    assert all(result.restated[d] == days[d] for d in result.restated)


def test_a_day_is_open_when_the_run_that_converted_events_of_it_is_later_than_its_settling() -> (
    None
):
    day, other = date(2026, 11, 17), date(2026, 11, 18)
    settled = {"traffic": Settled("traffic", {day: "20261119t030000z_00000000"})}
    found = [
        conversion("traffic", {day: 3}, run="20261118t030000z_00000000"),  # published since
        conversion("traffic", {day: 4, other: 2}, run=RUN, hour="06"),  # converted after
        conversion("app_activity", {day: 1}),  # never settled: open
    ]
    assert open_days(found, settled) == {
        day: {"traffic": 4, "app_activity": 1},
        other: {"traffic": 2},
    }
    # the same run's settlement closes what it converted
    closed = {"traffic": Settled("traffic", {day: RUN, other: RUN})}
    assert open_days(found[:2], closed) == {}


Entries = list[tuple[str, dict[date, int]]]  # (source, event day -> events), one per conversion


@st.composite
def multi_source_scenarios(draw: st.DrawFn) -> tuple[DateRange, int, Entries, date]:
    """Conversions of both reference sources, with days before and after the window."""
    window, lookback, _, today = draw(scenarios())
    drawn = []
    for _ in range(draw(st.integers(0, 4))):
        source = draw(st.sampled_from(["traffic", "app_activity"]))
        offsets = draw(st.dictionaries(st.integers(-60, 60), st.integers(0, 5), max_size=10))
        drawn.append((source, {window.start + timedelta(days=n): c for n, c in offsets.items()}))
    return window, lookback, drawn, today


def covered_days(windows: list[DateRange]) -> set[date]:
    return {day for window in windows for day in window.days()}


@given(multi_source_scenarios())
@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_each_model_rewrites_every_late_day_of_its_sources_and_nothing_after_its_window(
    catalog: Catalog, scenario: tuple[DateRange, int, Entries, date]
) -> None:
    window, lookback, drawn, today = scenario
    found = [
        conversion(source, days, run=f"20261121t03000{i}z_00000000")
        for i, (source, days) in enumerate(drawn)
    ]
    late = restatement(open_days(found, {}), window, lookback, today)
    earliest = window.start - timedelta(days=lookback)
    received: dict[date, dict[str, int]] = {}
    for source, days in drawn:
        for day, events in days.items():
            if events > 0 and day < window.start:
                received.setdefault(day, {}).setdefault(source, 0)
                received[day][source] += events
    # every earlier day that received data is restated or reported, with every source's events
    assert {**late.restated, **late.beyond_lookback} == received
    assert all(earliest <= day < window.start for day in late.restated)
    for model in catalog.models:
        windows = model_windows(catalog, model, window, late)
        covered = covered_days(windows)
        wanted = set(window.days()) | late.days_for(upstream_sources(catalog, model))
        # never missing a day: the run's own and every restated day of the model's sources
        assert wanted <= covered, model.name
        # a day is published by its own run: none after the window's end
        assert max(covered) == window.end, model.name
        if model.granularity != "month":
            assert covered == wanted, model.name
        else:
            assert {(d.year, d.month) for d in covered} == {(d.year, d.month) for d in wanted}
        # and every chunk renders: its arrival window is never empty
        for chunk in chunks(windows, model.granularity):
            template_values(
                chunk, arrival_end_limit=window.end + timedelta(days=1), lookback_days=lookback,
                time_zone="Europe/Brussels", databases={},
            )  # fmt: skip


def test_a_backfill_after_a_failed_run_with_open_days_after_it_neither_publishes_nor_crashes(
    catalog: Catalog,
) -> None:
    # given a failed run that converted events of days after the backfill's window (issue:
    # "ValueError: empty range 2026-12-02..2013-01-15" in the backfill's write step)
    found = [conversion("traffic", {date(2026, 12, 2): 50, date(2013, 1, 2): 5})]
    window = DateRange(date(2013, 1, 1), date(2013, 1, 14))
    late = restatement(open_days(found, {}), window, 7, date(2026, 12, 6))

    # then the backfill publishes its own days only, each chunk renders, the later day stays open
    assert late.restated == {} and set(late.later) == {date(2026, 12, 2)}
    for model in catalog.models:
        windows = model_windows(catalog, model, window, late)
        assert max(covered_days(windows)) == window.end
        for chunk in chunks(windows, model.granularity):
            template_values(
                chunk, arrival_end_limit=date(2013, 1, 15), lookback_days=7,
                time_zone="Europe/Brussels", databases={},
            )  # fmt: skip


def test_counts_of_several_conversions_and_sources_add_up() -> None:
    day = date(2026, 11, 17)
    found = [
        conversion("traffic", {day: 3}, run="20261119t030000z_00000000"),
        conversion("traffic", {day: 4}, hour="06"),
        conversion("app_activity", {day: 1}),
    ]
    result = restatement(open_days(found, {}), DateRange(TODAY, TODAY), 7, TODAY)
    assert result.restated == {day: {"traffic": 7, "app_activity": 1}}
    # The rows in the execution output read back as the same counts.
    assert from_rows(as_rows(result.restated)) == result.restated
    assert result.settled_days("traffic") == {day}


def test_a_model_restates_only_the_days_of_the_sources_it_reads(catalog: Catalog) -> None:
    window = DateRange(date(2026, 11, 20), date(2026, 11, 20))
    late = restatement({date(2026, 11, 15): {"traffic": 2}}, window, 7, TODAY)
    daily = catalog.get("daily")
    assert upstream_sources(catalog, catalog.get("monthly")) == {"traffic"}
    assert model_windows(catalog, daily, window, late) == [
        DateRange(date(2026, 11, 15), date(2026, 11, 15)),
        window,
    ]
    other = restatement({date(2026, 11, 15): {"app_activity": 2}}, window, 7, TODAY)
    assert model_windows(catalog, daily, window, other) == [window]
    # A month model rewrites whole months, up to the window's last day, never beyond it.
    assert model_windows(catalog, catalog.get("monthly"), window, late) == [
        DateRange(date(2026, 11, 1), date(2026, 11, 20))
    ]
    october = restatement({date(2026, 10, 30): {"traffic": 2}}, window, 30, TODAY)
    assert model_windows(catalog, catalog.get("monthly"), window, october) == [
        DateRange(date(2026, 10, 1), date(2026, 11, 20))
    ]


def test_the_work_list_keeps_tier_order_and_the_selection(catalog: Catalog) -> None:
    window = DateRange(date(2026, 11, 20), date(2026, 11, 20))
    item = {"run_id": "r", "arrival_end_limit": "2026-11-21", "lookback_days": 7}
    work = tiers(catalog, ["monthly", "events"], window, restatement({}, window, 7, TODAY), item)
    assert [(t["tier"], [m["model"] for m in t["models"]]) for t in work] == [  # type: ignore[union-attr]
        ("dwd", ["events"]),
        ("ads", ["monthly"]),
    ]
    events = work[0]["models"][0]  # type: ignore[index]
    assert events == {**item, "model": "events", "tier": "dwd", "windows": [window.as_dict()]}
