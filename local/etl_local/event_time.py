"""The typed event time the Glue job writes beside a source's declared event time,
`<column>_utc`, computed in Python for rows that never went through the job: the models' unit
tests (etl_local.model_tests) give raw values, and their ODS tables get the instant as the
job would have written it. tests/glue checks the job against the same cases."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from etl_lambdas.sources import EventTime

# What the Glue job reads as an ISO-8601 event time (glue/convert_raw.py, _ISO8601).
_ISO8601 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?$"
)


def instant(text: str | None, zone: str) -> dt.datetime | None:
    """An iso8601 value's UTC instant as a naive timestamp, a time without offset read in
    `zone`; None when unreadable (the job writes NULL)."""
    value = (text or "").strip()
    if not _ISO8601.match(value):
        return None
    # Spark keeps microseconds: digits beyond them are dropped
    try:
        parsed = dt.datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", value))
    except ValueError:  # the right shape, not a time (hour 25)
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(zone))
    return parsed.astimezone(dt.UTC).replace(tzinfo=None)


def event_instant(value: str | None, event_time: EventTime) -> dt.datetime | None:
    """The instant of a raw event time as the source declares it (iso8601 or epoch)."""
    if value is None or not str(value).strip():
        return None
    if event_time.format == "iso8601":
        return instant(str(value), event_time.zone)
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    seconds = number / 1000 if event_time.format == "epoch_millis" else number
    return dt.datetime.fromtimestamp(seconds, dt.UTC).replace(tzinfo=None)
