"""Deterministic sample traffic events, laid out as Firehose would deliver them to the raw bucket.

Schema and layout: docs/contracts.md, "Raw events and the ODS table". Every sensor reports once
per minute of each LOCAL day (Europe/Brussels, so DST days have 23 or 25 hours); objects are
keyed by ARRIVAL time in UTC. Delivery imperfections the pipeline must handle are part of the
data: sensor error codes, a few impossible values, about 2% of events arriving the next UTC day
and a few re-delivered events.

Output depends only on the arguments (no wall clock, no global random state): each sensor's
readings of a local day come from a generator seeded by (seed, sensor, day), so a day's events
are the same whatever range it is generated in. Memory is bounded by about one arrival hour plus
the day's late events: events are produced in UTC event-hour order, and an arrival hour is
emitted as soon as no later event can still arrive in it.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

TIME_ZONE = ZoneInfo("Europe/Brussels")
RAW_PREFIX = "raw/traffic"
# Firehose writes one object per buffer interval; 900 s is its largest interval.
BUFFER_SECONDS = 900
DELIVERY_STREAM = "traffic-events"
ERROR_CODES = (252, 254, 255)

# Rates per event. Late events arrive on the next UTC day, within its first LATE_WINDOW_SECONDS.
LATE_RATE = 0.02
DUPLICATE_RATE = 0.002
ERROR_CODE_RATE = 0.004
IMPOSSIBLE_RATE = 0.0005
LATE_WINDOW_SECONDS = 6 * 3600
# On-time delivery delay; with the duplicate's extra delay it stays under an hour, which is what
# lets an arrival hour be emitted one event hour after it started.
DELAY_SECONDS = (20, 400)
DUPLICATE_EXTRA_SECONDS = (60, 900)
GZIP_LEVEL = 5

# (road, stretch, free-flow speed km/h) of Flemish roads; segments cycle through them.
ROADS: tuple[tuple[str, str, int], ...] = (
    ("E40", "Gent-Brussel", 120),
    ("E40", "Brussel-Leuven", 120),
    ("E17", "Antwerpen-Gent", 120),
    ("E19", "Antwerpen-Brussel", 120),
    ("E313", "Antwerpen-Hasselt", 120),
    ("E34", "Antwerpen-Eindhoven", 120),
    ("E411", "Brussel-Namen", 120),
    ("E403", "Brugge-Kortrijk", 120),
    ("A12", "Antwerpen-Brussel", 90),
    ("R0", "Ring Brussel", 100),
    ("R1", "Ring Antwerpen", 90),
    ("N49", "Antwerpen-Knokke", 90),
)
SENSORS_PER_SEGMENT = 4
FIRST_SENSOR_ID = 1000


@dataclass(frozen=True)
class Sensor:
    sensor_id: str
    segment: str
    segment_index: int
    free_flow: int
    # How strongly the segment congests at rush hour (0..1).
    congestion_depth: float


def sensors(count: int) -> list[Sensor]:
    """The first `count` sensors, several per road segment; the same for every seed."""
    result = []
    for index in range(count):
        segment_index = index // SENSORS_PER_SEGMENT
        road, stretch, free_flow = ROADS[segment_index % len(ROADS)]
        round_ = segment_index // len(ROADS)
        km = 1.2 + round_ * 3.7 + (segment_index % 7) * 0.1
        # Some segments congest much more than others; a fixed pattern keeps it seed-independent.
        depth = 0.5 + 0.45 * ((segment_index * 73) % 100) / 100
        result.append(
            Sensor(
                sensor_id=str(FIRST_SENSOR_ID + index),
                segment=f"{road} {stretch} km {km:.1f}",
                segment_index=segment_index,
                free_flow=free_flow,
                congestion_depth=min(depth, 0.95),
            )
        )
    return result


def _rush_profile(minute_of_day: int, weekday: bool) -> float:
    """Congestion pressure 0..1 by local minute: morning and evening peaks, lighter at weekends."""
    hour = minute_of_day / 60
    morning = math.exp(-(((hour - 8.0) / 0.8) ** 2))
    evening = math.exp(-(((hour - 17.25) / 1.0) ** 2))
    return (morning + evening) if weekday else 0.25 * evening


def _volume_profile(minute_of_day: int) -> float:
    """Relative traffic volume 0..1 by local minute: low at night, high during the day."""
    hour = minute_of_day / 60
    return 0.08 + 0.92 * math.exp(-(((hour - 13.0) / 5.5) ** 2))


_PROFILES = {
    weekday: (
        [_rush_profile(m, weekday) for m in range(1440)],
        [_volume_profile(m) for m in range(1440)],
    )
    for weekday in (True, False)
}


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants of local midnight starting `day` and the next (23, 24 or 25 hours apart)."""
    start = datetime(day.year, day.month, day.day, tzinfo=TIME_ZONE).astimezone(UTC)
    following = day + timedelta(days=1)
    end = datetime(following.year, following.month, following.day, tzinfo=TIME_ZONE)
    return start, end.astimezone(UTC)


def _offset(instant: datetime) -> str:
    local = instant.astimezone(TIME_ZONE)
    offset = local.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def object_key(buffer_start: datetime, seed: int) -> str:
    """Firehose-style key, under the arrival hour prefix, of the buffer starting at this instant."""
    digest = hashlib.sha256(f"{seed}:{buffer_start.isoformat()}".encode()).digest()
    suffix = uuid.UUID(bytes=digest[:16], version=4)
    stamp = buffer_start.strftime("%Y-%m-%d-%H-%M-%S")
    return (
        f"{RAW_PREFIX}/year={buffer_start:%Y}/month={buffer_start:%m}/day={buffer_start:%d}/"
        f"hour={buffer_start:%H}/{DELIVERY_STREAM}-1-{stamp}-{suffix}.json.gz"
    )


class _Deliveries:
    """Lines waiting for their Firehose buffer (arrival instant rounded down to BUFFER_SECONDS)."""

    def __init__(self) -> None:
        self.pending: dict[int, list[str]] = {}

    def add(self, arrival_epoch: int, line: str) -> None:
        bucket = arrival_epoch - arrival_epoch % BUFFER_SECONDS
        lines = self.pending.get(bucket)
        if lines is None:
            self.pending[bucket] = [line]
        else:
            lines.append(line)

    def flush_before(self, epoch: float, seed: int) -> Iterator[tuple[str, bytes]]:
        for bucket in sorted(b for b in self.pending if b < epoch):
            lines = self.pending.pop(bucket)
            body = ("\n".join(lines) + "\n").encode()
            instant = datetime.fromtimestamp(bucket, UTC)
            yield object_key(instant, seed), gzip.compress(body, GZIP_LEVEL, mtime=0)


def generate_events(
    start: date, end: date, sensors: int, seed: int = 0
) -> Iterator[tuple[str, bytes]]:
    """Yield (raw object key, gzipped JSON lines) for every local day start..end, in key order.

    Late events of the last day land in the following UTC day's arrival prefixes, as in
    production. Raises ValueError for an empty range or a sensor count below 1.
    """
    if end < start:
        raise ValueError(f"end date {end} is before start date {start}")
    if sensors < 1:
        raise ValueError(f"sensor count must be at least 1, got {sensors}")
    fleet = _sensors_cached(sensors)
    deliveries = _Deliveries()
    day = start
    while day <= end:
        yield from _generate_day(day, fleet, seed, deliveries)
        day += timedelta(days=1)
    yield from deliveries.flush_before(math.inf, seed)


_SENSOR_CACHE: dict[int, list[Sensor]] = {}


def _sensors_cached(count: int) -> list[Sensor]:
    if count not in _SENSOR_CACHE:
        _SENSOR_CACHE[count] = sensors(count)
    return _SENSOR_CACHE[count]


def _generate_day(
    day: date, fleet: list[Sensor], seed: int, deliveries: _Deliveries
) -> Iterator[tuple[str, bytes]]:
    day_start, day_end = local_day_bounds(day)
    rush, volume = _PROFILES[day.weekday() < 5]
    rngs = [random.Random(f"{seed}:{s.sensor_id}:{day.isoformat()}") for s in fleet]
    segment_factor = {
        s.segment_index: random.Random(f"{seed}:segment:{s.segment_index}:{day}").uniform(0.5, 1.3)
        for s in fleet
    }
    last_speed = [float(s.free_flow) for s in fleet]
    prefixes = [f'{{"uniqueId": "{s.sensor_id}", "recordTimestamp": "' for s in fleet]
    suffixes = [f', "segment": "{s.segment}"}}' for s in fleet]
    hour_start = day_start
    while hour_start < day_end:
        hour_epoch = int(hour_start.timestamp())
        next_utc_midnight = hour_epoch - hour_epoch % 86400 + 86400
        local = hour_start.astimezone(TIME_ZONE)
        offset = _offset(hour_start)
        stamp_prefix = f"{local:%Y-%m-%dT%H}:"
        minute_of_day = local.hour * 60
        for index, sensor in enumerate(fleet):
            rng = rngs[index]
            random_ = rng.random
            gauss = rng.gauss
            free = sensor.free_flow
            depth = min(0.9, sensor.congestion_depth * segment_factor[sensor.segment_index])
            speed = last_speed[index]
            prefix = prefixes[index]
            suffix = suffixes[index]
            for minute in range(60):
                local_minute = minute_of_day + minute
                target = free * (1.0 - min(0.85, depth * rush[local_minute]))
                previous = speed
                speed = min(160.0, max(3.0, speed + 0.35 * (target - speed) + gauss(0.0, 3.0)))
                current_speed = round(speed)
                slowdown = 1.0 - speed / free
                occupancy = min(100, max(0, round(3 + 70 * max(0.0, slowdown) + 4 * random_())))
                flow = volume[local_minute] * (0.6 + 0.8 * random_())
                cars = round(28 * flow)
                vans = round(4 * flow)
                trucks = round(3 * flow * (0.5 + random_()))
                buses = 1 if random_() < 0.05 * flow else 0
                quality = random_()
                if quality < ERROR_CODE_RATE:
                    current_speed = ERROR_CODES[int(quality * 1e6) % 3]
                elif quality < ERROR_CODE_RATE + IMPOSSIBLE_RATE:
                    kind = int(quality * 1e7) % 3
                    if kind == 0:
                        current_speed = -1
                    elif kind == 1:
                        occupancy = 130
                    else:
                        cars = -3
                line = (
                    f"{prefix}{stamp_prefix}{minute:02d}:00{offset}"
                    f'", "currentSpeed": {current_speed}, "previousSpeed": {round(previous)}'
                    f', "bezettingsgraad": {occupancy}, "trafficIntensityClass2": {cars}'
                    f', "trafficIntensityClass3": {vans}, "trafficIntensityClass4": {buses}'
                    f', "trafficIntensityClass5": {trucks}{suffix}'
                )
                event_epoch = hour_epoch + minute * 60
                delivery = random_()
                if delivery < LATE_RATE:
                    arrival = next_utc_midnight + int(delivery / LATE_RATE * LATE_WINDOW_SECONDS)
                else:
                    arrival = (
                        event_epoch
                        + DELAY_SECONDS[0]
                        + int(
                            (delivery - LATE_RATE)
                            / (1 - LATE_RATE)
                            * (DELAY_SECONDS[1] - DELAY_SECONDS[0])
                        )
                    )
                deliveries.add(arrival, line)
                if random_() < DUPLICATE_RATE:
                    extra = DUPLICATE_EXTRA_SECONDS[0] + int(
                        random_() * (DUPLICATE_EXTRA_SECONDS[1] - DUPLICATE_EXTRA_SECONDS[0])
                    )
                    deliveries.add(arrival + extra, line)
            last_speed[index] = speed
        hour_start += timedelta(hours=1)
        # Every later event happens, so arrives, at or after hour_start: the buffers before it
        # are complete (hours are multiples of BUFFER_SECONDS).
        yield from deliveries.flush_before(hour_start.timestamp(), seed)
