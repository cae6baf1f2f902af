"""The benchmark delivers raw data as production receives it: each object when it lands."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from etl_local.bench.arrivals import HeldArrivals, scheduled_start
from etl_local.bench.run import prod_sizes, run_days
from etl_local.generate import arrival_instant, generate_events

DAY = date(2026, 10, 24)  # the day before Brussels leaves summer time


def test_the_run_for_a_day_starts_the_next_day_at_the_crons_utc_time() -> None:
    assert scheduled_start(date(2026, 12, 31), "cron(0 3 * * ? *)") == datetime(
        2027, 1, 1, 3, 0, tzinfo=UTC
    )
    assert scheduled_start(DAY, "cron(30 23 * * ? *)") == datetime(2026, 10, 25, 23, 30, tzinfo=UTC)
    # The benchmark follows the production schedule.
    assert scheduled_start(DAY, prod_sizes()["schedule_expression"]).date() == date(2026, 10, 25)


@pytest.mark.parametrize(
    ("expression", "message"),
    [("rate(1 day)", "needs a daily cron"), ("cron(0 3 ? * MON *)", "needs a daily cron"),
     ("cron(0 24 * * ? *)", "no such time of day")],
)  # fmt: skip
def test_a_schedule_the_benchmark_cannot_follow_is_refused(expression: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        scheduled_start(DAY, expression)


def test_each_run_finds_what_landed_before_it_and_nothing_later(tmp_path: Path) -> None:
    # Given two days of both sources, held back
    held = HeldArrivals(tmp_path / "held")
    generated = held.hold(generate_events(DAY, date(2026, 10, 25), 2))
    delivered: list[tuple[str, bytes]] = []

    def put(items: Iterable[tuple[str, bytes]]) -> int:
        before = len(delivered)
        delivered.extend(items)
        return len(delivered) - before

    # When the first day's run is due
    first_run = scheduled_start(DAY, "cron(0 3 * * ? *)")
    first = held.deliver(put, first_run)

    # Then it finds every object landed by then and none that lands later
    assert first == [key for key, _ in delivered] and first
    assert all(arrival_instant(key) <= first_run for key, _ in delivered)
    assert all(arrival_instant(key) > first_run for key in _held_keys(held))
    traffic = [body for key, body in delivered if key.startswith("raw/traffic/")]
    newest = max(
        datetime.fromisoformat(json.loads(line)["recordTimestamp"])
        for body in traffic
        for line in gzip.decompress(body).splitlines()
    )
    assert newest < first_run
    # And the next day's run gets the rest of its day, each object once
    held.deliver(put, scheduled_start(date(2026, 10, 25), "cron(0 3 * * ? *)"))
    held.deliver(put, datetime(2100, 1, 1, tzinfo=UTC))
    keys = [key for key, _ in delivered]
    assert len(keys) == len(set(keys)) == generated
    assert held.remaining() == 0


def _held_keys(held: HeldArrivals) -> list[str]:
    return [p.relative_to(held.directory).as_posix() for p in held.directory.rglob("*.gz")]


def test_the_benchmark_days_end_the_day_before_today_across_a_year_end() -> None:
    assert run_days(3, date(2027, 1, 2)) == [
        date(2026, 12, 30),
        date(2026, 12, 31),
        date(2027, 1, 1),
    ]
