"""CREATE TABLE AS SELECT as Athena runs it, in phases: check the target (check_target) and
the SELECT's columns (output_columns), write Hive-style Parquet under external_location,
then the table (register_table) and its partitions (register_partitions) in Glue.

Athena's rules are checked before anything is written, with Athena's messages, so a
rejected statement leaves no files and no catalog entry behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from sqlglot import exp

from etl_local.object_access import ObjectAccess

from .errors import AthenaQueryError
from .glue_catalog import GlueCatalog
from .hive import UnsupportedTypeError, duckdb_to_hive, parquet_storage_descriptor
from .objects import as_folder, partition_values_of, split_uri

# Athena's limit on partitions written by one CTAS or INSERT INTO statement.
MAX_OPEN_PARTITIONS = 100
_COMPRESSIONS = {"SNAPPY": "snappy", "GZIP": "gzip", "ZSTD": "zstd", "NONE": "uncompressed"}
_PARQUET_COMPRESSION_PARAM = {"SNAPPY": "SNAPPY", "GZIP": "GZIP", "ZSTD": "ZSTD", "NONE": "NONE"}


@dataclass(frozen=True)
class CtasOptions:
    database: str
    table: str
    external_location: str
    compression: str
    partitioned_by: tuple[str, ...]
    # The statement's own external_location (None: the default location was taken).
    requested_location: str | None = None


@dataclass(frozen=True)
class CtasOutcome:
    rows_written: int
    partitions_written: tuple[tuple[str, ...], ...]
    files_written: int


def _string_value(node: exp.Expression) -> str:
    return node.name if isinstance(node, exp.Literal) else node.sql()


def parse_options(create: exp.Create, default_database: str, default_location: str) -> CtasOptions:
    """CTAS's WITH (...) properties, validated as Athena validates them."""
    target = create.this
    if isinstance(target, exp.Schema):
        raise AthenaQueryError("NOT_SUPPORTED: CTAS with a column list is not supported")
    properties: dict[str, Any] = {}
    for prop in (create.args.get("properties") or exp.Properties(expressions=[])).expressions:
        if isinstance(prop, exp.FileFormatProperty):
            properties["format"] = _string_value(prop.this).upper()
        elif isinstance(prop, exp.PartitionedByProperty):
            array = prop.this
            items = array.expressions if isinstance(array, exp.Array) else [array]
            properties["partitioned_by"] = tuple(_string_value(i) for i in items)
        elif isinstance(prop, exp.Property):
            properties[prop.name.lower()] = _string_value(prop.args["value"])
        else:
            raise AthenaQueryError(f"NOT_SUPPORTED: table property {prop.sql(dialect='athena')}")
    unknown = set(properties) - {
        "format",
        "partitioned_by",
        "external_location",
        "write_compression",
    }
    if unknown:
        raise AthenaQueryError(
            f"NOT_SUPPORTED: table properties not supported locally: {', '.join(sorted(unknown))}"
        )
    file_format = properties.get("format", "PARQUET")
    if file_format != "PARQUET":
        raise AthenaQueryError(
            f"NOT_SUPPORTED: the local Athena writes format 'PARQUET' only, got {file_format!r}"
        )
    compression = properties.get("write_compression", "SNAPPY").upper()
    if compression not in _COMPRESSIONS:
        raise AthenaQueryError(
            f"INVALID_TABLE_PROPERTY: unsupported write_compression {compression!r}"
        )
    location = properties.get("external_location") or default_location
    split_uri(location)
    # Glue keeps database, table and column names in lower case ("Names for databases,
    # tables and columns", Athena User Guide: Athena lower-cases them in DDL).
    return CtasOptions(
        database=(target.db or default_database).lower(),
        table=target.name.lower(),
        external_location=as_folder(location),
        compression=compression,
        partitioned_by=tuple(k.lower() for k in properties.get("partitioned_by", ())),
        requested_location=properties.get("external_location"),
    )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class OutputColumns:
    """The SELECT's columns as the CTAS writes them: names in order, DuckDB and Hive types."""

    names: list[str]
    duckdb_types: dict[str, str]
    hive_types: dict[str, str]


def run_ctas(
    options: CtasOptions,
    select_sql: str,
    cursor: duckdb.DuckDBPyConnection,
    catalog: GlueCatalog,
    access: ObjectAccess,
    query_id: str,
    *,
    register: bool = True,
) -> CtasOutcome:
    """Check Athena's rules, write Parquet, register the table and (unless `register` is
    false) its partitions.

    The SELECT is evaluated once, straight into Parquet files in a private staging
    directory; the limits that depend on the rows (partitions written) are checked there, so
    a rejected statement publishes no file and creates no table.
    """
    check_target(options, catalog, access)
    columns = output_columns(options, select_sql, cursor)
    with access.store.staging_directory("ctas") as staging:
        row_count = _write_parquet(
            options, select_sql, columns.names, columns.duckdb_types, cursor, staging, query_id
        )
        written = access.publish_directory(staging, options.external_location)
    descriptor = register_table(options, columns, catalog)
    # A failure from here on leaves the table and the files in place. Athena may delete the
    # table of a failed CTAS (hence the write role's glue:DeleteTable), but nothing AWS
    # documents promises it, so the local engine takes the stricter case: a run never reuses
    # a failed run's staging table names, and the next run's Begin drops them.
    keys = [o.key for o in written]
    if register:
        partitions = register_partitions(options, descriptor, keys, catalog)
    else:
        partitions = tuple(sorted(written_partitions(options, keys)))
    return CtasOutcome(row_count, partitions, len(written))


def check_target(options: CtasOptions, catalog: GlueCatalog, access: ObjectAccess) -> None:
    """The database must exist, the table must not, and the location must be empty: "The
    external_location property must specify a location that is empty. A CTAS query checks
    that the path location (prefix) in the bucket is empty and never overwrites the data"
    ("Considerations and limitations for CTAS queries", Athena User Guide)."""
    if not catalog.database_exists(options.database):
        raise AthenaQueryError(f"SCHEMA_NOT_FOUND: Schema '{options.database}' does not exist")
    if catalog.table_exists(options.database, options.table):
        raise AthenaQueryError(
            f"TABLE_ALREADY_EXISTS: Table 'awsdatacatalog.{options.database}.{options.table}' "
            "already exists"
        )
    if access.has_objects(options.external_location):
        raise AthenaQueryError(
            f"HIVE_PATH_ALREADY_EXISTS: Target directory for table "
            f"'{options.database}.{options.table}' already exists: {options.external_location}. "
            "You may need to manually clean the data at location "
            f"'{options.external_location}' before retrying. Athena will not delete data in "
            "your account."
        )


def output_columns(
    options: CtasOptions, select_sql: str, cursor: duckdb.DuckDBPyConnection
) -> OutputColumns:
    """The SELECT's columns, checked against Athena's rules for a table and its partition
    keys (unique names, partition keys last and in order, a type Hive can hold)."""
    described = cursor.execute(f"DESCRIBE {select_sql}").fetchall()
    names = [row[0].lower() for row in described]  # Glue's names are lower case
    types = {row[0].lower(): row[1] for row in described}
    lowered = [n.lower() for n in names]
    if len(set(lowered)) != len(lowered):
        duplicate = next(n for n in lowered if lowered.count(n) > 1)
        raise AthenaQueryError(
            f"DUPLICATE_COLUMN_NAME: Column name '{duplicate}' specified more than once"
        )
    partition_by = list(options.partitioned_by)
    for key in partition_by:
        if key not in names:
            raise AthenaQueryError(
                f"HIVE_COLUMN_NOT_FOUND: Partition column '{key}' not found in the query output"
            )
    if partition_by and names[-len(partition_by) :] != partition_by:
        raise AthenaQueryError(
            "HIVE_COLUMN_ORDER_MISMATCH: Partition keys must be the last columns in the table "
            f"and in the same order as the table properties: [{', '.join(partition_by)}]"
        )
    if partition_by and len(partition_by) == len(names):
        raise AthenaQueryError(
            "INVALID_TABLE_PROPERTY: a table needs at least one non-partition column"
        )
    try:
        hive_types = {name: duckdb_to_hive(types[name]) for name in names}
    except UnsupportedTypeError as error:
        raise AthenaQueryError(str(error)) from None
    return OutputColumns(names, types, hive_types)


def register_table(
    options: CtasOptions, columns: OutputColumns, catalog: GlueCatalog
) -> dict[str, Any]:
    """Create the table in the Glue catalog; its storage descriptor."""
    partition_by = options.partitioned_by
    data_columns = [
        {"Name": n, "Type": columns.hive_types[n]} for n in columns.names if n not in partition_by
    ]
    partition_keys = [{"Name": k, "Type": columns.hive_types[k]} for k in partition_by]
    descriptor = parquet_storage_descriptor(data_columns, options.external_location)
    catalog.create_table(
        options.database,
        {
            "Name": options.table,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {
                "EXTERNAL": "TRUE",
                "has_encrypted_data": "false",
                "classification": "parquet",
                "parquet.compression": _PARQUET_COMPRESSION_PARAM[options.compression],
            },
            "StorageDescriptor": descriptor,
            "PartitionKeys": partition_keys,
        },
    )
    return descriptor


def written_partitions(options: CtasOptions, keys: list[str]) -> dict[tuple[str, ...], str]:
    """The partitions (values -> location) of the folders the written files (object keys)
    are in."""
    if not options.partitioned_by:
        return {}
    _, prefix = split_uri(options.external_location)
    partitions: dict[tuple[str, ...], str] = {}
    for key in keys:
        relative_dir = key[len(prefix) :].rpartition("/")[0]
        values = tuple(v for _, v in partition_values_of(relative_dir) or [])
        partitions.setdefault(values, f"{options.external_location}{relative_dir}/")
    return partitions


def register_partitions(
    options: CtasOptions, descriptor: dict[str, Any], keys: list[str], catalog: GlueCatalog
) -> tuple[tuple[str, ...], ...]:
    """Add a partition for each folder the written files (object keys) are in; their values."""
    partitions = written_partitions(options, keys)
    if not partitions:
        return ()
    catalog.create_partitions(
        options.database,
        options.table,
        [
            {"Values": list(values), "StorageDescriptor": {**descriptor, "Location": location}}
            for values, location in sorted(partitions.items())
        ],
    )
    return tuple(sorted(partitions))


def _write_parquet(
    options: CtasOptions,
    select_sql: str,
    names: list[str],
    types: dict[str, str],
    cursor: duckdb.DuckDBPyConnection,
    staging: Path,
    query_id: str,
) -> int:
    """Write the SELECT's rows as Hive-partitioned Parquet into `staging`; the row count.

    Raises (leaving the files unpublished) when the rows span more partitions than one
    statement may write."""
    partition_by = list(options.partitioned_by)
    keys = ", ".join(_quote(k) for k in partition_by)
    # DuckDB's integer sums are HUGEINT; Athena's are bigint: write what the catalog says.
    projection = ", ".join(
        f"CAST({_quote(n)} AS BIGINT) AS {_quote(n)}"
        if types[n] == "HUGEINT"
        else f"{_quote(n)} AS {_quote(n)}"
        for n in names
    )
    codec = _COMPRESSIONS[options.compression]
    source = f"(SELECT {projection} FROM ({select_sql}))"
    if partition_by:
        copied = cursor.execute(
            f"COPY {source} TO {_sql_string(str(staging))} "
            f"(FORMAT PARQUET, COMPRESSION {codec}, PARTITION_BY ({keys}), "
            f"FILENAME_PATTERN '{query_id}_{{i}}')"
        ).fetchone()
    else:
        copied = cursor.execute(
            f"COPY {source} TO {_sql_string(str(staging / (query_id + '_0.parquet')))} "
            f"(FORMAT PARQUET, COMPRESSION {codec})"
        ).fetchone()
    row_count = int(copied[0]) if copied else 0
    if row_count == 0:
        # An empty result is a table without data files.
        for path in [p for p in staging.rglob("*") if p.is_file()]:
            path.unlink()
        return 0
    folders = {p.parent for p in staging.rglob("*") if p.is_file()}
    if len(folders) > MAX_OPEN_PARTITIONS:
        raise AthenaQueryError(
            f"HIVE_TOO_MANY_OPEN_PARTITIONS: Exceeded limit of {MAX_OPEN_PARTITIONS} open "
            "writers for partitions/buckets"
        )
    return row_count


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
