"""The generator follows the source declaration (layout, format, field names) and the app
activity log's values: daily CSV batches, users in their own time zones, late uploads, flaws."""

from __future__ import annotations

import copy
import csv
import gzip
import io
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq

from etl_lambdas.catalog import default_sql_root
from etl_lambdas.sources import SOURCES_FILE, parse_sources, read_document
from etl_local.generate import (
    RELEASES,
    ActivityValues,
    app_users,
    generate_events,
    sample_sources,
)
from tests.e2e.sample import FIRST_DAY, LAST_DAY, dataset

BRUSSELS = ZoneInfo("Europe/Brussels")
DECLARATION = read_document(default_sql_root() / SOURCES_FILE)
KEY = re.compile(
    r"^raw/app_activity/year=(\d{4})/month=(\d{2})/day=(\d{2})/"
    r"app-activity-events-1-(\d{4})-(\d{2})-(\d{2})-\d{2}-\d{2}-00-[0-9a-f-]{36}\.csv\.gz$"
)
HEADER = ["user_id", "action", "event_time", "device", "app_version", "country"]


@cache
def activity(start: date, end: date, users: int, seed: int = 0) -> tuple[tuple[str, bytes], ...]:
    objects = generate_events(start, end, 1, seed, users=users)
    return tuple((k, b) for k, b in objects if k.startswith("raw/app_activity/"))


def rows(objects: tuple[tuple[str, bytes], ...]) -> list[tuple[date, list[str]]]:
    """(arrival day from the key, CSV fields) for every data line."""
    result = []
    for key, body in objects:
        match = KEY.match(key)
        assert match, key
        arrival = date(*(int(g) for g in match.groups()[:3]))
        lines = list(csv.reader(io.StringIO(gzip.decompress(body).decode())))
        assert lines[0] == HEADER, key
        result.extend((arrival, line) for line in lines[1:])
    return result


def well_formed(objects: tuple[tuple[str, bytes], ...]) -> list[tuple[date, dict[str, str]]]:
    result = []
    for arrival, line in rows(objects):
        if len(line) == len(HEADER):
            result.append((arrival, dict(zip(HEADER, line, strict=True))))
    return result


def instant(record: dict[str, str]) -> datetime | None:
    try:
        return datetime.fromisoformat(record["event_time"])
    except ValueError:
        return None


def test_activity_arrives_as_daily_csv_batches_with_the_declared_header() -> None:
    objects = activity(date(2026, 11, 20), date(2026, 11, 20), 40)

    assert objects and all(KEY.match(k) for k, _ in objects)
    days = {KEY.match(k).groups()[:3] for k, _ in objects}  # type: ignore[union-attr]
    assert ("2026", "11", "20") in days
    assert len(rows(objects)) > 40


def test_event_times_carry_the_users_offset_and_fall_in_the_brussels_day() -> None:
    day = date(2026, 10, 25)  # 25 hours in Brussels
    records = [r for _, r in well_formed(activity(day, day, 60))]
    times = [t for t in map(instant, records) if t is not None]

    assert all(t.utcoffset() is not None for t in times)
    offsets = {r["event_time"][-6:] for r in records if instant(r) is not None}
    assert len(offsets) >= 3  # users around the world
    users = {u.user_id: u for u in app_users(60, 0)}
    for record in records:
        moment = instant(record)
        if moment is None or record["country"] != users[record["user_id"]].country:
            continue  # a flawed line
        assert moment.utcoffset() == moment.astimezone(users[record["user_id"]].zone).utcoffset()
        if moment.astimezone(UTC).date() <= day + timedelta(days=1):  # not a clock ahead
            assert moment.astimezone(BRUSSELS).date() == day


def test_uploads_arrive_at_or_after_the_event_some_a_day_or_days_late() -> None:
    objects = activity(date(2026, 11, 16), date(2026, 11, 20), 80)
    lateness = Counter()
    for arrival, record in well_formed(objects):
        moment = instant(record)
        if moment is None or moment.astimezone(UTC).date() > arrival:
            continue  # not a time, or a device clock ahead: the flaws DWD drops
        lateness[min((arrival - moment.astimezone(UTC).date()).days, 2)] += 1
    total = sum(lateness.values())
    assert lateness[0] / total > 0.9
    assert lateness[1] > 0 and lateness[2] > 0  # next day; days late (an offline phone)
    assert lateness[2] / total < 0.02


def test_flaws_and_reuploads_occur_rarely() -> None:
    objects = activity(date(2026, 11, 16), date(2026, 11, 22), 120)
    lines = rows(objects)
    records = [r for _, r in well_formed(objects)]

    malformed = [line for _, line in lines if len(line) != len(HEADER)]
    assert 0 < len(malformed) < 0.005 * len(lines)
    assert any(not r["user_id"].strip() for r in records)
    assert any(r["country"] == "Belgium" for r in records)
    assert any(instant(r) is None for r in records)
    copies = Counter((r["user_id"], r["action"], r["event_time"]) for r in records)
    assert any(n > 1 for n in copies.values())
    assert {r["action"] for r in records} >= {"open", "view", "tap", "purchase"}


def test_daily_active_users_and_version_rollout() -> None:
    day = date(2026, 11, 20)
    records = [r for _, r in well_formed(activity(day, day, 200))]
    active = {r["user_id"] for r in records if r["user_id"].strip()}

    assert 0.4 * 200 < len(active) < 0.9 * 200
    versions = Counter(r["app_version"] for r in records)
    # 5.4.0 came out on 5 October: most users have it, some are still on 5.3.0
    assert versions.most_common(1)[0][0] == "5.4.0"
    assert versions["5.3.0"] > 0
    assert ActivityValues.version(app_users(1, 0)[0], RELEASES[0][1]) == RELEASES[0][0]


def test_a_day_is_the_same_whatever_range_it_is_generated_in() -> None:
    alone = well_formed(activity(date(2026, 11, 21), date(2026, 11, 21), 30))
    within = well_formed(activity(date(2026, 11, 20), date(2026, 11, 21), 30))

    def of_the_21st(found: list[tuple[date, dict[str, str]]]) -> list[str]:
        return sorted(
            repr(sorted(r.items()))
            for _, r in found
            if (t := instant(r)) is not None and t.astimezone(BRUSSELS).date() == date(2026, 11, 21)
        )

    assert of_the_21st(alone) == of_the_21st(within)


def redeclared(**changes: Any) -> Any:
    document = copy.deepcopy(DECLARATION)
    document["sources"] = [s for s in document["sources"] if s["name"] == "traffic"]
    document["sources"][0].update(changes)
    return parse_sources(document)


def test_the_layout_format_and_field_names_come_from_the_declaration() -> None:
    columns = copy.deepcopy(DECLARATION["sources"][0]["columns"])
    columns[0]["field"] = "sensor"  # renamed raw field
    sources = redeclared(
        raw_prefix="landing/sensors/", arrival="daily", columns=columns,
        format={"type": "csv", "delimiter": ";", "header": True},
    )  # fmt: skip

    objects = list(generate_events(date(2026, 1, 5), date(2026, 1, 5), 2, sources=sources))

    assert objects
    for key, body in objects:
        assert re.match(
            r"^landing/sensors/year=2026/month=01/day=0[456]/traffic-events-1-", key
        )  # late: the 6th
        assert key.endswith(".csv.gz")
        header, first = gzip.decompress(body).decode().splitlines()[:2]
        assert header.split(";")[:3] == ["sensor", "recordTimestamp", "currentSpeed"]
        assert first.split(";")[0] in {"1000", "1001"}


def test_parquet_sources_get_parquet_objects() -> None:
    sources = redeclared(format={"type": "parquet"})

    key, body = next(generate_events(date(2026, 1, 5), date(2026, 1, 5), 2, sources=sources))

    assert key.endswith(".parquet")
    table = pq.read_table(io.BytesIO(body))
    assert table.column_names[:2] == ["uniqueId", "recordTimestamp"]


def test_a_declared_source_that_is_not_a_sample_source_is_left_alone() -> None:
    # a user's own source: its files come in with `etl load`, never as generated values
    document = copy.deepcopy(DECLARATION)
    document["sources"].append(
        {
            "name": "meters", "raw_prefix": "raw/meters/", "arrival": "hourly",
            "format": {"type": "json"},
            "columns": [{"name": "meter", "type": "string"}, {"name": "at", "type": "bigint"}],
            "event_time": {"column": "at", "format": "epoch_seconds"},
        }
    )  # fmt: skip
    sources = parse_sources(document)

    keys = [
        key for key, _ in generate_events(date(2026, 1, 5), date(2026, 1, 5), 2, sources=sources)
    ]

    assert keys
    assert [s.name for s in sample_sources(sources)] == ["traffic", "app_activity"]
    assert not any(key.startswith("raw/meters/") for key in keys)


def test_the_e2e_sample_has_app_activity_every_day() -> None:
    # the e2e runs every model, and each model's audit wants rows for every day it runs
    objects = tuple((k, b) for k, b in dataset() if k.startswith("raw/app_activity/"))
    active_days = {
        t.astimezone(BRUSSELS).date()
        for _, r in well_formed(objects)
        if (t := instant(r)) is not None
    }
    days = (LAST_DAY - FIRST_DAY).days + 1
    assert {FIRST_DAY + timedelta(days=n) for n in range(days)} <= active_days
