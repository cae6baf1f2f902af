"""The Athena -> DuckDB translation keeps the meaning of the Trino functions the models rely on.

Each case runs the translated expression on DuckDB and compares it with what Athena (Trino)
returns for it, so a sqlglot upgrade that changes a translation fails here first.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pytest
import sqlglot.errors

from etl_local.sql_dialect import (
    UnsupportedConstruct,
    athena_to_duckdb,
    athena_to_plain_duckdb,
    install_functions,
    parse_athena,
)

CASES: list[tuple[str, Any]] = [
    # ISO-8601 with an offset or Z is an instant; AT TIME ZONE 'UTC' + CAST = UTC wall clock
    (
        "CAST(from_iso8601_timestamp('2026-11-20T14:03:00+01:00') AT TIME ZONE 'UTC' AS timestamp)",
        dt.datetime(2026, 11, 20, 13, 3),
    ),
    ("CAST(from_iso8601_timestamp('2026-11-20T13:03:00Z') AT TIME ZONE 'UTC' AS timestamp)",
     dt.datetime(2026, 11, 20, 13, 3)),
    ("try(from_iso8601_timestamp('not a time'))", None),
    # date_format of an instant at a zone formats its local wall clock (DST: +02:00 / +01:00)
    ("date_format(from_iso8601_timestamp('2026-10-25T00:30:00Z') AT TIME ZONE 'Europe/Brussels', "
     "'%Y-%m-%d-%H')", "2026-10-25-02"),
    ("date_format(from_iso8601_timestamp('2026-10-25T01:30:00Z') AT TIME ZONE 'Europe/Brussels', "
     "'%Y-%m-%d-%H')", "2026-10-25-02"),
    ("CAST(round(to_unixtime(from_iso8601_timestamp('1970-01-01T00:03:00.250Z')) * 1000) "
     "AS bigint)", 180250),
    ("concat('2026', '-', '03', '-', '01')", "2026-03-01"),
    ("date_trunc('hour', TIMESTAMP '2026-11-20 13:59:59')", dt.datetime(2026, 11, 20, 13)),
]  # fmt: skip


@pytest.mark.parametrize(("athena", "expected"), CASES, ids=[c[0][:60] for c in CASES])
def test_translated_expression_gives_what_athena_gives(athena: str, expected: Any) -> None:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    install_functions(con)

    (value,) = con.execute(athena_to_duckdb(f"SELECT {athena}")).fetchone() or (None,)

    assert value == expected


# What Athena's from_iso8601_timestamp reads (Joda's ISO parser, session zone UTC), as the
# UTC wall clock it denotes; None: Athena rejects it (NULL under try()).
ISO8601 = [
    ("2026-11-20T14:03:00+01:00", dt.datetime(2026, 11, 20, 13, 3)),
    ("2026-11-20T14:03:00.123456+0100", dt.datetime(2026, 11, 20, 13, 3, 0, 123000)),
    ("2026-11-20T14:03:00,5Z", dt.datetime(2026, 11, 20, 14, 3, 0, 500000)),
    ("2026-11-20T14:03+05", dt.datetime(2026, 11, 20, 9, 3)),
    ("2026-11-20T14Z", dt.datetime(2026, 11, 20, 14)),
    # no offset: the session time zone, UTC on Athena
    ("2026-11-20T14:03:00", dt.datetime(2026, 11, 20, 14, 3)),
    # a bare date, even a year-month or a year, is midnight UTC
    ("2026-11-20", dt.datetime(2026, 11, 20)),
    ("2026-11", dt.datetime(2026, 11, 1)),
    ("2026", dt.datetime(2026, 1, 1)),
    # what Athena rejects, although DuckDB's own cast would read some of it
    ("2026-11-20 14:03:00Z", None),
    ("2026-11-20T14:03:00 +01:00", None),
    ("2026-13-20T14:03:00Z", None),
    ("20261120T140300Z", None),
    ("", None),
    ("yesterday", None),
]


@pytest.mark.parametrize(("text", "expected"), ISO8601, ids=[c[0] or "empty" for c in ISO8601])
def test_from_iso8601_timestamp_reads_what_athena_reads(text: str, expected: Any) -> None:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    install_functions(con)
    sql = athena_to_duckdb(
        f"SELECT CAST(try(from_iso8601_timestamp('{text}')) AT TIME ZONE 'UTC' AS timestamp)"
    )

    (value,) = con.execute(sql).fetchone() or (None,)

    assert value == expected


def test_from_iso8601_timestamp_without_try_fails_on_what_athena_rejects() -> None:
    con = duckdb.connect()
    install_functions(con)
    with pytest.raises(duckdb.Error, match="Invalid format"):
        con.execute(athena_to_duckdb("SELECT from_iso8601_timestamp('2026-11-20 14:03:00Z')"))


def test_range_frame_on_a_number_and_max_by_translate() -> None:
    athena = """
        SELECT k, avg(v) OVER (PARTITION BY g ORDER BY k RANGE BETWEEN 2 PRECEDING AND CURRENT ROW),
               max_by(v, k) OVER (PARTITION BY g), count_if(v > 1) OVER (PARTITION BY g)
        FROM (VALUES (1, 'a', 10), (2, 'a', 20), (4, 'a', 40)) AS t (k, g, v)
        ORDER BY k
    """
    con = duckdb.connect()
    install_functions(con)
    rows = con.execute(athena_to_duckdb(athena)).fetchall()

    # k=4 averages k in [2, 4]: 20 and 40
    assert rows == [(1, 10.0, 40, 3), (2, 15.0, 40, 3), (4, 30.0, 40, 3)]


def test_exactly_one_statement() -> None:
    with pytest.raises(ValueError, match="exactly one SQL statement, got 2"):
        parse_athena("SELECT 1; SELECT 2")


def test_syntax_errors_are_raised() -> None:
    with pytest.raises(sqlglot.errors.ParseError):
        parse_athena("SELECT FROM WHERE (")


def test_a_with_query_is_evaluated_at_each_reference_as_trino_does() -> None:
    """Trino inlines a WITH query where it is referenced; DuckDB would materialize one that is
    referenced twice (same answer for deterministic SQL, every column held in memory)."""
    sql = athena_to_duckdb(
        "WITH drawn AS (SELECT random() AS x FROM UNNEST(sequence(1, 64)) AS t(n)) "
        "SELECT count(*) FROM drawn AS a JOIN drawn AS b ON a.x = b.x"
    )
    assert "NOT MATERIALIZED" in sql
    # Materialized once, each of the 64 values would meet itself: 64 pairs.
    assert duckdb.sql(sql).fetchone() == (0,)


# -- the DuckDB engine's translation: the helpers written out in place -------------------------


@pytest.mark.parametrize(
    ("athena", "expected"),
    [
        ("SELECT 7 / 2", 3),  # Trino's integer division, kept
        ("SELECT trim(chr(9) || 'a' || chr(9))", "a"),  # Java's whitespace, kept
        ("SELECT substr('hello', 0, 2)", ""),  # start 0, kept
        ("SELECT lower('STRASSE')", "strasse"),
        ("SELECT upper('straße')", "STRAẞE"),  # the guard is gone: DuckDB's answer, not a refusal
    ],
)
def test_the_duckdb_engines_sql_needs_no_helper_and_keeps_trinos_meaning(
    athena: str, expected: Any
) -> None:
    plain = athena_to_plain_duckdb(athena)
    assert "athena_" not in plain.lower()
    # a DuckDB without the local engine's macros runs it, as Athena's DuckDB engine would
    assert duckdb.connect().execute(plain).fetchone() == (expected,)


def test_the_duckdb_engines_sql_still_refuses_what_no_helper_makes_exact() -> None:
    with pytest.raises(UnsupportedConstruct, match="decimal"):
        athena_to_plain_duckdb("SELECT 10.0 / 3")
