"""Run planning: logical dates, run ids, and calendar-safe chunks of a date range.

Pure functions, no AWS and no environment: `plan.py` wires them to the handler.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from etl_lambdas.catalog import TIERS, Catalog, Model
from etl_lambdas.errors import InvalidRunRequest

# Athena writes at most 100 partitions per CTAS / INSERT statement.
MAX_PARTITIONS_PER_QUERY = 100
# Local hours per day that can appear as hour partitions: a 25-hour DST day repeats
# hour '02' (same partition value), a 23-hour one skips it; never more than 24.
MAX_HOUR_PARTITIONS_PER_DAY = 24

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# What a run id looks like: sortable by time, lower case (Glue lowercases table names).
RUN_ID = re.compile(r"^\d{8}t\d{6}z_[0-9a-f]{8}$")


@dataclass(frozen=True)
class Chunk:
    index: int
    start_date: date
    end_date: date

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "start_date": self.start_date.isoformat(),
            "end_date": self.end_date.isoformat(),
        }


@dataclass(frozen=True)
class DateRange:
    start: date
    end: date

    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


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


def arrival_window(start: date, end: date) -> tuple[date, date]:
    """UTC arrival days holding the events of local days start..end (docs/contracts.md).

    A local day starts on the previous UTC day east of Greenwich (and the rolling windows
    need the minutes before midnight); late events arrive up to a day after.
    """
    return start - timedelta(days=1), end + timedelta(days=1)


def template_values(
    start: date, end: date, time_zone: str, databases: Mapping[str, str]
) -> dict[str, str]:
    """The `${...}` values of a model's SQL for the event-time window start..end."""
    arrival_start, arrival_end = arrival_window(start, end)
    return {
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "arrival_start_date": arrival_start.isoformat(),
        "arrival_end_date": arrival_end.isoformat(),
        "time_zone": time_zone,
        **databases,
    }


def logical_date(scheduled_time: datetime, time_zone: str) -> date:
    """The day a scheduled run processes: the day before the schedule time, locally."""
    return scheduled_time.astimezone(ZoneInfo(time_zone)).date() - timedelta(days=1)


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


def selected_models(catalog: Catalog, names: object) -> list[Model]:
    """The requested models (all when None) in tier order, each tier's in catalog order."""
    if names is None:
        chosen = list(catalog.models)
    else:
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise InvalidRunRequest(f"models {names!r} must be a non-empty list of model names")
        unknown = [name for name in names if name not in catalog.names()]
        if unknown:
            raise InvalidRunRequest(
                f"unknown model(s) {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(catalog.names())}"
            )
        chosen = [model for model in catalog.models if model.name in set(names)]
    # Stable sort: within a tier the catalog's order (its declared dependency order) holds.
    return sorted(chosen, key=lambda model: TIERS.index(model.tier))


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


def chunks(window: DateRange, granularity: str) -> list[Chunk]:
    """Contiguous, non-overlapping day ranges covering `window`, each within the limit."""
    result: list[Chunk] = []
    start = window.start
    while start <= window.end:
        end = min(last_day_of_chunk(start, granularity), window.end)
        result.append(Chunk(len(result), start, end))
        start = end + timedelta(days=1)
    return result


def build_plan(
    request: Mapping[str, object],
    *,
    execution_name: str,
    execution_start: datetime,
    now: datetime,
    time_zone: str,
    max_days: int,
    catalog: Catalog,
) -> dict[str, Any]:
    """The run plan the state machine iterates over (see docs/contracts.md)."""
    unknown_keys = set(request) - {"time", "date", "start_date", "end_date", "models"}
    if unknown_keys:
        raise InvalidRunRequest(f"unknown input field(s) {sorted(unknown_keys)}")
    window = requested_range(request, now=now, time_zone=time_zone, max_days=max_days)
    models = selected_models(catalog, request.get("models"))
    run = run_id(execution_name, execution_start)
    tiers: list[dict[str, Any]] = []
    for tier in TIERS:
        items = [_model_item(run, window, model) for model in models if model.tier == tier]
        if items:
            tiers.append({"tier": tier, "models": items})
    arrival_start, arrival_end = arrival_window(window.start, window.end)
    return {
        "run_id": run,
        "start_date": window.start.isoformat(),
        "end_date": window.end.isoformat(),
        "dates": [day.isoformat() for day in window.days()],
        "time_zone": time_zone,
        "arrival_start_date": arrival_start.isoformat(),
        "arrival_end_date": arrival_end.isoformat(),
        # Merged by Glue over the job's default arguments (sources, roots, time zone); the
        # change reports go to <changes_root><run_id>/ (docs/contracts.md, "Glue job").
        "glue_arguments": {
            "--arrival_start_date": arrival_start.isoformat(),
            "--arrival_end_date": arrival_end.isoformat(),
            "--run_id": run,
        },
        "tiers": tiers,
    }


def _model_item(run: str, window: DateRange, model: Model) -> dict[str, Any]:
    # Self-contained: each Map iteration gets everything its steps need.
    return {
        "run_id": run,
        "model": model.name,
        "tier": model.tier,
        "granularity": model.granularity,
        "start_date": window.start.isoformat(),
        "end_date": window.end.isoformat(),
        "chunks": [chunk.as_dict() for chunk in chunks(window, model.granularity)],
    }


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


def parse_chunks(value: object) -> list[Chunk]:
    """Chunks back from a plan item (a step's input), validated."""
    if not isinstance(value, Sequence) or not value:
        raise InvalidRunRequest(f"chunks {value!r} must be a non-empty list")
    result = []
    for item in value:
        if not isinstance(item, Mapping) or not isinstance(item.get("index"), int):
            raise InvalidRunRequest(f"chunk {item!r} must have an integer index")
        result.append(
            Chunk(
                int(item["index"]),
                parse_date("chunk start_date", item.get("start_date")),
                parse_date("chunk end_date", item.get("end_date")),
            )
        )
    return result
