"""Athena (Trino) SQL to DuckDB: the one translation the SQL tests and the local Athena share.

sqlglot transpiles the syntax; where Athena's function semantics differ from DuckDB's, the
function is rewritten to a macro defined here (`install_functions` on every connection that
runs translated SQL), written from Athena's documented behaviour. WITH queries are evaluated
where they are referenced, as Trino evaluates them, not materialized as DuckDB would.
"""

from __future__ import annotations

from typing import Any

import sqlglot
from sqlglot import exp

# from_iso8601_timestamp (Athena engine 3 = Trino): Joda's ISO date-time parser — a calendar
# date of year, year-month or year-month-day, an optional 'T' time of hour, hour:minute,
# hour:minute:second, with an optional fraction ('.' or ','), an optional offset (Z, +HH,
# +HH:MM or +HHMM); without an offset, the session time zone, which is UTC on Athena
# ("Date and time functions and operators", Trino docs; Athena's session zone is UTC).
# A string it cannot parse is an error (NULL under try()). The value is a timestamp(3):
# digits beyond the millisecond are dropped. DuckDB's own cast accepts more (a space for the
# 'T') and fewer (hour:minute without seconds) forms, hence the macro.
_ISO8601 = (
    "^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?"
    "(?:T([0-9]{2})(?::([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]+))?)?)?)?"
    "(Z|[+-][0-9]{2}(?::?[0-9]{2})?)?$"
)
_FUNCTIONS = {
    "athena_from_iso8601_timestamp": f"""
        (s) AS CAST(
            CASE WHEN regexp_matches(s, '{_ISO8601}') THEN
                regexp_extract(s, '{_ISO8601}', 1)
                || '-' || coalesce(nullif(regexp_extract(s, '{_ISO8601}', 2), ''), '01')
                || '-' || coalesce(nullif(regexp_extract(s, '{_ISO8601}', 3), ''), '01')
                || ' ' || coalesce(nullif(regexp_extract(s, '{_ISO8601}', 4), ''), '00')
                || ':' || coalesce(nullif(regexp_extract(s, '{_ISO8601}', 5), ''), '00')
                || ':' || coalesce(nullif(regexp_extract(s, '{_ISO8601}', 6), ''), '00')
                || CASE WHEN regexp_extract(s, '{_ISO8601}', 7) = '' THEN ''
                        ELSE '.' || substr(regexp_extract(s, '{_ISO8601}', 7), 1, 3) END
                || CASE
                    WHEN regexp_extract(s, '{_ISO8601}', 8) IN ('', 'Z') THEN '+00:00'
                    WHEN length(regexp_extract(s, '{_ISO8601}', 8)) = 3
                        THEN regexp_extract(s, '{_ISO8601}', 8) || ':00'
                    WHEN length(regexp_extract(s, '{_ISO8601}', 8)) = 5
                        THEN substr(regexp_extract(s, '{_ISO8601}', 8), 1, 3) || ':'
                            || substr(regexp_extract(s, '{_ISO8601}', 8), 4, 2)
                    ELSE regexp_extract(s, '{_ISO8601}', 8) END
            ELSE 'Invalid format: "' || s || '" is malformed'
            END AS TIMESTAMPTZ)
    """,
}
_REWRITES: dict[type[exp.Expr], str] = {exp.FromISO8601Timestamp: "athena_from_iso8601_timestamp"}


def install_functions(connection: Any) -> None:
    """Define the macros translated SQL calls, on one DuckDB connection."""
    for name, body in _FUNCTIONS.items():
        connection.execute(f"CREATE OR REPLACE MACRO {name}{body}")


def parse_athena(sql: str) -> exp.Expr:
    """Parse one Athena statement; raises sqlglot.errors.ParseError naming the problem."""
    statements = [s for s in sqlglot.parse(sql, read="athena") if s is not None]
    if len(statements) != 1:
        raise ValueError(f"expected exactly one SQL statement, got {len(statements)}")
    return statements[0]


def _with_athena_semantics(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.CTE) and node.args.get("materialized") is None:
        # Trino evaluates a WITH query where it is referenced, once per reference ("WITH
        # clause", Trino's SELECT docs); DuckDB materializes one referenced twice, every
        # column, in memory: an audit reading its staged rows twice held them all (3.8 GB for
        # a production day of traffic events) and took several times as long.
        node.set("materialized", False)  # on to_duckdb's copy of the statement
        return node
    name = _REWRITES.get(type(node))
    if name is None:
        return node
    return exp.Anonymous(this=name, expressions=[node.this])


def to_duckdb(statement: exp.Expr) -> str:
    """DuckDB SQL for a parsed (and possibly rewritten) Athena statement.

    Generate straight from the tree: printing it back as Athena SQL first does not
    round-trip (e.g. `x AT TIME ZONE 'UTC'` prints as AT_TIMEZONE(...), which sqlglot
    then no longer reads as a time zone conversion).
    """
    return statement.copy().transform(_with_athena_semantics).sql(dialect="duckdb")


def athena_to_duckdb(sql: str) -> str:
    """Transpile one Athena statement to DuckDB."""
    return to_duckdb(parse_athena(sql))
