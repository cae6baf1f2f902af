"""A DuckDB stand-in for the Glue databases, to run the models exactly as Athena would get them.

Schemas `ods`, `dwd`, `dws`, `ads` play the tier databases; a model's SQL is rendered with
`render_template` (the write step's renderer), transpiled with `athena_to_duckdb` (the local
Athena's translation) and run. Chaining models = materializing one's output as the table the
next one reads.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from etl_lambdas.catalog import SOURCE_TIERS, Catalog, load_catalog, render_template
from etl_lambdas.planning import Chunk, template_values
from etl_lambdas.sources import Source
from etl_local.sql_dialect import athena_to_duckdb, install_functions

TIME_ZONE = "Europe/Brussels"
# The schema of a tier is named after it: `${dwd_database}` renders as `dwd`.
DATABASES = {f"{tier}_database": tier for tier in SOURCE_TIERS}

# Athena (Hive DDL) types of sql/sources.yaml -> DuckDB's.
DUCKDB_TYPES = {
    "boolean": "BOOLEAN", "tinyint": "TINYINT", "smallint": "SMALLINT", "int": "INTEGER",
    "bigint": "BIGINT", "float": "FLOAT", "double": "DOUBLE", "string": "VARCHAR",
    "date": "DATE", "timestamp": "TIMESTAMP", "binary": "BLOB",
}  # fmt: skip


def ods_columns(source: Source) -> str:
    """The ODS table of a declared source as the Glue job writes it: its columns, the typed
    event time, then the arrival partition keys."""
    columns = [
        f"{c.name} {DUCKDB_TYPES.get(c.type, c.type.upper())}" for c in source.ods_columns
    ] + [f"{key} VARCHAR" for key in source.partition_keys]
    return ", ".join(columns)


# What the Glue job reads as an ISO-8601 event time (glue/convert_raw.py, _ISO8601 and _OFFSET;
# tests/glue checks the job against the same cases).
_ISO8601 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?$"
)


def instant(text: str | None, zone: str) -> dt.datetime | None:
    """The typed event time the Glue job writes for an iso8601 value: the UTC instant as a
    naive timestamp, a time without offset read in the source's zone; None when unreadable."""
    value = (text or "").strip()
    if not _ISO8601.match(value):
        return None
    # Spark keeps microseconds: digits beyond them are dropped
    try:
        parsed = dt.datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", value))
    except ValueError:  # the right shape, not a time (hour 25): the job writes NULL
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(zone))
    return parsed.astimezone(dt.UTC).replace(tzinfo=None)


def window(
    start_date: str,
    end_date: str | None = None,
    *,
    today: str | None = None,
    lookback_days: int = 0,
) -> dict[str, str]:
    """Placeholder values for a chunk, as the write step fills them (docs/contracts.md).

    By default the daily run of the window's last day: run the next day, so its arrivals
    end there; a restated day is a chunk of a later run (`today`) with a look-back.
    """
    start = dt.date.fromisoformat(start_date)
    end = dt.date.fromisoformat(end_date or start_date)
    limit = dt.date.fromisoformat(today) if today else end + dt.timedelta(days=1)
    values = template_values(
        Chunk(0, start, end),
        arrival_end_limit=limit,
        lookback_days=lookback_days,
        time_zone=TIME_ZONE,
        databases=DATABASES,
    )
    return {**values, **load_catalog().sources.time_zone_placeholders()}


@dataclass
class Event:
    """One ODS row; `arrived` is the UTC arrival hour 'YYYY-MM-DDTHH' (the partition)."""

    sensor_id: str | None
    record_timestamp: str
    current_speed: int | None
    arrived: str
    previous_speed: int | None = 0
    occupancy: int | None = 10
    intensity_class2: int | None = 1
    intensity_class3: int | None = 0
    intensity_class4: int | None = 0
    intensity_class5: int | None = 0
    segment: str | None = "E40"

    def row(self) -> tuple[Any, ...]:
        arrival = dt.datetime.strptime(self.arrived, "%Y-%m-%dT%H")
        zone = load_catalog().sources.get("traffic").event_time.zone
        return (
            self.sensor_id,
            self.record_timestamp,
            self.current_speed,
            self.previous_speed,
            self.occupancy,
            self.intensity_class2,
            self.intensity_class3,
            self.intensity_class4,
            self.intensity_class5,
            self.segment,
            instant(self.record_timestamp, zone),
            f"{arrival:%Y}",
            f"{arrival:%m}",
            f"{arrival:%d}",
            f"{arrival:%H}",
        )


@dataclass
class Action:
    """One ODS row of app_activity, raw strings as the app wrote them; `arrived` is the UTC
    arrival day 'YYYY-MM-DD' (the partition)."""

    user_id: str | None
    action: str | None
    event_time: str | None
    arrived: str
    device: str | None = "ios"
    app_version: str | None = "5.2.0"
    country: str | None = "BE"

    def row(self) -> tuple[Any, ...]:
        year, month, day = self.arrived.split("-")
        zone = load_catalog().sources.get("app_activity").event_time.zone
        return (
            self.user_id, self.action, self.event_time, self.device, self.app_version,
            self.country, instant(self.event_time, zone), year, month, day,
        )  # fmt: skip


class Warehouse:
    def __init__(self, catalog: Catalog | None = None) -> None:
        self.catalog = catalog or load_catalog()
        self.con = duckdb.connect()
        install_functions(self.con)
        # Athena sessions run in UTC; the models must not depend on the session zone anyway.
        self.con.execute("SET TimeZone = 'UTC'")
        for schema in DATABASES.values():
            self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for source in self.catalog.sources:
            self.con.execute(f"CREATE TABLE ods.{source.table} ({ods_columns(source)})")

    def load_ods(self, events: list[Event]) -> None:
        self.insert("traffic", [e.row() for e in events])

    def load_app_activity(self, actions: list[Action]) -> None:
        self.insert("app_activity", [a.row() for a in actions])

    def insert(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        width = len(self.catalog.sources.get(table).ods_columns) + len(
            self.catalog.sources.get(table).partition_keys
        )
        self.con.executemany(f"INSERT INTO ods.{table} VALUES ({', '.join(['?'] * width)})", rows)

    def duckdb_sql(self, model_name: str, values: dict[str, str]) -> str:
        model = self.catalog.get(model_name)
        return athena_to_duckdb(render_template(self.catalog.sql(model), values))

    def query(self, model_name: str, values: dict[str, str]) -> list[dict[str, Any]]:
        result = self.con.execute(self.duckdb_sql(model_name, values))
        names = [d[0] for d in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]

    def materialize(self, model_name: str, values: dict[str, str]) -> None:
        """Store the model's output as `<tier>.<name>`, the table later tiers read."""
        model = self.catalog.get(model_name)
        sql = self.duckdb_sql(model_name, values)
        self.con.execute(f"CREATE OR REPLACE TABLE {model.tier}.{model.name} AS {sql}")

    def describe(self, model_name: str, values: dict[str, str]) -> list[tuple[str, str]]:
        rows = self.con.execute(f"DESCRIBE {self.duckdb_sql(model_name, values)}").fetchall()
        return [(row[0], row[1]) for row in rows]


def utc(text: str) -> dt.datetime:
    """A naive UTC timestamp as the models output it: 'YYYY-MM-DD HH:MM[:SS]'."""
    return dt.datetime.fromisoformat(text)
