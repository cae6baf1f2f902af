"""The benchmark's floor: the pipeline's transformations run directly in DuckDB.

Same raw files, same model SQL (rendered and transpiled exactly as the pipeline
does), Parquet out, and no orchestration, emulation or catalogue in between. The
pipeline's wall time divided by this is what the orchestration costs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb

from etl_lambdas.catalog import SOURCE_TIERS, Catalog, render_template
from etl_lambdas.planning import Chunk, arrival_window, template_values
from etl_local.sql_dialect import athena_to_duckdb, install_functions

# The Glue job's conversion (docs/contracts.md, "Raw events and the ODS table"),
# expressed in DuckDB: raw camelCase JSON to typed snake_case columns.
_RAW_COLUMNS = {
    "uniqueId": "VARCHAR",
    "recordTimestamp": "VARCHAR",
    "currentSpeed": "INTEGER",
    "previousSpeed": "INTEGER",
    "bezettingsgraad": "INTEGER",
    "trafficIntensityClass2": "INTEGER",
    "trafficIntensityClass3": "INTEGER",
    "trafficIntensityClass4": "INTEGER",
    "trafficIntensityClass5": "INTEGER",
    "segment": "VARCHAR",
}
_ODS_SELECT = """
SELECT uniqueId AS sensor_id, recordTimestamp AS record_timestamp,
       currentSpeed AS current_speed, previousSpeed AS previous_speed,
       bezettingsgraad AS occupancy,
       trafficIntensityClass2 AS intensity_class2, trafficIntensityClass3 AS intensity_class3,
       trafficIntensityClass4 AS intensity_class4, trafficIntensityClass5 AS intensity_class5,
       segment, year, month, day, hour
FROM read_json({files}, format = 'newline_delimited', compression = 'gzip',
               columns = {columns}, hive_partitioning = true, hive_types_autocast = false,
               ignore_errors = true)
"""


SCHEMAS = SOURCE_TIERS


@dataclass(frozen=True)
class FloorResult:
    seconds: float
    rows_by_model: dict[str, int]


def _arrival_files(raw_root: Path, first: date, last: date) -> list[str]:
    files: list[str] = []
    day = first
    while day <= last:
        prefix = raw_root / f"year={day:%Y}" / f"month={day:%m}" / f"day={day:%d}"
        files.extend(str(p) for p in sorted(prefix.glob("hour=*/*.json.gz")))
        day += timedelta(days=1)
    return files


def _sql_list(items: list[str]) -> str:
    return "[" + ", ".join("'" + item.replace("'", "''") + "'" for item in items) + "]"


def run_floor(
    catalog: Catalog,
    raw_root: Path,
    output_root: Path,
    day: date,
    time_zone: str,
    threads: int | None = None,
) -> FloorResult:
    """Run every model for `day` from the raw files under raw_root (raw/traffic/ layout)."""
    # The floor's databases are DuckDB schemas named after the tiers.
    # A daily run: the day's arrivals, the day before and the day after (its run's today).
    today = day + timedelta(days=1)
    values = template_values(
        Chunk(0, day, day),
        arrival_end_limit=today,
        lookback_days=0,
        time_zone=time_zone,
        databases={f"{s}_database": s for s in SCHEMAS},
    )
    arrivals = arrival_window(day, day, 0, today)
    files = _arrival_files(raw_root, arrivals.start, arrivals.end)
    if not files:
        raise FileNotFoundError(f"no raw files for {day} under {raw_root}")
    columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in _RAW_COLUMNS.items()) + "}"
    rows: dict[str, int] = {}
    started = time.perf_counter()
    connection = duckdb.connect()
    install_functions(connection)
    try:
        if threads:
            connection.execute(f"SET threads = {int(threads)}")
        for schema in SCHEMAS:
            connection.execute(f"CREATE SCHEMA {schema}")
        connection.execute(
            "CREATE VIEW ods.traffic AS "
            + _ODS_SELECT.format(files=_sql_list(files), columns=columns)
        )
        for model in catalog.in_tier_order():
            query = athena_to_duckdb(render_template(catalog.sql(model), values))
            target = output_root / model.tier / model.name
            target.parent.mkdir(parents=True, exist_ok=True)
            partitions = ", ".join(model.partition_by)
            connection.execute(
                f"COPY ({query}) TO '{target}' "
                f"(FORMAT PARQUET, COMPRESSION SNAPPY, PARTITION_BY ({partitions}), "
                "OVERWRITE_OR_IGNORE true)"
            )
            connection.execute(
                f"CREATE VIEW {model.tier}.{model.name} AS SELECT * FROM read_parquet("
                f"'{target}/**/*.parquet', hive_partitioning = true, "
                "hive_types_autocast = false)"
            )
            count = connection.execute(f"SELECT count(*) FROM {model.tier}.{model.name}")
            rows[model.name] = int(count.fetchone()[0])  # type: ignore[index]
    finally:
        connection.close()
    return FloorResult(seconds=time.perf_counter() - started, rows_by_model=rows)
