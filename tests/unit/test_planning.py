"""Planning: dates, run ids, arrival windows, partition filters, chunking (properties with
hypothesis), rejections."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest
import sqlglot
from hypothesis import given, settings
from hypothesis import strategies as st

from etl_lambdas.catalog import Catalog
from etl_lambdas.errors import InvalidRunRequest
from etl_lambdas.planning import (
    MAX_PARTITIONS_PER_QUERY,
    RUN_ID,
    Chunk,
    DateRange,
    arrival_window,
    build_run,
    catch_up,
    chunks,
    day_partition_filter,
    logical_date,
    partition_count,
    requested_range,
    run_id,
    template_values,
    whole_partitions,
)

ZONE = "Europe/Brussels"
NOW = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
START = datetime(2026, 11, 21, 2, 0, 5, tzinfo=UTC)

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
granularities = st.sampled_from(["hour", "day", "month"])
# Boundaries worth hitting often: DST days, month and year ends, 1st of month, 1 January.
special_days = st.sampled_from(
    [
        date(2026, 3, 29),
        date(2026, 10, 25),
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2024, 2, 29),
        date(2026, 12, 31),
        date(2027, 1, 1),
        date(2026, 4, 1),
    ]
)


@st.composite
def windows(draw: st.DrawFn) -> DateRange:
    start = draw(st.one_of(days, special_days))
    length = draw(st.integers(min_value=0, max_value=4000))
    return DateRange(start, start + timedelta(days=length))


@given(windows(), granularities)
@settings(max_examples=300, deadline=None)
def test_chunks_cover_exactly_without_overlap_within_the_partition_limit(
    window: DateRange, granularity: str
) -> None:
    result = chunks([window], granularity)
    assert result[0].start_date == window.start
    assert result[-1].end_date == window.end
    assert [c.index for c in result] == list(range(len(result)))
    for previous, following in pairwise(result):
        assert following.start_date == previous.end_date + timedelta(days=1)
    for chunk in result:
        assert chunk.start_date <= chunk.end_date
        days_in_chunk = DateRange(chunk.start_date, chunk.end_date).days()
        assert partition_count(days_in_chunk, granularity) <= MAX_PARTITIONS_PER_QUERY
    # Greedy: every chunk but the last is as large as the limit allows.
    for chunk in result[:-1]:
        longer = DateRange(chunk.start_date, chunk.end_date + timedelta(days=1)).days()
        assert partition_count(longer, granularity) > MAX_PARTITIONS_PER_QUERY


def test_hourly_chunks_are_four_days_across_a_month_and_year_end() -> None:
    result = chunks([DateRange(date(2026, 12, 29), date(2027, 1, 6))], "hour")
    assert [(c.start_date.isoformat(), c.end_date.isoformat()) for c in result] == [
        ("2026-12-29", "2027-01-01"),
        ("2027-01-02", "2027-01-05"),
        ("2027-01-06", "2027-01-06"),
    ]


def test_monthly_chunks_touch_at_most_100_months() -> None:
    result = chunks([DateRange(date(2000, 1, 15), date(2010, 1, 1))], "month")
    assert result[0].end_date == date(2008, 4, 30)  # January 2000 + 99 months
    assert result[1].start_date == date(2008, 5, 1)


@pytest.mark.parametrize(
    ("scheduled", "expected"),
    [
        # 00:30 local on 29 March (CET, +01:00) is still 28 March 23:30 UTC.
        ("2026-03-28T23:30:00Z", "2026-03-28"),
        # After the spring-forward night: 02:00 UTC is 04:00 CEST.
        ("2026-03-29T02:00:00Z", "2026-03-28"),
        ("2026-03-29T22:30:00Z", "2026-03-29"),  # 00:30 CEST on 30 March
        # Fall back: 25 October 00:30 CEST = 24 Oct 22:30 UTC; 23:30 CET = 22:30 UTC.
        ("2026-10-24T22:30:00Z", "2026-10-24"),
        ("2026-10-25T22:30:00Z", "2026-10-24"),
        ("2026-10-25T23:30:00Z", "2026-10-25"),
        ("2027-01-01T02:00:00Z", "2026-12-31"),
        ("2026-03-01T02:00:00Z", "2026-02-28"),
        ("2026-11-21T02:00:00+00:00", "2026-11-20"),
    ],
)
def test_schedule_time_becomes_the_previous_local_day(scheduled: str, expected: str) -> None:
    assert logical_date(datetime.fromisoformat(scheduled), ZONE).isoformat() == expected


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
    )
)
@settings(max_examples=200, deadline=None)
def test_logical_date_is_always_the_day_before_local(scheduled: datetime) -> None:
    local = scheduled.astimezone(ZoneInfo(ZONE))
    assert logical_date(scheduled, ZONE) == local.date() - timedelta(days=1)


def _range(request: dict[str, object], now: datetime = NOW, max_days: int = 31) -> DateRange:
    return requested_range(request, now=now, time_zone=ZONE, max_days=max_days)


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"date": "2026-13-01"}, "'2026-13-01' is not a valid calendar date"),
        ({"date": "2026-02-30"}, "'2026-02-30'"),
        ({"date": "20260201"}, "'20260201' is not a date"),
        ({"date": 20260201}, "20260201 is not a date"),
        ({"start_date": "2026-03-05", "end_date": "2026-03-01"}, "end_date 2026-03-01 is before"),
        (
            {"start_date": "2026-01-01", "end_date": "2026-03-01"},
            "60 days, more than the maximum 31",
        ),
        ({"date": "2026-11-21"}, "2026-11-21 is not complete yet"),
        ({"date": "2027-01-01"}, "2027-01-01 is not complete yet"),
        ({"time": "2026-11-21 02:00"}, "no UTC offset"),
        ({"time": "yesterday"}, "'yesterday' is not an ISO-8601"),
        ({"start_date": "2026-03-01"}, "without end_date"),
        ({"end_date": "2026-03-01"}, "without start_date"),
        ({"date": "2026-03-01", "time": "2026-03-02T02:00:00Z"}, "exactly one of"),
        ({}, "exactly one of"),
    ],
)
def test_bad_input_is_rejected_naming_the_value(request_: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidRunRequest, match=message.replace("(", r"\(")):
        _range(request_)


def test_future_is_judged_in_the_pipeline_time_zone() -> None:
    # 23:30 UTC on 20 Nov is already 21 Nov in Brussels: the 20th is complete there.
    late_evening = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
    assert _range({"date": "2026-11-20"}, now=late_evening).end == date(2026, 11, 20)
    with pytest.raises(InvalidRunRequest, match="not complete"):
        _range({"date": "2026-11-20"}, now=datetime(2026, 11, 20, 22, 30, tzinfo=UTC))


def test_maximum_range_is_inclusive() -> None:
    assert len(_range({"start_date": "2026-01-01", "end_date": "2026-01-31"}).days()) == 31


def test_run_id_is_stable_sortable_and_safe() -> None:
    first = run_id("exec-a", datetime(2026, 11, 21, 2, 0, tzinfo=UTC))
    assert first == run_id("exec-a", datetime(2026, 11, 21, 3, 0, tzinfo=ZoneInfo(ZONE)))
    later = run_id("exec-b", datetime(2026, 11, 22, 2, 0, tzinfo=UTC))
    assert first < later
    assert RUN_ID.match(first) and first.startswith("20261121t020000z_")
    assert first != run_id("exec-b", datetime(2026, 11, 21, 2, 0, tzinfo=UTC))


def test_windows_are_merged_and_chunks_numbered_across_them() -> None:
    windows = [
        DateRange(date(2026, 11, 20), date(2026, 11, 20)),
        DateRange(date(2026, 11, 10), date(2026, 11, 11)),
        DateRange(date(2026, 11, 12), date(2026, 11, 12)),  # adjacent: joins the one before
    ]
    assert [(c.index, c.start_date.day, c.end_date.day) for c in chunks(windows, "day")] == [
        (0, 10, 12),
        (1, 20, 20),
    ]


@pytest.mark.parametrize(
    ("start", "end", "today", "lookback", "expected"),
    [
        # The daily run at 03:00 UTC: today (UTC) bounds the arrivals, whatever the look-back.
        ("2026-11-20", "2026-11-20", "2026-11-21", 7, ("2026-11-19", "2026-11-21")),
        # A backfill of older days also reads the arrivals of the look-back after them.
        ("2026-10-01", "2026-10-05", "2026-11-21", 7, ("2026-09-30", "2026-10-13")),
        ("2026-10-01", "2026-10-05", "2026-11-21", 0, ("2026-09-30", "2026-10-06")),
        # Year end.
        ("2026-12-31", "2026-12-31", "2027-01-01", 7, ("2026-12-30", "2027-01-01")),
    ],
)
def test_arrival_window_starts_a_day_early_and_never_ends_after_today(
    start: str, end: str, today: str, lookback: int, expected: tuple[str, str]
) -> None:
    window = arrival_window(
        date.fromisoformat(start), date.fromisoformat(end), lookback, date.fromisoformat(today)
    )
    assert (window.start.isoformat(), window.end.isoformat()) == expected


DUCKDB = duckdb.connect()


@given(st.one_of(days, special_days), st.integers(min_value=0, max_value=800))
@settings(max_examples=60, deadline=None)
def test_day_partition_filter_selects_exactly_the_range(start: date, length: int) -> None:
    """The predicate, run by a real SQL engine over string partition values of every day
    around the range, selects exactly the range's days."""
    end = start + timedelta(days=length)
    first = start - timedelta(days=40)
    predicate = day_partition_filter(start, end)
    selected = DUCKDB.execute(
        "SELECT d FROM (SELECT d, strftime(d, '%Y') AS year, strftime(d, '%m') AS month, "
        f"strftime(d, '%d') AS day FROM (SELECT DATE '{first}' + CAST(i AS INTEGER) AS d "
        f"FROM range({length + 81}) AS t(i))) WHERE {predicate} ORDER BY d"
    ).fetchall()
    assert [row[0] for row in selected] == DateRange(start, end).days()
    # Only partition columns compared with constants, no function: what Glue filters on.
    tree = sqlglot.parse_one(predicate, read="athena")
    functions = [
        node
        for node in tree.find_all(sqlglot.exp.Func)
        if not isinstance(node, sqlglot.exp.Connector)
    ]
    assert functions == []
    assert {c.name for c in tree.find_all(sqlglot.exp.Column)} <= {"year", "month", "day"}


def test_day_partition_filter_names_whole_months_once() -> None:
    assert day_partition_filter(date(2026, 10, 30), date(2026, 12, 2)) == (
        "((year = '2026' AND month = '10' AND day BETWEEN '30' AND '31') OR "
        "(year = '2026' AND month = '11') OR "
        "(year = '2026' AND month = '12' AND day BETWEEN '01' AND '02'))"
    )


def test_template_values_of_a_chunk() -> None:
    values = template_values(
        Chunk(0, date(2026, 11, 19), date(2026, 11, 20)),
        arrival_end_limit=date(2026, 11, 21),
        lookback_days=7,
        time_zone=ZONE,
        databases={"ods_database": "lake_ods"},
    )
    assert values == {
        "start_date": "2026-11-19",
        "end_date": "2026-11-20",
        "arrival_start_date": "2026-11-18",
        "arrival_end_date": "2026-11-21",
        "event_day_partitions": "(year = '2026' AND month = '11' AND day BETWEEN '19' AND '20')",
        "arrival_day_partitions": "(year = '2026' AND month = '11' AND day BETWEEN '18' AND '21')",
        "time_zone": ZONE,
        "ods_database": "lake_ods",
    }


def test_month_models_are_written_whole_months_up_to_the_last_complete_day() -> None:
    windows = [
        DateRange(date(2026, 10, 3), date(2026, 10, 3)),
        DateRange(date(2026, 11, 5), date(2026, 11, 6)),
    ]
    widened = whole_partitions(windows, "month", last=date(2026, 11, 20))
    assert widened == [DateRange(date(2026, 10, 1), date(2026, 11, 20))]
    assert whole_partitions(windows, "day", last=date(2026, 11, 20)) == windows


def _run(catalog: Catalog, request: dict[str, object], lookback: int = 7) -> dict[str, Any]:
    return build_run(
        request,
        execution_name="exec",
        execution_start=START,
        now=NOW,
        time_zone=ZONE,
        max_days=400,
        lookback_days=lookback,
        catalog=catalog,
    )


def test_run_carries_its_window_arrivals_and_models(catalog: Catalog) -> None:
    run = _run(catalog, {"start_date": "2026-02-26", "end_date": "2026-03-03"})
    assert run == {
        "run_id": run_id("exec", START),
        "start_date": "2026-02-26",
        "end_date": "2026-03-03",
        "requested_start_date": "2026-02-26",
        "caught_up": None,
        "missed": None,
        "today": "2026-11-21",
        "time_zone": ZONE,
        "lookback_days": 7,
        "arrival_start_date": "2026-02-25",
        "arrival_end_date": "2026-03-11",
        "models": None,
    }
    assert _run(catalog, {"date": "2026-01-01", "models": ["monthly", "events", "monthly"]})[
        "models"
    ] == ["monthly", "events"]


@pytest.mark.parametrize(
    ("last_settled", "caught_up", "missed"),
    [
        (None, None, None),  # a new deployment: its first run publishes what it is asked for
        ("2026-11-19", None, None),  # yesterday's run published its day
        ("2026-11-25", None, None),  # an older day re-run
        ("2026-11-16", ("2026-11-17", "2026-11-19"), None),  # three days without a run
        ("2026-11-01", ("2026-11-13", "2026-11-19"), ("2026-11-02", "2026-11-12")),
    ],
)
def test_a_run_catches_up_the_days_since_the_last_settled_one_within_the_look_back(
    last_settled: str | None, caught_up: tuple[str, str] | None, missed: tuple[str, str] | None
) -> None:
    window = DateRange(date(2026, 11, 20), date(2026, 11, 20))
    last = date.fromisoformat(last_settled) if last_settled else None

    result = catch_up(window, last, lookback_days=7, max_days=400)

    as_pair = lambda r: (r.start.isoformat(), r.end.isoformat()) if r else None  # noqa: E731
    assert (as_pair(result.caught_up), as_pair(result.missed)) == (caught_up, missed)
    # never more days than a run may have
    short = catch_up(window, last, lookback_days=7, max_days=3)
    assert short.caught_up is None or short.caught_up.start >= date(2026, 11, 18)


@pytest.mark.parametrize(
    ("models", "message"),
    [
        (["events", "nope"], "unknown model\\(s\\) 'nope'"),
        ([], "non-empty list"),
        ("events", "non-empty list"),
    ],
)
def test_unknown_or_malformed_models_are_rejected(
    catalog: Catalog, models: object, message: str
) -> None:
    with pytest.raises(InvalidRunRequest, match=message):
        _run(catalog, {"date": "2026-01-01", "models": models})


def test_a_selection_adds_its_models_to_those_named(catalog: Catalog) -> None:
    # events -> hourly, events -> daily -> monthly
    def models(**request: object) -> object:
        return _run(catalog, {"date": "2026-01-01", **request})["models"]

    assert models(select=["daily+"]) == ["daily", "monthly"]
    assert models(select=["+daily"]) == ["events", "daily"]
    assert models(select="hourly +monthly") == ["events", "daily", "hourly", "monthly"]
    assert models(models=["monthly"], select=["hourly"]) == ["monthly", "hourly"]


@pytest.mark.parametrize(
    ("select", "message"),
    [
        (["nope+"], "no model 'nope'"),
        (["events++"], "must be <model>"),
        ([], "non-empty list"),
        ([3], "non-empty list"),
    ],
)
def test_a_bad_selection_is_an_invalid_request_naming_it(
    catalog: Catalog, select: object, message: str
) -> None:
    with pytest.raises(InvalidRunRequest, match=message):
        _run(catalog, {"date": "2026-01-01", "select": select})


def test_unknown_input_field_is_rejected(catalog: Catalog) -> None:
    with pytest.raises(InvalidRunRequest, match="unknown input field"):
        _run(catalog, {"date": "2026-01-01", "dates": ["2026-01-01"]})
