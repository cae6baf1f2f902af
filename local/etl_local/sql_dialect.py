"""Athena (Trino) SQL to DuckDB: the one translation the SQL tests and the local Athena share."""

from __future__ import annotations

import sqlglot
from sqlglot import exp


def parse_athena(sql: str) -> exp.Expr:
    """Parse one Athena statement; raises sqlglot.errors.ParseError naming the problem."""
    statements = [s for s in sqlglot.parse(sql, read="athena") if s is not None]
    if len(statements) != 1:
        raise ValueError(f"expected exactly one SQL statement, got {len(statements)}")
    return statements[0]


def to_duckdb(statement: exp.Expr) -> str:
    """DuckDB SQL for a parsed (and possibly rewritten) Athena statement.

    Generate straight from the tree: printing it back as Athena SQL first does not
    round-trip (e.g. `x AT TIME ZONE 'UTC'` prints as AT_TIMEZONE(...), which sqlglot
    then no longer reads as a time zone conversion).
    """
    return statement.sql(dialect="duckdb")


def athena_to_duckdb(sql: str) -> str:
    """Transpile one Athena statement to DuckDB."""
    return to_duckdb(parse_athena(sql))
