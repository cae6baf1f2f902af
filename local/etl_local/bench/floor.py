"""The benchmark's floor: the pipeline's transformations run directly in DuckDB.

The same work as a pipeline run, with no orchestration, emulation or catalogue in between:
the raw files the run converts, converted once to Parquet (the Glue job's conversion, as
DuckDB SQL), then every model's SQL (rendered and transpiled exactly as the pipeline does)
over the windows the run computes, Parquet out. Arrival partitions an earlier run converted
are read from the lake's ODS, as the pipeline reads them. The pipeline's wall time divided
by this is what the orchestration and the emulation cost.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb

from etl_lambdas.catalog import SOURCE_TIERS, Catalog, Model, render_template
from etl_lambdas.events import Run
from etl_lambdas.planning import Chunk, arrival_window, chunks, template_values
from etl_lambdas.restatement import Restatement, model_windows
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
            f"CAST(NULL AS {_duckdb_type(c.type)}) AS {c.name}" for c in source.ods_columns
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
    names = ", ".join(c.name for c in source.columns)
    typed = f"{_event_instant(source)} AS {source.event_time.instant_column}"
    return f"SELECT {names}, {typed}, {keys} FROM (SELECT {columns}, {keys} FROM {reader})"


def _event_instant(source: Source) -> str:
    """The Glue job's typed event time in DuckDB (the session in UTC): the UTC instant."""
    value = _quote(source.event_time.column)
    if source.event_time.format == "epoch_seconds":
        return f"make_timestamp(CAST({value} * 1000000 AS BIGINT))"
    if source.event_time.format == "epoch_millis":
        return f"make_timestamp(CAST({value} * 1000 AS BIGINT))"
    text = f"trim({value})"
    zone = source.event_time.zone.replace("'", "''")
    return (
        f"CASE WHEN regexp_matches({text}, '(Z|[+-][0-9]{{2}}(:?[0-9]{{2}})?)$') "
        f"THEN TRY_CAST({text} AS TIMESTAMPTZ) "
        f"ELSE timezone('{zone}', TRY_CAST({text} AS TIMESTAMP)) END AT TIME ZONE 'UTC'"
    )


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
    run: Run,
    restated: Restatement | None = None,
    *,
    converted: ConvertedOds | None = None,
    threads: int | None = None,
) -> FloorResult:
    """Run every model over the windows a pipeline run computes (its window, and the days it
    restated for late data, as whole partitions, in the pipeline's chunks). `run` is the run
    as the Begin step planned it; raw_root has the raw bucket's layout (each source under its
    raw_prefix). Without `converted`, every arrival partition the windows read is converted
    from raw; with it, only the partitions its new raw objects fall in."""
    work = _model_chunks(catalog, run, restated or Restatement())
    computed = [chunk for _, model_chunks in work for chunk in model_chunks]
    arrivals = arrival_window(
        min(chunk.start_date for chunk in computed),
        max(chunk.end_date for chunk in computed),
        run.lookback_days,
        run.arrival.end,
    )
    inputs = {
        source.name: _source_inputs(source, raw_root, converted, arrivals.start, arrivals.end)
        for source in catalog.sources
    }
    if not any(to_convert or earlier for to_convert, earlier in inputs.values()):
        raise FileNotFoundError(f"no raw files for {run.window} under {raw_root}")
    rows: dict[str, int] = {}
    shutil.rmtree(output_root, ignore_errors=True)
    started = time.perf_counter()
    connection = duckdb.connect()
    install_functions(connection)
    try:
        if threads:
            connection.execute(f"SET threads = {int(threads)}")
        for schema in SCHEMAS:
            connection.execute(f"CREATE SCHEMA {schema}")
        for source in catalog.sources:
            to_convert, earlier = inputs[source.name]
            ods_files = _convert(connection, source, to_convert, output_root / "ods" / source.name)
            connection.execute(
                f"CREATE VIEW ods.{source.table} AS {_ods_select(source, ods_files + earlier)}"
            )
        for model, model_chunks in work:
            target = output_root / model.tier / model.name
            target.parent.mkdir(parents=True, exist_ok=True)
            for chunk in model_chunks:
                _write_chunk(connection, catalog, model, chunk, target, run)
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


def _model_chunks(
    catalog: Catalog, run: Run, restated: Restatement
) -> list[tuple[Model, list[Chunk]]]:
    """Each model, in tier order, with the chunks the run computes it in."""
    return [
        (
            model,
            chunks(model_windows(catalog, model, run.window, restated), model.granularity),
        )
        for model in catalog.in_tier_order()
    ]


@dataclass(frozen=True)
class ConvertedOds:
    """The lake's ODS as earlier runs converted it, and the raw objects (keys) that landed
    since: a run converts only the arrival partitions those fall in."""

    curated_root: Path
    new_raw_keys: frozenset[str]


def _partition(relative: str) -> str:
    """The arrival partition folder of a path relative to a source's root."""
    return relative.rsplit("/", 1)[0]


def _source_inputs(
    source: Source, raw_root: Path, converted: ConvertedOds | None, first: date, last: date
) -> tuple[list[str], list[str]]:
    """(raw files to convert, ODS files converted earlier) of the arrival days first..last."""
    raw_dir = raw_root / source.raw_prefix
    raw = _arrival_files(raw_dir, first, last)
    if converted is None:
        return raw, []
    prefix = source.raw_prefix
    touched = {_partition(k[len(prefix) :]) for k in converted.new_raw_keys if k.startswith(prefix)}
    ods_dir = converted.curated_root / source.ods_prefix
    return (
        [f for f in raw if _partition(Path(f).relative_to(raw_dir).as_posix()) in touched],
        [
            f
            for f in _arrival_files(ods_dir, first, last)
            if f.endswith(".parquet")
            and _partition(Path(f).relative_to(ods_dir).as_posix()) not in touched
        ],
    )


def _convert(
    connection: duckdb.DuckDBPyConnection, source: Source, files: list[str], target: Path
) -> list[str]:
    """The Glue job's conversion of raw files into Parquet by arrival partition; returns the
    files written."""
    if not files:
        return []
    keys = ", ".join(source.partition_keys)
    target.parent.mkdir(parents=True, exist_ok=True)
    connection.execute(
        f"COPY ({ods_select(source, files)}) TO '{target}' "
        f"(FORMAT PARQUET, COMPRESSION SNAPPY, PARTITION_BY ({keys}), OVERWRITE_OR_IGNORE true)"
    )
    return sorted(str(p) for p in target.rglob("*.parquet"))


def _ods_select(source: Source, files: list[str]) -> str:
    """The ODS table over Parquet files, with the declared column types."""
    if not files:
        return ods_select(source, [])
    columns = ", ".join(
        f"CAST({_quote(c.name)} AS {_duckdb_type(c.type)}) AS {c.name}" for c in source.ods_columns
    )
    keys = ", ".join(source.partition_keys)
    return (
        f"SELECT {columns}, {keys} FROM read_parquet({_sql_list(files)}, "
        "hive_partitioning = true, hive_types_autocast = false, union_by_name = true)"
    )


def _write_chunk(
    connection: duckdb.DuckDBPyConnection,
    catalog: Catalog,
    model: Model,
    chunk: Chunk,
    target: Path,
    run: Run,
) -> None:
    """One chunk of a model, rendered as the pipeline renders it, written as Parquet."""
    values = (
        template_values(
            chunk,
            arrival_end_limit=run.arrival.end,
            lookback_days=run.lookback_days,
            time_zone=run.time_zone,
            # The floor's databases are DuckDB schemas named after the tiers.
            databases={f"{s}_database": s for s in SCHEMAS},
        )
        | catalog.sources.time_zone_placeholders()
    )
    query = athena_to_duckdb(render_template(catalog.sql(model), values))
    partitions = ", ".join(model.partition_by)
    # A model's chunks are distinct partitions; their files are named apart all the same.
    connection.execute(
        f"COPY ({query}) TO '{target}' "
        f"(FORMAT PARQUET, COMPRESSION SNAPPY, PARTITION_BY ({partitions}), "
        f"FILENAME_PATTERN 'chunk{chunk.index}_{{i}}', OVERWRITE_OR_IGNORE true)"
    )
