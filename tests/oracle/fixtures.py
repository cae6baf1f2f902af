"""Small, deterministic ODS rows for the oracle: every cleaning rule and edge of the sample
models is hit (error codes, malformed and offset-less times, re-deliveries, late arrivals,
NULLs, blanks, the night clocks go back in Europe/Brussels), on a two-day window."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any
from zoneinfo import ZoneInfo

BRUSSELS = ZoneInfo("Europe/Brussels")
# The window the models run for: 2026-10-25 has 25 hours in Europe/Brussels.
START_DATE = "2026-10-25"
END_DATE = "2026-10-26"
_FIRST = dt.datetime(2026, 10, 24, 20, 0, tzinfo=dt.UTC)
_LAST = dt.datetime(2026, 10, 27, 1, 0, tzinfo=dt.UTC)


def _arrival_hour(instant: dt.datetime) -> dict[str, str]:
    return {
        "year": f"{instant:%Y}",
        "month": f"{instant:%m}",
        "day": f"{instant:%d}",
        "hour": f"{instant:%H}",
    }


def _written(instant: dt.datetime, rng: random.Random) -> str:
    """The event time as sensors write it: mostly the local offset, some Z, a few broken."""
    roll = rng.random()
    if roll < 0.6:
        return instant.astimezone(BRUSSELS).isoformat(timespec="milliseconds")
    if roll < 0.9:
        return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"
    if roll < 0.94:
        return instant.strftime("%Y-%m-%dT%H:%M:%S")  # no offset: dropped
    if roll < 0.97:
        return instant.strftime("%Y-%m-%d %H:%M:%SZ")  # not ISO-8601 for Athena
    return instant.strftime("%Y-%m-%dT%H:%M+0100")


def traffic_rows(seed: int = 21) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    segments = {"s01": "E40", "s02": "E40", "s03": "R0", "s04": None}
    rows: list[dict[str, Any]] = []
    for sensor, segment in segments.items():
        speed = rng.randint(20, 120)
        instant = _FIRST + dt.timedelta(seconds=rng.randint(0, 59))
        while instant < _LAST:
            speed = max(0, min(140, speed + rng.choice([-35, -20, -5, 0, 0, 5, 20, 35])))
            current = rng.choice([252, 255, -3]) if rng.random() < 0.03 else speed
            late = rng.random() < 0.05
            arrival = instant + dt.timedelta(hours=1 if late else 0)
            row = {
                "sensor_id": None if rng.random() < 0.01 else sensor,
                "record_timestamp": _written(instant, rng),
                "current_speed": None if rng.random() < 0.01 else current,
                "previous_speed": rng.choice([speed, speed, 254, -1, None]),
                "occupancy": rng.choice([rng.randint(0, 100), rng.randint(0, 100), None, 101]),
                "intensity_class2": rng.choice([rng.randint(0, 30), None, -1]),
                "intensity_class3": rng.randint(0, 10),
                "intensity_class4": rng.randint(0, 5),
                "intensity_class5": rng.choice([rng.randint(0, 3), None]),
                "segment": segment,
                **_arrival_hour(arrival),
            }
            rows.append(row)
            if rng.random() < 0.03:  # re-delivered an hour later, values changed
                again = dict(row, current_speed=rng.randint(0, 130))
                again.update(_arrival_hour(arrival + dt.timedelta(hours=1)))
                rows.append(again)
            instant += dt.timedelta(
                minutes=rng.choice([1, 2, 3, 5]), milliseconds=rng.randint(0, 999)
            )
    return rows


def app_activity_rows(seed: int = 22) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    actions = ["open", " View", "PURCHASE", "purchase ", "share", "", None]
    devices = ["ios", "Android ", "web", "", None]
    versions = ["5.2.0", "5.3.0", " 5.3.0 ", "6.0.0-beta", None, ""]
    countries = ["be", "NL", "USA", " fr ", "B1", None]
    offsets = [
        dt.UTC,
        BRUSSELS,
        dt.timezone(dt.timedelta(hours=-5)),
        dt.timezone(dt.timedelta(hours=9)),
    ]
    rows: list[dict[str, Any]] = []
    for n in range(40):
        user = f"u{n:03d}" if n % 13 else f" u{n:03d} "
        device, version, country = rng.choice(devices), rng.choice(versions), rng.choice(countries)
        for _ in range(rng.randint(1, 7)):
            instant = _FIRST + dt.timedelta(
                seconds=rng.randint(0, int((_LAST - _FIRST).total_seconds()))
            )
            written = instant.astimezone(rng.choice(offsets)).isoformat()
            if rng.random() < 0.05:
                written = rng.choice(["yesterday", instant.strftime("%Y-%m-%d %H:%M:%S"), ""])
            arrival = instant + dt.timedelta(days=1 if rng.random() < 0.15 else 0)
            if rng.random() < 0.03:
                arrival = instant - dt.timedelta(days=1)  # a clock in the future: dropped
            row = {
                "user_id": None if rng.random() < 0.02 else user,
                "action": rng.choice(actions),
                "event_time": written,
                "device": device,
                "app_version": version if rng.random() < 0.9 else rng.choice(versions),
                "country": country,
                "year": f"{arrival:%Y}",
                "month": f"{arrival:%m}",
                "day": f"{arrival:%d}",
            }
            rows.append(row)
            if rng.random() < 0.1:  # the same action delivered again the next day
                nxt = arrival + dt.timedelta(days=1)
                rows.append(dict(row, year=f"{nxt:%Y}", month=f"{nxt:%m}", day=f"{nxt:%d}"))
    return rows
