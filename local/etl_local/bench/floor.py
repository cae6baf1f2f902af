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
from etl_lambdas.sources import Source
from etl_local.sql_dialect import athena_to_duckdb, install_functions

# Athena (Hive DDL) types of the source declaration -> DuckDB's.
_DUCKDB_TYPES = {
    "boolean": "BOOLEAN", "tinyint": "TINYINT", "smallint": "SMALLINT", "int": "INTEGER",
    "bigint": "BIGINT", "float": "FLOAT", "double": "DOUBLE", "string": "VARCHAR",
    "date": "DATE", "timestamp": "TIMESTAMP", "binary": "BLOB",
}  # fmt: skip


def _duckdb_type(hive_type: str) -> str:
    return _DUCKDB_TYPES.get(hive_type, hive_type.upper())


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def ods_select(source: Source, files: list[str]) -> str:
    """The Glue job's conversion of a declared source, in DuckDB: the raw files read with the
    declared field names, converted to the declared ODS columns (malformed values: NULL or
    the row skipped), with the arrival partition columns."""
    keys = ", ".join(source.partition_keys)
    if not files:
        columns = ", ".join(
            f"CAST(NULL AS {_duckdb_type(c.type)}) AS {c.name}" for c in source.columns
        )
        partitions = ", ".join(f"CAST(NULL AS VARCHAR) AS {key}" for key in source.partition_keys)
        return f"SELECT {columns}, {partitions} WHERE false"
    listing = _sql_list(files)
    hive = "hive_partitioning = true, hive_types_autocast = false"
    if source.format.type == "json":
        fields = ", ".join(f"'{c.field}': '{_duckdb_type(c.type)}'" for c in source.columns)
        reader = (
            f"read_json({listing}, format = 'newline_delimited', columns = {{{fields}}}, "
            f"{hive}, ignore_errors = true)"
        )
    elif source.format.type == "csv":
        header = "true" if source.format.header else "false"
        names = (
            "" if source.format.header
            else ", names = [" + ", ".join(f"'{c.field}'" for c in source.columns) + "]"
        )  # fmt: skip
        reader = (
            f"read_csv({listing}, header = {header}, delim = '{source.format.delimiter}', "
            f"all_varchar = true, ignore_errors = true, {hive}{names})"
        )
    else:
        reader = f"read_parquet({listing}, {hive})"
    columns = ", ".join(
        f"TRY_CAST({_quote(c.field)} AS {_duckdb_type(c.type)}) AS {c.name}" for c in source.columns
    )
    return f"SELECT {columns}, {keys} FROM {reader}"


SCHEMAS = SOURCE_TIERS


@dataclass(frozen=True)
class FloorResult:
    seconds: float
    rows_by_model: dict[str, int]


def _arrival_files(source_root: Path, first: date, last: date) -> list[str]:
    """The raw files of the arrival days first..last (hourly or daily layout)."""
    files: list[str] = []
    day = first
    while day <= last:
        prefix = source_root / f"year={day:%Y}" / f"month={day:%m}" / f"day={day:%d}"
        files.extend(
            str(p) for p in sorted(prefix.rglob("*"))
            if p.is_file() and not p.name.startswith((".", "_"))
        )  # fmt: skip
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
    """Run every model for `day` from the raw files under raw_root (the raw bucket's layout:
    each declared source under its raw_prefix)."""
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
    files = {
        source.name: _arrival_files(raw_root / source.raw_prefix, arrivals.start, arrivals.end)
        for source in catalog.sources
    }
    if not any(files.values()):
        raise FileNotFoundError(f"no raw files for {day} under {raw_root}")
    rows: dict[str, int] = {}
    started = time.perf_counter()
    connection = duckdb.connect()
    install_functions(connection)
    try:
        if threads:
            connection.execute(f"SET threads = {int(threads)}")
        for schema in SCHEMAS:
            connection.execute(f"CREATE SCHEMA {schema}")
        for source in catalog.sources:
            connection.execute(
                f"CREATE VIEW ods.{source.table} AS {ods_select(source, files[source.name])}"
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
