"""The benchmark's raw data, delivered as production receives it: each object when it lands.

The scheduled run for day D starts on D + 1 at the schedule's time, and finds in the raw
bucket what landed before then: D's events, the late ones of earlier days, none of D + 1's
later arrivals. Generating every day up front instead would hand the first run all of them
(its arrival window reaches today, and the benchmark's days are in the past), and leave the
later runs nothing new to convert.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from etl_local.generate import arrival_instant

# EventBridge's cron: minutes hours day-of-month month day-of-week year, in UTC
# (EventBridge User Guide, "Cron expressions"). The benchmark needs a daily time.
_DAILY_CRON = re.compile(r"^cron\((\d{1,2}) (\d{1,2}) \* \* \? \*\)$")


def scheduled_start(day: date, schedule_expression: str) -> datetime:
    """When the schedule starts the run that processes `day`: the next day, at its UTC time."""
    found = _DAILY_CRON.match(schedule_expression)
    if found is None:
        raise ValueError(
            f"schedule {schedule_expression!r}: the benchmark needs a daily cron such as "
            "cron(0 3 * * ? *)"
        )
    minute, hour = int(found[1]), int(found[2])
    if minute > 59 or hour > 23:
        raise ValueError(f"schedule {schedule_expression!r}: no such time of day")
    return datetime.combine(day + timedelta(days=1), time(hour, minute), tzinfo=UTC)


class HeldArrivals:
    """Generated raw objects kept on disk, outside the lake, until they land."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def hold(self, items: Iterable[tuple[str, bytes]]) -> int:
        count = 0
        for key, body in items:
            path = self.directory / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
            count += 1
        return count

    def due(self, now: datetime) -> list[str]:
        """Keys of the held objects that have landed by `now`, in key order."""
        keys = (p.relative_to(self.directory).as_posix() for p in self.directory.rglob("*"))
        return sorted(
            k for k in keys if (self.directory / k).is_file() and arrival_instant(k) <= now
        )

    def deliver(
        self, put: Callable[[Iterable[tuple[str, bytes]]], int], now: datetime
    ) -> list[str]:
        """Put (LocalRuntime.put_raw_objects) every object that has landed by `now` into the
        raw bucket, and hold it no more; returns their keys."""
        keys = self.due(now)
        put((key, (self.directory / key).read_bytes()) for key in keys)
        for key in keys:
            (self.directory / key).unlink()
        return keys

    def remaining(self) -> int:
        return sum(1 for p in self.directory.rglob("*") if p.is_file())
