"""Has each source's raw data arrived? The freshness check's logic (step `freshness`).

Raw files land under their UTC arrival partition (`<raw_prefix>year=/month=/day=[/hour=]/`),
so a day's partitions are complete once the day is over, and no later file lands in them.
A source declares by when that should be true (`arrives_by`, "HH:MM" UTC on the next day);
after that time the day is *due*. The check counts, for the last due day of each source, its
arrival partitions that hold no object (an hourly source has 24, a daily one 1): the metric
`MissingArrivalPartitions`, which the source's freshness alarm watches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from etl_lambdas.sources import Source


def due_day(now: datetime, arrives_by: str) -> date:
    """The last UTC arrival day whose deadline (`arrives_by` on the next day) has passed."""
    hours, minutes = (int(part) for part in arrives_by.split(":"))
    deadline = time(hours, minutes)
    yesterday = now.date() - timedelta(days=1)
    return yesterday if now.time() >= deadline else yesterday - timedelta(days=1)


def day_prefix(source: Source, day: date) -> str:
    return f"{source.raw_prefix}year={day:%Y}/month={day:%m}/day={day:%d}/"


def expected_partitions(source: Source, day: date) -> list[str]:
    """The arrival partition prefixes of `day` that should each hold at least one file."""
    prefix = day_prefix(source, day)
    if source.arrival == "hourly":
        return [f"{prefix}hour={hour:02d}/" for hour in range(24)]
    return [prefix]


@dataclass(frozen=True)
class Arrival:
    source: str
    day: date
    expected: int
    missing: tuple[str, ...]  # the expected partition prefixes without a file

    def as_dict(self) -> dict[str, object]:
        return {
            "day": self.day.isoformat(),
            "expected_partitions": self.expected,
            "missing_partitions": list(self.missing),
        }


def check(
    sources: Iterable[Source],
    deadlines: dict[str, str],
    now: datetime,
    partitions_with_files: Callable[[Source, date], set[str]],
) -> list[Arrival]:
    """Each source's arrival for its last due day. `partitions_with_files(source, day)` gives
    the prefixes of `expected_partitions(source, day)` that hold a file (one S3 listing)."""
    arrivals = []
    for source in sources:
        day = due_day(now, deadlines[source.name])
        expected = expected_partitions(source, day)
        present = partitions_with_files(source, day)
        missing = tuple(prefix for prefix in expected if prefix not in present)
        arrivals.append(Arrival(source.name, day, len(expected), missing))
    return arrivals


def listed_partitions(s3: object, bucket: str) -> Callable[[Source, date], set[str]]:
    """The S3 listing `check` needs: one ListObjectsV2 per source and day. An hourly source's
    day is listed with the delimiter `/`, whose common prefixes are the hours holding a key
    (S3 reports a prefix only for keys under it); a daily one with MaxKeys 1."""

    def list_day(source: Source, day: date) -> set[str]:
        prefix = day_prefix(source, day)
        if source.arrival == "hourly":
            found: set[str] = set()
            paginator = s3.get_paginator("list_objects_v2")  # type: ignore[attr-defined]
            for page in paginator.paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
                found.update(p["Prefix"] for p in page.get("CommonPrefixes", []))
            return found
        page = s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1)  # type: ignore[attr-defined]
        return {prefix} if page.get("KeyCount", 0) else set()

    return list_day
