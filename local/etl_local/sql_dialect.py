"""Athena (Trino) SQL to DuckDB SQL: the one translation the SQL tests and the local Athena share."""

from __future__ import annotations

import sqlglot
from sqlglot import exp


def parse_athena(sql: str) -> exp.Expression:
    """Parse one Athena statement; raises sqlglot.errors.ParseError naming the problem."""
    statements = [s for s in sqlglot.parse(sql, read="athena") if s is not None]
    if len(statements) != 1:
        raise ValueError(f"expected exactly one SQL statement, got {len(statements)}")
    return statements[0]


def athena_to_duckdb(sql: str) -> str:
    """Transpile one Athena statement to DuckDB."""
    return parse_athena(sql).sql(dialect="duckdb")
