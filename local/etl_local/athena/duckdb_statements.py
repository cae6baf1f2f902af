"""A DuckDB workgroup's statements, as Athena, powered by DuckDB, takes them: DuckDB SQL, run
as written on the DuckDB release Athena runs (etl_local.athena.duckdb_process).

The local Athena parses the text only to find what it must provide: the catalog tables it
names (bound as views of those very names over the tables' files, partitions pruned) and, for
CREATE TABLE AS, the WITH clause. "CREATE TABLE AS ... take[s] the type of the table, its
location in Amazon S3, and its other storage settings in a WITH clause" ("CREATE TABLE and
CREATE TABLE AS statements in DuckDB", Athena User Guide): the properties accepted here are
etl_lambdas.staging.DUCKDB_CTAS_WITH's; the SELECT after AS runs untranslated. Athena reports a
DuckDB query's errors in DuckDB's words, after StartQueryExecution succeeded ("Troubleshoot"):
here too, a statement fails in its execution, never at submission.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlglot
import sqlglot.errors
from sqlglot import exp

from .ctas import _COMPRESSIONS, CtasOptions
from .errors import AthenaQueryError
from .objects import as_folder, split_uri

_CTAS = re.compile(
    r"^\s*CREATE\s+TABLE\s+(?P<name>[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)?)\s+WITH\s*\(",
    re.IGNORECASE,
)
_PROPERTY = re.compile(r"^\s*(?P<key>[A-Za-z_]+)\s*=\s*(?P<value>.+?)\s*$", re.DOTALL)
_STRING = re.compile(r"^'((?:[^']|'')*)'$")
_LIST = re.compile(r"^(?:ARRAY\s*)?\[(?P<items>.*)\]$", re.IGNORECASE | re.DOTALL)
PROPERTIES = ("table_type", "location", "format", "write_compression", "partitioned_by")


@dataclass(frozen=True)
class DuckDBCtas:
    database: str | None
    table: str
    properties: dict[str, str | tuple[str, ...]]
    select: str


def _closing(text: str, start: int) -> int:
    """Index of the parenthesis closing the one before `start` (quotes respected)."""
    depth, quoted = 1, False
    for index in range(start, len(text)):
        char = text[index]
        if char == "'":
            quoted = not quoted
        elif not quoted and char in "([":
            depth += 1
        elif not quoted and char in ")]":
            depth -= 1
            if depth == 0:
                return index
    raise AthenaQueryError("Parser Error: unbalanced parentheses in CREATE TABLE ... WITH (")


def _split(text: str) -> list[str]:
    """Top-level comma-separated items (quotes and brackets respected)."""
    items, depth, quoted, current = [], 0, False, ""
    for char in text:
        if char == "'":
            quoted = not quoted
        elif not quoted and char in "([":
            depth += 1
        elif not quoted and char in ")]":
            depth -= 1
        if char == "," and depth == 0 and not quoted:
            items.append(current)
            current = ""
        else:
            current += char
    if current.strip():
        items.append(current)
    return items


def _value(text: str, key: str) -> str | tuple[str, ...]:
    listed = _LIST.match(text.strip())
    if listed:
        return tuple(str(_value(item, key)) for item in _split(listed.group("items")))
    quoted = _STRING.match(text.strip())
    if not quoted:
        raise AthenaQueryError(f"Binder Error: table property {key} must be a string, got {text}")
    return quoted.group(1).replace("''", "'")


def parse_ctas(sql: str) -> DuckDBCtas | None:
    """CREATE TABLE <name> WITH (<properties>) AS <select>, or None for another statement."""
    match = _CTAS.match(sql)
    if not match:
        return None
    end = _closing(sql, match.end())
    rest = re.match(r"\s*AS\s+(?P<select>.+)$", sql[end + 1 :], re.IGNORECASE | re.DOTALL)
    if not rest:
        raise AthenaQueryError("Parser Error: CREATE TABLE ... WITH (...) must be followed by AS")
    properties: dict[str, str | tuple[str, ...]] = {}
    for item in _split(sql[match.end() : end]):
        prop = _PROPERTY.match(item)
        if not prop:
            raise AthenaQueryError(f"Parser Error: table property {item.strip()!r}")
        key = prop.group("key").lower()
        if key not in PROPERTIES:
            raise AthenaQueryError(
                f"NOT_SUPPORTED: table property {key!r}; the local Athena takes "
                f"{', '.join(PROPERTIES)} on a DuckDB workgroup"
            )
        properties[key] = _value(prop.group("value"), key)
    database, _, table = match.group("name").rpartition(".")
    return DuckDBCtas(
        database or None, table, properties, rest.group("select").rstrip().rstrip(";")
    )


def ctas_options(ctas: DuckDBCtas, default_database: str, default_location: str) -> CtasOptions:
    """The CTAS as the local engine writes it (Hive table, Parquet), Athena's checks first."""
    properties = ctas.properties
    table_type = str(properties.get("table_type", "HIVE")).upper()
    if table_type != "HIVE":
        raise AthenaQueryError(
            f"NOT_SUPPORTED: the local Athena writes Hive tables, not {table_type}"
        )
    file_format = str(properties.get("format", "PARQUET")).upper()
    if file_format != "PARQUET":
        raise AthenaQueryError(
            f"NOT_SUPPORTED: the local Athena writes PARQUET only, got {file_format}"
        )
    compression = str(properties.get("write_compression", "SNAPPY")).upper()
    if compression not in _COMPRESSIONS:
        raise AthenaQueryError(f"Invalid Input Error: write_compression {compression!r}")
    requested = properties.get("location")
    location = str(requested or default_location)
    split_uri(location)
    partitioned = properties.get("partitioned_by", ())
    return CtasOptions(
        database=ctas.database or default_database,
        table=ctas.table,
        external_location=as_folder(location),
        compression=compression,
        partitioned_by=tuple(partitioned) if isinstance(partitioned, tuple) else (partitioned,),
        requested_location=str(requested) if requested else None,
    )


def parse_duckdb(sql: str) -> exp.Expr:
    """One DuckDB statement, parsed to find its tables (the text itself is what runs)."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError) as error:
        raise AthenaQueryError(f"Parser Error: {error}") from None
    if len(statements) != 1:
        # "Each query is a single SQL statement. A request with more than one statement fails."
        raise AthenaQueryError(f"Parser Error: expected one statement, got {len(statements)}")
    return statements[0]
