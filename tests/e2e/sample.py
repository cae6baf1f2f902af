"""The e2e dataset: a few sensors over a week that crosses a month end, in the past
(the plan rejects days that are not complete yet)."""

from __future__ import annotations

from datetime import date

from etl_local.generate import generate_events

SENSORS = 3
FIRST_DAY = date(2025, 11, 27)
LAST_DAY = date(2025, 12, 3)


def dataset(start: date = FIRST_DAY, end: date = LAST_DAY) -> list[tuple[str, bytes]]:
    """(raw key, gzipped JSON lines) for every local day start..end, late arrivals included."""
    return list(generate_events(start, end, sensors=SENSORS, seed=7))
