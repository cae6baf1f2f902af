"""Run planning: logical dates, run ids, arrival windows and calendar-safe chunks.

Pure functions, no AWS and no environment: the step handlers wire them to events.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from etl_lambdas.catalog import Catalog
from etl_lambdas.errors import InvalidRunRequest
from etl_lambdas.selection import SelectionError, select, selectors_of

# Athena writes at most 100 partitions per CTAS / INSERT statement.
MAX_PARTITIONS_PER_QUERY = 100
# Local hours per day that can appear as hour partitions: a 25-hour DST day repeats
# hour '02' (same partition value), a 23-hour one skips it; never more than 24.
MAX_HOUR_PARTITIONS_PER_DAY = 24

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# What a run id looks like: sortable by time, lower case (Glue lowercases table names).
RUN_ID = re.compile(r"^\d{8}t\d{6}z_[0-9a-f]{8}$")
REQUEST_FIELDS = frozenset({"time", "date", "start_date", "end_date", "models", "select"})


@dataclass(frozen=True)
class DateRange:
    start: date
    end: date

    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def as_dict(self) -> dict[str, str]:
        return {"start_date": self.start.isoformat(), "end_date": self.end.isoformat()}


@dataclass(frozen=True)
class Chunk:
    index: int
    start_date: date
    end_date: date


def run_id(execution_name: str, execution_start: datetime) -> str:
    """Stable for one execution (Lambda retries see the same one), sortable by start time."""
    if execution_start.tzinfo is None:
        raise InvalidRunRequest(f"execution start time {execution_start!r} has no time zone")
    stamp = execution_start.astimezone(UTC).strftime("%Y%m%dt%H%M%Sz")
    digest = hashlib.sha256(execution_name.encode("utf-8")).hexdigest()[:8]
    return f"{stamp}_{digest}"


def parse_date(label: str, value: object) -> date:
    if not isinstance(value, str) or not _DATE.match(value):
        raise InvalidRunRequest(f"{label} {value!r} is not a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidRunRequest(f"{label} {value!r} is not a valid calendar date") from None


def parse_timestamp(label: str, value: object) -> datetime:
    if not isinstance(value, str):
        raise InvalidRunRequest(f"{label} {value!r} is not an ISO-8601 timestamp")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidRunRequest(f"{label} {value!r} is not an ISO-8601 timestamp") from None
    if parsed.tzinfo is None:
        raise InvalidRunRequest(f"{label} {value!r} has no UTC offset")
    return parsed


def logical_date(scheduled_time: datetime, time_zone: str) -> date:
    """The day a scheduled run processes: the day before the schedule time, locally."""
    return scheduled_time.astimezone(ZoneInfo(time_zone)).date() - timedelta(days=1)


def arrival_window(start: date, end: date, lookback_days: int, today_utc: date) -> DateRange:
    """UTC arrival days that hold the events of local days start..end (docs/contracts.md).

    A local day starts on the previous UTC day east of Greenwich (and the rolling windows
    need the minutes before midnight), so reading starts a day early. Events may arrive up
    to `lookback_days` days after the day after their own: those are read too, but never
    beyond today, so a daily run reads three arrival days, not ten.
    """
    return DateRange(
        start - timedelta(days=1), min(end + timedelta(days=1 + lookback_days), today_utc)
    )


def day_partition_filter(start: date, end: date) -> str:
    """A predicate on string partition columns year/month/day selecting start..end.

    Written on the partition columns themselves, so Athena pushes it down to Glue's
    partition filtering (an expression such as concat(year, '-', month, '-', day) cannot be
    pushed down, and every partition of the table would be listed). Whole months are one
    term; a window within a month is a BETWEEN on day.
    """
    if end < start:
        raise ValueError(f"empty range {start}..{end}")
    terms = []
    day = start
    while day <= end:
        month_last = _add_months(day.replace(day=1), 1) - timedelta(days=1)
        last = min(end, month_last)
        if day.day == 1 and last == month_last:
            terms.append(f"(year = '{day:%Y}' AND month = '{day:%m}')")
        else:
            terms.append(
                f"(year = '{day:%Y}' AND month = '{day:%m}' AND day BETWEEN '{day:%d}' AND "
                f"'{last:%d}')"
            )
        day = last + timedelta(days=1)
    return terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")"


def template_values(
    chunk: Chunk,
    *,
    arrival_end_limit: date,
    lookback_days: int,
    time_zone: str,
    databases: Mapping[str, str],
) -> dict[str, str]:
    """The `${...}` values of a model's SQL for one chunk (README: "Adding a model")."""
    arrivals = arrival_window(chunk.start_date, chunk.end_date, lookback_days, arrival_end_limit)
    return {
        "start_date": chunk.start_date.isoformat(),
        "end_date": chunk.end_date.isoformat(),
        "arrival_start_date": arrivals.start.isoformat(),
        "arrival_end_date": arrivals.end.isoformat(),
        "event_day_partitions": day_partition_filter(chunk.start_date, chunk.end_date),
        "arrival_day_partitions": day_partition_filter(arrivals.start, arrivals.end),
        "time_zone": time_zone,
        **databases,
    }


def requested_range(
    request: Mapping[str, object], *, now: datetime, time_zone: str, max_days: int
) -> DateRange:
    """The inclusive date range an execution input asks for, validated."""
    forms = [key for key in ("time", "date", "start_date") if key in request]
    if "end_date" in request and "start_date" not in request:
        raise InvalidRunRequest("end_date given without start_date")
    if len(forms) != 1:
        raise InvalidRunRequest(
            "input must have exactly one of 'time', 'date' or 'start_date'+'end_date'; "
            f"got keys {sorted(request)}"
        )
    if "time" in request:
        day = logical_date(parse_timestamp("time", request["time"]), time_zone)
        window = DateRange(day, day)
    elif "date" in request:
        day = parse_date("date", request["date"])
        window = DateRange(day, day)
    else:
        if "end_date" not in request:
            raise InvalidRunRequest("start_date given without end_date")
        start = parse_date("start_date", request["start_date"])
        end = parse_date("end_date", request["end_date"])
        if end < start:
            raise InvalidRunRequest(f"end_date {end} is before start_date {start}")
        window = DateRange(start, end)
    today = now.astimezone(ZoneInfo(time_zone)).date()
    if window.end >= today:
        raise InvalidRunRequest(
            f"date {window.end} is not complete yet in {time_zone} (today is {today})"
        )
    days = (window.end - window.start).days + 1
    if days > max_days:
        raise InvalidRunRequest(
            f"range {window.start}..{window.end} is {days} days, more than the maximum {max_days}"
        )
    return window


def requested_models(value: object, known: Sequence[str]) -> list[str] | None:
    """The input's `models` (None: all), validated against the model catalog."""
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(n, str) for n in value):
        raise InvalidRunRequest(f"models {value!r} must be a non-empty list of model names")
    unknown = [name for name in value if name not in known]
    if unknown:
        raise InvalidRunRequest(
            f"unknown model(s) {', '.join(map(repr, unknown))}; known: {', '.join(known)}"
        )
    return list(dict.fromkeys(value))


@dataclass(frozen=True)
class CatchUp:
    """The days a run adds before its window because no run published them (an outage, or
    failed runs): after the last settled day, within the look-back bound; older ones are
    missed, and said so."""

    caught_up: DateRange | None
    missed: DateRange | None


def catch_up(
    window: DateRange, last_settled: date | None, lookback_days: int, max_days: int
) -> CatchUp:
    """Days between the last day a run settled and the window, as far back as the look-back
    bound (and the longest run) allows. A deployment that never settled a day catches up
    nothing: its first run publishes what it is asked for."""
    if last_settled is None or last_settled >= window.start - timedelta(days=1):
        return CatchUp(None, None)
    gap = DateRange(last_settled + timedelta(days=1), window.start - timedelta(days=1))
    earliest = max(
        window.start - timedelta(days=lookback_days), window.end - timedelta(days=max_days - 1)
    )
    first = max(gap.start, earliest)
    caught = DateRange(first, gap.end) if first <= gap.end else None
    missed = (
        DateRange(gap.start, min(gap.end, first - timedelta(days=1))) if gap.start < first else None
    )
    return CatchUp(caught, missed)


def run_models(request: Mapping[str, object], catalog: Catalog) -> list[str] | None:
    """The models a run covers (None: every model): those its `models` names and those its
    `select` selects (etl_lambdas.selection), together."""
    named = requested_models(request.get("models"), catalog.names())
    if "select" not in request:
        return named
    try:
        selected = select(selectors_of(request["select"]), catalog)
    except SelectionError as error:
        raise InvalidRunRequest(str(error)) from None
    return list(dict.fromkeys([*(named or []), *selected]))


def build_run(
    request: Mapping[str, object],
    *,
    execution_name: str,
    execution_start: datetime,
    now: datetime,
    time_zone: str,
    max_days: int,
    lookback_days: int,
    catalog: Catalog,
    last_settled: date | None = None,
) -> dict[str, Any]:
    """The run the state machine carries: its id, window (grown by the days to catch up,
    for a run of every model), arrival window, selected models."""
    unknown_keys = set(request) - REQUEST_FIELDS
    if unknown_keys:
        raise InvalidRunRequest(f"unknown input field(s) {sorted(unknown_keys)}")
    requested = requested_range(request, now=now, time_zone=time_zone, max_days=max_days)
    models = run_models(request, catalog)
    behind = (
        catch_up(requested, last_settled, lookback_days, max_days)
        if models is None
        else CatchUp(None, None)
    )
    window = DateRange(behind.caught_up.start, requested.end) if behind.caught_up else requested
    # Nothing arrives after the execution started: it bounds every arrival window.
    today_utc = execution_start.astimezone(UTC).date()
    arrivals = arrival_window(window.start, window.end, lookback_days, today_utc)
    return {
        "run_id": run_id(execution_name, execution_start),
        "start_date": window.start.isoformat(),
        "end_date": window.end.isoformat(),
        "requested_start_date": requested.start.isoformat(),
        "caught_up": behind.caught_up.as_dict() if behind.caught_up else None,
        "missed": behind.missed.as_dict() if behind.missed else None,
        "today": execution_start.astimezone(ZoneInfo(time_zone)).date().isoformat(),
        "time_zone": time_zone,
        "lookback_days": lookback_days,
        "arrival_start_date": arrivals.start.isoformat(),
        "arrival_end_date": arrivals.end.isoformat(),
        "models": models,
    }


def months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month + 1


def _add_months(day: date, months: int) -> date:
    """First day of the month `months` after `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def last_day_of_chunk(start: date, granularity: str) -> date:
    """The furthest end date such that start..end has at most 100 partitions."""
    if granularity == "hour":
        return start + timedelta(days=MAX_PARTITIONS_PER_QUERY // MAX_HOUR_PARTITIONS_PER_DAY - 1)
    if granularity == "day":
        return start + timedelta(days=MAX_PARTITIONS_PER_QUERY - 1)
    if granularity == "month":
        return _add_months(start, MAX_PARTITIONS_PER_QUERY) - timedelta(days=1)
    raise ValueError(f"unknown granularity {granularity!r}")


def whole_partitions(windows: Iterable[DateRange], granularity: str, last: date) -> list[DateRange]:
    """Windows widened to whole partitions of the granularity, merged, none after `last`.

    A month model's partition is the whole month: writing it from a window of one day
    would replace the month with that day's rows. Days and hours are already whole.
    """
    widened = []
    for window in windows:
        if granularity == "month":
            start = window.start.replace(day=1)
            month_last = _add_months(window.end.replace(day=1), 1) - timedelta(days=1)
            widened.append(DateRange(start, max(min(month_last, last), window.end)))
        else:
            widened.append(window)
    return merge_ranges(widened)


def merge_ranges(ranges: Iterable[DateRange]) -> list[DateRange]:
    """Sorted, non-overlapping ranges; adjacent ones joined."""
    merged: list[DateRange] = []
    for current in sorted(ranges, key=lambda r: r.start):
        if merged and current.start <= merged[-1].end + timedelta(days=1):
            if current.end > merged[-1].end:
                merged[-1] = DateRange(merged[-1].start, current.end)
        else:
            merged.append(current)
    return merged


def ranges_of_days(days: Iterable[date]) -> list[DateRange]:
    return merge_ranges(DateRange(day, day) for day in days)


def chunks(windows: Sequence[DateRange], granularity: str) -> list[Chunk]:
    """Contiguous, non-overlapping day ranges covering the windows, each within the limit."""
    result: list[Chunk] = []
    for window in merge_ranges(windows):
        start = window.start
        while start <= window.end:
            end = min(last_day_of_chunk(start, granularity), window.end)
            result.append(Chunk(len(result), start, end))
            start = end + timedelta(days=1)
    return result


def partition_count(days: Iterable[date], granularity: str) -> int:
    """Distinct partitions a set of local days can produce (hour: up to 24 per day)."""
    days = list(days)
    if granularity == "hour":
        return len(set(days)) * MAX_HOUR_PARTITIONS_PER_DAY
    if granularity == "day":
        return len(set(days))
    if granularity == "month":
        return len({(day.year, day.month) for day in days})
    raise ValueError(f"unknown granularity {granularity!r}")


def parse_windows(value: object) -> list[DateRange]:
    """Windows back from a model item (a step's input), validated."""
    if not isinstance(value, Sequence) or isinstance(value, str) or not value:
        raise InvalidRunRequest(f"windows {value!r} must be a non-empty list")
    result = []
    for item in value:
        if not isinstance(item, Mapping):
            raise InvalidRunRequest(f"window {item!r} must be an object")
        window = DateRange(
            parse_date("window start_date", item.get("start_date")),
            parse_date("window end_date", item.get("end_date")),
        )
        if window.end < window.start:
            raise InvalidRunRequest(f"window {item!r} ends before it starts")
        result.append(window)
    return result
