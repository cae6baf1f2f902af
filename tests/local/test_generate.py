"""The sample-data generator: deterministic, contract-shaped, by arrival time, with flaws."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl_local.generate import (
    BUFFER_SECONDS,
    ERROR_CODES,
    arrival_instant,
    generate_events,
    local_day_bounds,
    sensors,
)

BRUSSELS = ZoneInfo("Europe/Brussels")
KEY = re.compile(
    r"^raw/traffic/year=(\d{4})/month=(\d{2})/day=(\d{2})/hour=(\d{2})/"
    r"traffic-events-1-(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-00-[0-9a-f-]{36}\.json\.gz$"
)
FIELDS = {
    "uniqueId": str,
    "recordTimestamp": str,
    "currentSpeed": int,
    "previousSpeed": int,
    "bezettingsgraad": int,
    "trafficIntensityClass2": int,
    "trafficIntensityClass3": int,
    "trafficIntensityClass4": int,
    "trafficIntensityClass5": int,
    "segment": str,
}


@cache
def _all_objects(
    start: date, end: date, count: int, seed: int = 0
) -> tuple[tuple[str, bytes], ...]:
    return tuple(generate_events(start, end, count, seed))


def _objects(start: date, end: date, count: int, seed: int = 0) -> tuple[tuple[str, bytes], ...]:
    """The traffic feed's objects."""
    objects = _all_objects(start, end, count, seed)
    return tuple((k, b) for k, b in objects if k.startswith("raw/traffic/"))


def _events(objects: tuple[tuple[str, bytes], ...]) -> list[tuple[datetime, dict[str, object]]]:
    """(arrival hour, event) for every line, the arrival hour read back from the key."""
    result = []
    for key, body in objects:
        match = KEY.match(key)
        assert match, key
        year, month, day, hour = (int(g) for g in match.groups()[:4])
        arrival_hour = datetime(year, month, day, hour, tzinfo=UTC)
        for line in gzip.decompress(body).decode().splitlines():
            result.append((arrival_hour, json.loads(line)))
    return result


def _event_time(event: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(event["recordTimestamp"]))


def test_same_seed_same_bytes_other_seed_other_bytes() -> None:
    first = list(generate_events(date(2026, 1, 5), date(2026, 1, 5), 3, seed=7))
    again = list(generate_events(date(2026, 1, 5), date(2026, 1, 5), 3, seed=7))
    other = list(generate_events(date(2026, 1, 5), date(2026, 1, 5), 3, seed=8))
    assert first == again
    assert [b for _, b in first] != [b for _, b in other]
    # every declared source, each under its own prefix
    assert {k.split("/year=")[0] for k, _ in first} == {"raw/traffic", "raw/app_activity"}


def test_every_line_follows_the_raw_contract() -> None:
    for _, event in _events(_objects(date(2026, 1, 5), date(2026, 1, 5), 6)):
        assert set(event) == set(FIELDS)
        for name, kind in FIELDS.items():
            assert type(event[name]) is kind, (name, event)
        stamp = str(event["recordTimestamp"])
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00\+0[12]:00", stamp), stamp
        assert re.fullmatch(r"[A-Z]+\d+ \S.* km \d+\.\d", str(event["segment"]))


def test_one_event_per_sensor_and_local_minute_on_dst_days() -> None:
    # 2026-03-29: clocks go forward (23 h); 2026-10-25: back (25 h).
    for day, hours in ((date(2026, 3, 29), 23), (date(2026, 10, 25), 25), (date(2026, 3, 30), 24)):
        events = _events(_objects(day, day, 2))
        distinct = {(e["uniqueId"], _event_time(e)) for _, e in events}
        assert len(distinct) == 2 * hours * 60
        assert {_event_time(e).astimezone(BRUSSELS).date() for _, e in events} == {day}
        # Re-deliveries are exact copies of an event, never a different reading.
        by_key: dict[tuple[object, object], dict[str, object]] = {}
        for _, event in events:
            by_key.setdefault((event["uniqueId"], event["recordTimestamp"]), event)
            assert by_key[(event["uniqueId"], event["recordTimestamp"])] == event


def test_offsets_follow_brussels_time() -> None:
    events = _events(_objects(date(2026, 10, 25), date(2026, 10, 25), 2))
    for _, event in events:
        stamp = _event_time(event)
        assert stamp.utcoffset() == stamp.astimezone(BRUSSELS).utcoffset()
    assert {str(e["recordTimestamp"])[-6:] for _, e in events} == {"+01:00", "+02:00"}


def test_arrival_prefix_is_at_or_after_the_event_and_late_ones_land_next_utc_day() -> None:
    # Across a month end: the 31st's late events land in the 1st's prefixes.
    events = _events(_objects(date(2026, 1, 30), date(2026, 1, 31), 8))
    late = 0
    for arrival_hour, event in events:
        event_utc = _event_time(event).astimezone(UTC)
        assert arrival_hour + timedelta(hours=1) > event_utc
        if arrival_hour.date() > event_utc.date():
            late += 1
            assert arrival_hour.date() == event_utc.date() + timedelta(days=1)
        else:
            assert arrival_hour - event_utc < timedelta(hours=1)
    fraction = late / len(events)
    assert 0.015 < fraction < 0.025, fraction
    prefixes = {(a.year, a.month, a.day) for a, _ in events}
    assert (2026, 2, 1) in prefixes  # late events of the 31st, in the next month's prefix
    assert (2026, 1, 29) in prefixes  # local midnight of the 30th is 23:00 UTC on the 29th


def test_an_object_lands_when_its_buffer_ends_and_holds_nothing_newer() -> None:
    for key, body in _all_objects(date(2026, 1, 30), date(2026, 1, 31), 8):
        landed = arrival_instant(key)
        assert landed.timestamp() % BUFFER_SECONDS == 0, key
        if key.startswith("raw/traffic/"):
            newest = max(
                _event_time(json.loads(line)) for line in gzip.decompress(body).splitlines()
            )
            assert newest < landed, key
    with pytest.raises(ValueError, match="not a generated object's key"):
        arrival_instant("raw/traffic/year=2026/month=01/day=30/mine.json.gz")


def test_each_sources_objects_come_in_key_order_and_keys_are_unique() -> None:
    keys = [k for k, _ in _all_objects(date(2026, 1, 30), date(2026, 1, 31), 8)]
    for prefix in ("raw/traffic/", "raw/app_activity/"):
        own = [k for k in keys if k.startswith(prefix)]
        assert own and own == sorted(own)
    assert len(set(keys)) == len(keys)


def test_error_codes_impossible_values_and_duplicates_occur() -> None:
    events = [e for _, e in _events(_objects(date(2026, 1, 30), date(2026, 1, 31), 8))]
    speeds = Counter(e["currentSpeed"] for e in events)
    assert all(speeds[code] > 0 for code in ERROR_CODES)
    impossible = [
        e
        for e in events
        if int(e["currentSpeed"]) < 0  # type: ignore[call-overload]
        or int(e["bezettingsgraad"]) > 100  # type: ignore[call-overload]
        or int(e["trafficIntensityClass2"]) < 0  # type: ignore[call-overload]
    ]
    assert 0 < len(impossible) < 0.005 * len(events)
    deliveries = Counter((e["uniqueId"], e["recordTimestamp"]) for e in events)
    assert any(n > 1 for n in deliveries.values())
    valid = [int(s) for s in speeds.elements() if 0 <= int(s) <= 250]  # type: ignore[call-overload]
    # Weekday rush hours bring jams (speeds of 40 km/h or less), free flow dominates.
    assert any(s <= 40 for s in valid)
    assert sorted(valid)[len(valid) // 2] > 80


def test_a_day_is_the_same_whatever_range_it_is_generated_in() -> None:
    alone = _events(_objects(date(2026, 1, 31), date(2026, 1, 31), 3))
    within = _events(_objects(date(2026, 1, 30), date(2026, 1, 31), 3))
    day_of = lambda e: _event_time(e).astimezone(BRUSSELS).date()  # noqa: E731
    assert sorted(
        json.dumps(e, sort_keys=True) for _, e in alone if day_of(e) == date(2026, 1, 31)
    ) == sorted(json.dumps(e, sort_keys=True) for _, e in within if day_of(e) == date(2026, 1, 31))


def test_sensors_are_deterministic_and_share_segments() -> None:
    fleet = sensors(10)
    assert [s.sensor_id for s in fleet] == [str(1000 + i) for i in range(10)]
    assert len({s.segment for s in fleet}) < len(fleet)
    assert fleet == sensors(10)


@pytest.mark.parametrize(
    ("start", "end", "sensors_", "message"),
    [
        (date(2026, 1, 2), date(2026, 1, 1), 1, "before start"),
        (date(2026, 1, 1), date(2026, 1, 1), 0, "at least 1"),
    ],
)
def test_bad_arguments_are_refused(start: date, end: date, sensors_: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        next(generate_events(start, end, sensors_))
    with pytest.raises(ValueError, match="at least 1"):
        next(generate_events(date(2026, 1, 1), date(2026, 1, 1), 1, users=0))


@settings(max_examples=25, deadline=None)
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)))
def test_local_day_spans_midnight_to_midnight(day: date) -> None:
    start, end = local_day_bounds(day)
    assert start.astimezone(BRUSSELS).replace(tzinfo=None) == datetime(day.year, day.month, day.day)
    assert (end - start) in {timedelta(hours=h) for h in (23, 24, 25)}
