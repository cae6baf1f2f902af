"""Deterministic sample data for the sample sources, laid out as it arrives in the raw bucket.

The layout, format and field names come from the source declaration (sql/sources.yaml, through
etl_lambdas.sources): objects go under `<raw_prefix>year=/month=/day=[/hour=]/` by ARRIVAL time
in UTC, one object per delivery buffer (Firehose's 900 s), written as gzipped JSON lines, gzipped
CSV or Parquet, with the declared raw field names. The values come from a small registry of
value generators, one per source name: the traffic sensors (docs/contracts.md, "Raw events and
the ODS table") and the app activity log. A declared source without one is the user's own: it
is never generated (`etl load` brings its files in). Each value generator produces the events
of one LOCAL day (Europe/Brussels, so DST days have 23 or 25 hours) with their arrival
instants; delivery imperfections the pipeline must handle are part of the data (late and
re-delivered events, impossible values, malformed lines).

Output depends only on the arguments (no wall clock, no global random state): a day's values
come from generators seeded by (seed, entity, day), so a day's events are the same whatever range
it is generated in. Memory is bounded by the events not yet delivered: value generators produce
events in event-time order, and a buffer is emitted as soon as no later event can still arrive in
it (every event arrives at or after it happened).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import itertools
import json
import math
import random
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from etl_lambdas.catalog import default_sql_root
from etl_lambdas.sources import SOURCES_FILE, Source, Sources, load_sources

TIME_ZONE = ZoneInfo("Europe/Brussels")
# Firehose writes one object per buffer interval; 900 s is its largest interval.
BUFFER_SECONDS = 900
GZIP_LEVEL = 5
# Users of the app per traffic sensor when no user count is given.
USERS_PER_SENSOR = 2


@dataclass(frozen=True)
class RawLine:
    """A line written as is instead of a record: how a generator makes a malformed line."""

    text: str


# One event: when it arrives (UTC epoch seconds) and its values, in the generator's column
# order, or a RawLine.
Delivery = tuple[int, "tuple[Any, ...] | RawLine"]


class ValueGenerator(Protocol):
    """The values of one source's events, local day by local day."""

    columns: tuple[str, ...]

    def day(self, day: date) -> Iterator[tuple[int, list[Delivery]]]:
        """(watermark, deliveries) in time order: every later event happens, hence arrives,
        at or after the watermark (UTC epoch seconds)."""
        ...


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants of local midnight starting `day` and the next (23, 24 or 25 hours apart)."""
    start = datetime(day.year, day.month, day.day, tzinfo=TIME_ZONE).astimezone(UTC)
    following = day + timedelta(days=1)
    end = datetime(following.year, following.month, following.day, tzinfo=TIME_ZONE)
    return start, end.astimezone(UTC)


def _offset(instant: datetime, zone: ZoneInfo = TIME_ZONE) -> str:
    offset = instant.astimezone(zone).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


# -- the traffic sensors ---------------------------------------------------------------------

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


class TrafficValues:
    """Every sensor reports once per minute of each local day."""

    columns: tuple[str, ...] = (
        "sensor_id", "record_timestamp", "current_speed", "previous_speed", "occupancy",
        "intensity_class2", "intensity_class3", "intensity_class4", "intensity_class5", "segment",
    )  # fmt: skip

    def __init__(self, count: int, seed: int) -> None:
        self.fleet = sensors(count)
        self.seed = seed

    def day(self, day: date) -> Iterator[tuple[int, list[Delivery]]]:
        day_start, day_end = local_day_bounds(day)
        rush, volume = _PROFILES[day.weekday() < 5]
        seed = self.seed
        rngs = [random.Random(f"{seed}:{s.sensor_id}:{day.isoformat()}") for s in self.fleet]
        factor = {
            s.segment_index: random.Random(f"{seed}:segment:{s.segment_index}:{day}").uniform(
                0.5, 1.3
            )
            for s in self.fleet
        }
        last_speed = [float(s.free_flow) for s in self.fleet]
        hour_start = day_start
        while hour_start < day_end:
            hour_epoch = int(hour_start.timestamp())
            local = hour_start.astimezone(TIME_ZONE)
            stamp_prefix = f"{local:%Y-%m-%dT%H}:"
            offset = _offset(hour_start)
            deliveries: list[Delivery] = []
            for index, sensor in enumerate(self.fleet):
                depth = min(0.9, sensor.congestion_depth * factor[sensor.segment_index])
                last_speed[index] = self._hour(
                    sensor, rngs[index], depth, last_speed[index], hour_epoch,
                    (local.hour * 60, stamp_prefix, offset, rush, volume), deliveries,
                )  # fmt: skip
            yield hour_epoch, deliveries
            hour_start += timedelta(hours=1)

    @staticmethod
    def _hour(
        sensor: Sensor,
        rng: random.Random,
        depth: float,
        speed: float,
        hour_epoch: int,
        clock: tuple[int, str, str, list[float], list[float]],
        deliveries: list[Delivery],
    ) -> float:
        """A sensor's 60 readings of one hour; returns its last speed."""
        minute_of_day, stamp_prefix, offset, rush, volume = clock
        random_, gauss, free = rng.random, rng.gauss, sensor.free_flow
        next_utc_midnight = hour_epoch - hour_epoch % 86400 + 86400
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
            values = (
                sensor.sensor_id, f"{stamp_prefix}{minute:02d}:00{offset}", current_speed,
                round(previous), occupancy, cars, vans, buses, trucks, sensor.segment,
            )  # fmt: skip
            event_epoch = hour_epoch + minute * 60
            delivery = random_()
            if delivery < LATE_RATE:
                arrival = next_utc_midnight + int(delivery / LATE_RATE * LATE_WINDOW_SECONDS)
            else:
                spread = DELAY_SECONDS[1] - DELAY_SECONDS[0]
                arrival = event_epoch + DELAY_SECONDS[0] + int(
                    (delivery - LATE_RATE) / (1 - LATE_RATE) * spread
                )  # fmt: skip
            deliveries.append((arrival, values))
            if random_() < DUPLICATE_RATE:
                extra = DUPLICATE_EXTRA_SECONDS[0] + int(
                    random_() * (DUPLICATE_EXTRA_SECONDS[1] - DUPLICATE_EXTRA_SECONDS[0])
                )
                deliveries.append((arrival + extra, values))
        return speed


# -- the app activity log --------------------------------------------------------------------

# (action, weight) after a session's 'open'.
ACTIONS = (("view", 40), ("tap", 25), ("like", 12), ("search", 10), ("share", 5), ("purchase", 3))
# (country, zone the device writes its offset in, weight)
COUNTRIES = (
    ("BE", "Europe/Brussels", 35), ("NL", "Europe/Amsterdam", 20), ("FR", "Europe/Paris", 15),
    ("DE", "Europe/Berlin", 10), ("US", "America/New_York", 10), ("JP", "Asia/Tokyo", 5),
    ("BR", "America/Sao_Paulo", 5),
)  # fmt: skip
DEVICES = (("android", 50), ("ios", 40), ("web", 10))
# App releases; each user moves to a release a few weeks after it came out.
RELEASES = (
    ("5.1.0", date(2025, 1, 15)), ("5.2.0", date(2025, 9, 1)), ("5.3.0", date(2026, 3, 2)),
    ("5.4.0", date(2026, 10, 5)),
)  # fmt: skip
# Per event: uploaded hours later, the next day, days later (an offline phone); re-uploaded.
DELAYED_RATE, NEXT_DAY_RATE, DAYS_LATE_RATE = 0.12, 0.025, 0.005
REUPLOAD_RATE = 0.004
# Per event: a flaw the DWD model drops or repairs; per line: malformed (too few fields).
FLAW_RATE = 0.002
MALFORMED_RATE = 0.0005


def _weighted(rng: random.Random, choices: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
    total = sum(choice[-1] for choice in choices)
    pick = rng.random() * total
    for choice in choices:
        pick -= choice[-1]
        if pick < 0:
            return choice
    return choices[-1]


@dataclass(frozen=True)
class AppUser:
    user_id: str
    country: str
    zone: ZoneInfo
    device: str
    activity: float  # chance to use the app on a given day
    upgrade_delays: tuple[int, ...]  # days after each release before this user has it


def app_users(count: int, seed: int) -> list[AppUser]:
    users = []
    for index in range(count):
        rng = random.Random(f"{seed}:user:{index}")
        country, zone, _ = _weighted(rng, COUNTRIES)
        users.append(
            AppUser(
                user_id=f"u{100000 + index}",
                country=country,
                zone=ZoneInfo(zone),
                device=_weighted(rng, DEVICES)[0],
                activity=0.3 + 0.65 * rng.random(),
                upgrade_delays=tuple(int(rng.expovariate(1 / 12)) for _ in RELEASES),
            )
        )
    return users


class ActivityValues:
    """Users open the app in one to three sessions on the days they are active."""

    columns: tuple[str, ...] = (
        "user_id", "action", "event_time", "device", "app_version", "country"
    )  # fmt: skip

    def __init__(self, count: int, seed: int) -> None:
        self.users = app_users(count, seed)
        self.seed = seed

    @staticmethod
    def version(user: AppUser, day: date) -> str:
        installed = RELEASES[0][0]
        for (name, released), delay in zip(RELEASES, user.upgrade_delays, strict=True):
            if released + timedelta(days=delay) <= day:
                installed = name
        return installed

    def day(self, day: date) -> Iterator[tuple[int, list[Delivery]]]:
        day_start, day_end = local_day_bounds(day)
        events: list[tuple[int, Delivery]] = []
        for user in self.users:
            rng = random.Random(f"{self.seed}:{user.user_id}:{day.isoformat()}")
            if rng.random() < user.activity:
                events.extend(self._sessions(user, rng, day, day_start, day_end))
        events.sort(key=lambda event: event[0])
        # One batch per UTC hour of event time: the watermark is the hour's start.
        for hour, batch in itertools.groupby(events, key=lambda event: event[0] // 3600):
            yield hour * 3600, [delivery for _, delivery in batch]

    def _sessions(
        self, user: AppUser, rng: random.Random, day: date, start: datetime, end: datetime
    ) -> Iterator[tuple[int, Delivery]]:
        version = self.version(user, day)
        seconds = int((end - start).total_seconds())
        for _ in range(1 + int(rng.random() * 3)):
            # Sessions cluster in the day's waking hours (local midnight + 7..23 h).
            at = int(start.timestamp()) + min(seconds - 1, int((7 + 16 * rng.random()) * 3600))
            for position in range(2 + int(rng.random() * 10)):
                if at >= int(end.timestamp()):
                    break
                action = "open" if position == 0 else _weighted(rng, ACTIONS)[0]
                yield at, self._delivery(user, rng, at, action, version)
                if rng.random() < REUPLOAD_RATE:
                    yield at, self._delivery(user, rng, at, action, version)
                at += 2 + int(rng.random() * 58)

    @staticmethod
    def _delivery(
        user: AppUser, rng: random.Random, at: int, action: str, version: str
    ) -> Delivery:
        moment = datetime.fromtimestamp(at, UTC).replace(
            microsecond=int(rng.random() * 1000) * 1000
        )
        stamp = moment.astimezone(user.zone).isoformat(timespec="milliseconds")
        values: tuple[Any, ...] | RawLine = (
            user.user_id, action, stamp, user.device, version, user.country
        )  # fmt: skip
        chance = rng.random()
        if chance < MALFORMED_RATE:
            values = RawLine(f"{user.user_id},{action}")
        elif chance < MALFORMED_RATE + FLAW_RATE:
            flaw = int(chance * 1e6) % 4
            flawed = list(values)  # type: ignore[arg-type]
            if flaw == 0:
                flawed[0] = " "  # no user
            elif flaw == 1:
                flawed[5] = "Belgium"  # not a country code
            elif flaw == 2:
                flawed[2] = moment.strftime("%d/%m/%Y %H:%M")  # not ISO-8601
            else:  # a clock two days ahead
                ahead = (moment + timedelta(days=2)).astimezone(user.zone)
                flawed[2] = ahead.isoformat(timespec="milliseconds")
            values = tuple(flawed)
        delay = rng.random()
        if delay < DAYS_LATE_RATE:
            arrival = at + 86400 * (2 + int(rng.random() * 4))
        elif delay < DAYS_LATE_RATE + NEXT_DAY_RATE:
            arrival = (at // 86400 + 1) * 86400 + int(rng.random() * 12 * 3600)
        elif delay < DAYS_LATE_RATE + NEXT_DAY_RATE + DELAYED_RATE:
            arrival = at + 3600 + int(rng.random() * 11 * 3600)
        else:
            arrival = at + 30 + int(rng.random() * 1800)
        return arrival, values


ValueFactory = Callable[[Source, int, int, int], ValueGenerator]
# The sample sources: value generators by source name, (source, sensors, users, seed) ->
# generator. A declared source without one is the user's own: `etl generate` leaves it alone
# (its files come in with `etl load`).
VALUE_GENERATORS: dict[str, ValueFactory] = {
    "traffic": lambda source, sensor_count, users, seed: TrafficValues(sensor_count, seed),
    "app_activity": lambda source, sensor_count, users, seed: ActivityValues(users, seed),
}


# -- objects: layout and format from the declaration -----------------------------------------


def object_key(source: Source, buffer_start: datetime, seed: int) -> str:
    """Firehose-style key, under the arrival partition, of the buffer starting at this instant."""
    digest = hashlib.sha256(f"{seed}:{buffer_start.isoformat()}".encode()).digest()
    suffix = uuid.UUID(bytes=digest[:16], version=4)
    stamp = buffer_start.strftime("%Y-%m-%d-%H-%M-%S")
    folder = f"year={buffer_start:%Y}/month={buffer_start:%m}/day={buffer_start:%d}/"
    if source.arrival == "hourly":
        folder += f"hour={buffer_start:%H}/"
    extension = {"json": "json.gz", "csv": "csv.gz", "parquet": "parquet"}[source.format.type]
    stream = f"{source.name.replace('_', '-')}-events"
    return f"{source.raw_prefix}{folder}{stream}-1-{stamp}-{suffix}.{extension}"


# The buffer's start, then the UUID object_key writes.
_KEY_STAMP = re.compile(r"-(\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})-[0-9a-f]{8}-[0-9a-f-]{27}\.")


def arrival_instant(key: str) -> datetime:
    """When the object named by object_key lands in S3: the end of its buffer (UTC), whose
    start the key holds."""
    found = _KEY_STAMP.search(key.rsplit("/", 1)[-1])
    if found is None:
        raise ValueError(f"{key!r} is not a generated object's key")
    buffer_start = datetime.strptime(found[1], "%Y-%m-%d-%H-%M-%S").replace(tzinfo=UTC)
    return buffer_start + timedelta(seconds=BUFFER_SECONDS)


class Encoder:
    """A buffer's events -> the object's bytes, in the source's format and field names."""

    def __init__(self, source: Source, produced: Sequence[str]) -> None:
        self.source = source
        self.indexes = [
            produced.index(c.name) if c.name in produced else None for c in source.columns
        ]
        self._keys = [json.dumps(c.field) + ": " for c in source.columns]
        self._quoted: dict[str, str] = {}

    def ordered(self, values: tuple[Any, ...]) -> list[Any]:
        return [values[i] if i is not None else None for i in self.indexes]

    def encode(self, records: list[tuple[Any, ...] | RawLine]) -> bytes:
        kind = self.source.format.type
        if kind == "json":
            lines = [r.text if isinstance(r, RawLine) else self._json(r) for r in records]
            return gzip.compress(("\n".join(lines) + "\n").encode(), GZIP_LEVEL, mtime=0)
        if kind == "csv":
            return gzip.compress(self._csv(records).encode(), GZIP_LEVEL, mtime=0)
        return self._parquet([r for r in records if not isinstance(r, RawLine)])

    def _json(self, values: tuple[Any, ...]) -> str:
        fields = []
        for key, value in zip(self._keys, self.ordered(values), strict=True):
            if type(value) is int:
                fields.append(key + str(value))
            elif type(value) is str:
                fields.append(key + self._quote(value))
            else:
                fields.append(key + json.dumps(value))
        return "{" + ", ".join(fields) + "}"

    def _quote(self, text: str) -> str:
        quoted = self._quoted.get(text)
        if quoted is None:
            if len(self._quoted) > 200_000:  # bounded: event times are mostly unique
                self._quoted.clear()
            quoted = self._quoted[text] = json.dumps(text)
        return quoted

    def _csv(self, records: list[tuple[Any, ...] | RawLine]) -> str:
        text = io.StringIO()
        writer = csv.writer(text, delimiter=self.source.format.delimiter, lineterminator="\n")
        if self.source.format.header:
            writer.writerow([c.field for c in self.source.columns])
        for record in records:
            if isinstance(record, RawLine):
                text.write(record.text + "\n")
            else:
                writer.writerow(["" if v is None else v for v in self.ordered(record)])
        return text.getvalue()

    def _parquet(self, records: list[tuple[Any, ...]]) -> bytes:
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = [self.ordered(r) for r in records]
        columns = {c.field: [row[i] for row in rows] for i, c in enumerate(self.source.columns)}
        buffer = io.BytesIO()
        pq.write_table(pa.table(columns), buffer, compression="snappy")
        return buffer.getvalue()


class _Deliveries:
    """Events waiting for their buffer (arrival instant rounded down to BUFFER_SECONDS)."""

    def __init__(self, source: Source, encoder: Encoder, seed: int) -> None:
        self.source, self.encoder, self.seed = source, encoder, seed
        self.pending: dict[int, list[tuple[Any, ...] | RawLine]] = {}

    def add(self, arrival_epoch: int, record: tuple[Any, ...] | RawLine) -> None:
        bucket = arrival_epoch - arrival_epoch % BUFFER_SECONDS
        records = self.pending.get(bucket)
        if records is None:
            self.pending[bucket] = [record]
        else:
            records.append(record)

    def flush_before(self, epoch: float) -> Iterator[tuple[str, bytes]]:
        """Every buffer that ends at or before `epoch`: nothing can arrive in it any more."""
        for bucket in sorted(b for b in self.pending if b + BUFFER_SECONDS <= epoch):
            records = self.pending.pop(bucket)
            instant = datetime.fromtimestamp(bucket, UTC)
            yield object_key(self.source, instant, self.seed), self.encoder.encode(records)


def declared_sources() -> Sources:
    return load_sources(default_sql_root() / SOURCES_FILE)


def sample_sources(sources: Sources) -> list[Source]:
    """The declared sources this module knows how to generate (VALUE_GENERATORS)."""
    return [source for source in sources if source.name in VALUE_GENERATORS]


def generate_events(
    start: date,
    end: date,
    sensors: int,
    seed: int = 0,
    *,
    users: int | None = None,
    sources: Sources | None = None,
) -> Iterator[tuple[str, bytes]]:
    """Yield (raw object key, body) for every sample source (`sample_sources`) and local day
    start..end; each source's objects in key order, the sources in declaration order. Other
    declared sources are the user's: nothing is generated for them.

    `sensors` sizes the traffic feed, `users` the app (default USERS_PER_SENSOR per sensor).
    Late events of the last day land in later arrival partitions, as in production. Raises
    ValueError for an empty range or a size below 1.
    """
    if end < start:
        raise ValueError(f"end date {end} is before start date {start}")
    users = USERS_PER_SENSOR * sensors if users is None else users
    if sensors < 1 or users < 1:
        raise ValueError(f"sensor and user counts must be at least 1, got {sensors}, {users}")
    for source in sample_sources(sources or declared_sources()):
        values = VALUE_GENERATORS[source.name](source, sensors, users, seed)
        yield from generate_source(source, values, start, end, seed)


def generate_source(
    source: Source, values: ValueGenerator, start: date, end: date, seed: int
) -> Iterator[tuple[str, bytes]]:
    deliveries = _Deliveries(source, Encoder(source, values.columns), seed)
    day = start
    while day <= end:
        for watermark, batch in values.day(day):
            yield from deliveries.flush_before(watermark)
            for arrival, record in batch:
                deliveries.add(arrival, record)
        day += timedelta(days=1)
    yield from deliveries.flush_before(math.inf)
