"""Plan: dates, run ids, chunking (properties with hypothesis), rejections, the handler."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl_lambdas.catalog import Catalog
from etl_lambdas.errors import InvalidRunRequest
from etl_lambdas.planning import (
    MAX_PARTITIONS_PER_QUERY,
    RUN_ID,
    DateRange,
    build_plan,
    chunks,
    logical_date,
    partition_count,
    requested_range,
    run_id,
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
    result = chunks(window, granularity)
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
    result = chunks(DateRange(date(2026, 12, 29), date(2027, 1, 6)), "hour")
    assert [(c.start_date.isoformat(), c.end_date.isoformat()) for c in result] == [
        ("2026-12-29", "2027-01-01"),
        ("2027-01-02", "2027-01-05"),
        ("2027-01-06", "2027-01-06"),
    ]


def test_monthly_chunks_touch_at_most_100_months() -> None:
    result = chunks(DateRange(date(2000, 1, 15), date(2010, 1, 1)), "month")
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


def _plan(catalog: Catalog, request: dict[str, object]) -> dict[str, Any]:
    return build_plan(
        request,
        execution_name="exec",
        execution_start=START,
        now=NOW,
        time_zone=ZONE,
        max_days=400,
        catalog=catalog,
    )


def test_plan_lists_tiers_in_order_with_chunks_and_arrival_window(catalog: Catalog) -> None:
    plan = _plan(catalog, {"start_date": "2026-02-26", "end_date": "2026-03-03"})
    assert plan["arrival_start_date"] == "2026-02-25"
    assert plan["arrival_end_date"] == "2026-03-04"
    assert plan["glue_arguments"] == {
        "--arrival_start_date": "2026-02-25",
        "--arrival_end_date": "2026-03-04",
        "--run_id": plan["run_id"],
    }
    assert plan["dates"] == [
        "2026-02-26",
        "2026-02-27",
        "2026-02-28",
        "2026-03-01",
        "2026-03-02",
        "2026-03-03",
    ]
    tiers = plan["tiers"]
    assert [t["tier"] for t in tiers] == ["dwd", "dws", "ads"]
    events = tiers[0]["models"][0]
    assert events["model"] == "events" and events["run_id"] == plan["run_id"]
    assert events["chunks"] == [
        {"index": 0, "start_date": "2026-02-26", "end_date": "2026-03-01"},
        {"index": 1, "start_date": "2026-03-02", "end_date": "2026-03-03"},
    ]
    assert [m["model"] for m in tiers[1]["models"]] == ["hourly", "daily"]


def test_model_subset_keeps_tier_order_and_drops_empty_tiers(catalog: Catalog) -> None:
    plan = _plan(catalog, {"date": "2026-01-01", "models": ["monthly", "events"]})
    assert [(t["tier"], [m["model"] for m in t["models"]]) for t in plan["tiers"]] == [
        ("dwd", ["events"]),
        ("ads", ["monthly"]),
    ]


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
        _plan(catalog, {"date": "2026-01-01", "models": models})


def test_unknown_input_field_is_rejected(catalog: Catalog) -> None:
    with pytest.raises(InvalidRunRequest, match="unknown input field"):
        _plan(catalog, {"date": "2026-01-01", "dates": ["2026-01-01"]})


def test_handler_plans_a_scheduled_run(load_step: Any) -> None:
    plan = load_step("plan", PIPELINE_TIME_ZONE=ZONE, MAX_BACKFILL_DAYS="31")
    event = {
        "input": {"time": "2026-10-25T23:30:00Z"},
        "execution": {"name": "scheduled-1", "start_time": "2026-10-25T23:30:01.5Z"},
    }
    result = plan.handler(event, None)
    assert result["start_date"] == result["end_date"] == "2026-10-25"
    assert result["run_id"].startswith("20261025t233001z_")
    assert result == plan.handler(event, None)  # a retried step plans the same run


def test_handler_rejects_missing_execution_context(load_step: Any) -> None:
    plan = load_step("plan", PIPELINE_TIME_ZONE=ZONE, MAX_BACKFILL_DAYS="31")
    with pytest.raises(InvalidRunRequest, match="must have a name"):
        plan.handler({"input": {"date": "2026-01-01"}, "execution": {"name": None}}, None)
