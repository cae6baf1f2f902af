"""Hive table formats and types as the Glue catalog stores them, and their DuckDB equivalents.

Athena and Glue describe a table by its SerDe/InputFormat and Hive column types; the local
Athena reads and writes through DuckDB, so every crossing between the two goes through here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"
HIVE_JSON_SERDE = "org.apache.hive.hcatalog.data.JsonSerDe"
LAZY_SIMPLE_SERDE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
OPEN_CSV_SERDE = "org.apache.hadoop.hive.serde2.OpenCSVSerde"
TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"
TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"


class UnsupportedFormatError(ValueError):
    """A table's SerDe/InputFormat is not one the local Athena can read."""


class UnsupportedTypeError(ValueError):
    """A column type has no equivalent on the other side (Hive <-> DuckDB)."""


@dataclass(frozen=True)
class StorageFormat:
    """How a table's files are read: 'parquet', 'json' or 'csv', with CSV's options."""

    kind: str
    delimiter: str = ","
    header_lines: int = 0


def storage_format(table_input: dict[str, Any]) -> StorageFormat:
    """The format of a Glue table, from its SerDe first, then InputFormat and classification."""
    descriptor = table_input.get("StorageDescriptor") or {}
    serde = descriptor.get("SerdeInfo") or {}
    library = serde.get("SerializationLibrary") or ""
    serde_params = serde.get("Parameters") or {}
    table_params = table_input.get("Parameters") or {}
    input_format = descriptor.get("InputFormat") or ""
    classification = (table_params.get("classification") or "").lower()
    header_lines = int(table_params.get("skip.header.line.count", "0") or 0)
    if library == PARQUET_SERDE or "parquet" in input_format.lower() or classification == "parquet":
        return StorageFormat("parquet")
    if library in (JSON_SERDE, HIVE_JSON_SERDE) or classification == "json":
        return StorageFormat("json")
    if library == OPEN_CSV_SERDE:
        return StorageFormat("csv", serde_params.get("separatorChar", ","), header_lines)
    if library == LAZY_SIMPLE_SERDE or classification == "csv":
        delimiter = serde_params.get("field.delim") or serde_params.get("serialization.format")
        if not delimiter or delimiter == "1":
            delimiter = ","
        return StorageFormat("csv", delimiter, header_lines)
    raise UnsupportedFormatError(
        f"HIVE_UNSUPPORTED_FORMAT: unsupported SerDe {library!r} / InputFormat {input_format!r}"
    )


def _storage_descriptor(
    columns: list[dict[str, str]],
    location: str,
    formats: tuple[str, str],
    serde: str,
    serde_parameters: dict[str, str],
) -> dict[str, Any]:
    input_format, output_format = formats
    return {
        "Columns": columns,
        "Location": location,
        "InputFormat": input_format,
        "OutputFormat": output_format,
        "Compressed": False,
        "NumberOfBuckets": -1,
        "SerdeInfo": {"SerializationLibrary": serde, "Parameters": serde_parameters},
        "BucketColumns": [],
        "SortColumns": [],
        "StoredAsSubDirectories": False,
    }


def parquet_storage_descriptor(columns: list[dict[str, str]], location: str) -> dict[str, Any]:
    """The StorageDescriptor Athena's CTAS and Glue's crawler give a Parquet table."""
    return _storage_descriptor(
        columns,
        location,
        (PARQUET_INPUT, PARQUET_OUTPUT),
        PARQUET_SERDE,
        {"serialization.format": "1"},
    )


def json_storage_descriptor(columns: list[dict[str, str]], location: str) -> dict[str, Any]:
    return _storage_descriptor(
        columns, location, (TEXT_INPUT, TEXT_OUTPUT), JSON_SERDE, {"paths": ""}
    )


def csv_storage_descriptor(columns: list[dict[str, str]], location: str) -> dict[str, Any]:
    return _storage_descriptor(
        columns, location, (TEXT_INPUT, TEXT_OUTPUT), LAZY_SIMPLE_SERDE, {"field.delim": ","}
    )


_SIMPLE_HIVE_TO_DUCKDB = {
    "string": "VARCHAR",
    "varchar": "VARCHAR",
    "char": "VARCHAR",
    "tinyint": "TINYINT",
    "smallint": "SMALLINT",
    "int": "INTEGER",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "float": "FLOAT",
    "real": "FLOAT",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "binary": "BLOB",
}


def _split_top_level(text: str) -> list[str]:
    """Split 'a:int,b:map<string,int>' at commas that are not nested inside <> or ()."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char in "<(":
            depth += 1
        elif char in ">)":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if current:
        parts.append("".join(current).strip())
    return parts


def hive_to_duckdb(hive_type: str) -> str:
    """DuckDB type for a Hive column type (nested types included)."""
    text = hive_type.strip()
    lowered = text.lower()
    if lowered in _SIMPLE_HIVE_TO_DUCKDB:
        return _SIMPLE_HIVE_TO_DUCKDB[lowered]
    match = re.fullmatch(r"(var)?char\(\d+\)", lowered)
    if match:
        return "VARCHAR"
    match = re.fullmatch(r"decimal\((\d+)\s*,\s*(\d+)\)", lowered)
    if match:
        return f"DECIMAL({match.group(1)},{match.group(2)})"
    if lowered == "decimal":
        return "DECIMAL(10,0)"
    if lowered.startswith("array<") and lowered.endswith(">"):
        return f"{hive_to_duckdb(text[6:-1])}[]"
    if lowered.startswith("map<") and lowered.endswith(">"):
        key, value = _split_top_level(text[4:-1])
        return f"MAP({hive_to_duckdb(key)}, {hive_to_duckdb(value)})"
    if lowered.startswith("struct<") and lowered.endswith(">"):
        fields = []
        for field in _split_top_level(text[7:-1]):
            name, _, field_type = field.partition(":")
            fields.append(f'"{name.strip()}" {hive_to_duckdb(field_type)}')
        return f"STRUCT({', '.join(fields)})"
    raise UnsupportedTypeError(f"unsupported Hive type {hive_type!r}")


_SIMPLE_DUCKDB_TO_HIVE = {
    "VARCHAR": "string",
    "TINYINT": "tinyint",
    "SMALLINT": "smallint",
    "INTEGER": "int",
    "BIGINT": "bigint",
    "HUGEINT": "bigint",
    "UTINYINT": "smallint",
    "USMALLINT": "int",
    "UINTEGER": "bigint",
    "UBIGINT": "bigint",
    "FLOAT": "float",
    "DOUBLE": "double",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP_NS": "timestamp",
    "TIMESTAMP_MS": "timestamp",
    "TIMESTAMP_S": "timestamp",
    "BLOB": "binary",
}


def duckdb_to_hive(duckdb_type: str) -> str:
    """Hive column type Athena's CTAS would record for a DuckDB result type."""
    text = duckdb_type.strip()
    upper = text.upper()
    if upper in _SIMPLE_DUCKDB_TO_HIVE:
        return _SIMPLE_DUCKDB_TO_HIVE[upper]
    match = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", upper)
    if match:
        return f"decimal({match.group(1)},{match.group(2)})"
    if upper.endswith("[]"):
        return f"array<{duckdb_to_hive(text[:-2])}>"
    if upper.startswith("MAP(") and upper.endswith(")"):
        key, value = _split_top_level(text[4:-1])
        return f"map<{duckdb_to_hive(key)},{duckdb_to_hive(value)}>"
    if upper.startswith("STRUCT(") and upper.endswith(")"):
        fields = []
        for field in _split_top_level(text[7:-1]):
            name, _, field_type = field.strip().partition(" ")
            unquoted = name.strip('"')
            fields.append(f"{unquoted}:{duckdb_to_hive(field_type)}")
        return f"struct<{','.join(fields)}>"
    if upper.startswith("TIMESTAMP WITH TIME ZONE"):
        raise UnsupportedTypeError(
            "NOT_SUPPORTED: Unsupported Hive type: timestamp(3) with time zone"
        )
    raise UnsupportedTypeError(f"NOT_SUPPORTED: Unsupported Hive type for DuckDB type {text}")


# Athena's names in ResultSetMetadata.ColumnInfo[].Type (Trino type names).
_DUCKDB_TO_ATHENA_RESULT = {
    "VARCHAR": "varchar",
    "TINYINT": "tinyint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "HUGEINT": "bigint",
    "FLOAT": "real",
    "DOUBLE": "double",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamp with time zone",
    "BLOB": "varbinary",
}


def athena_result_type(duckdb_type: str) -> str:
    upper = duckdb_type.upper()
    if upper in _DUCKDB_TO_ATHENA_RESULT:
        return _DUCKDB_TO_ATHENA_RESULT[upper]
    if upper.startswith("DECIMAL"):
        return "decimal"
    if upper.endswith("[]"):
        return "array"
    if upper.startswith("STRUCT"):
        return "row"
    if upper.startswith("MAP"):
        return "map"
    return "varchar"
