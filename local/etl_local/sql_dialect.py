"""Athena (Trino) SQL to DuckDB: the one translation the local Athena (and the SQL tests) use.

The local Athena answers as Athena engine version 3 answers, or refuses. sqlglot transpiles
the syntax; this module then
- refuses every function it does not know to be exact (`SUPPORTED_FUNCTIONS`): each one is
  checked against a real Trino by the probe corpus (tests/oracle/probes.py), and a function
  outside the list fails the query with NOT_SUPPORTED naming it, rather than answering
  what DuckDB's function of that name answers;
- rewrites the constructs whose meaning differs into DuckDB macros (`install_functions`
  defines them on a connection), e.g. integer division that truncates and fails on zero,
  AT TIME ZONE read in the session zone (UTC), Java's whitespace for trim;
- refuses, when the query runs, what depends on a value's type in a way it cannot follow
  statically (e.g. hour() of a timestamp with time zone: Trino keeps the value's own zone,
  DuckDB does not).
Every difference the oracle found, and how it is handled, is listed in docs/sql-dialect.md.

WITH queries are evaluated where they are referenced, as Trino evaluates them, not
materialized as DuckDB would.

API: `parse_athena(sql)` -> statement; `to_duckdb(statement)` -> DuckDB SQL (raises
UnsupportedConstruct); `athena_to_duckdb(sql)` both; `install_functions(connection)`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

import sqlglot
from sqlglot import exp


class UnsupportedConstruct(ValueError):
    """A construct the local engine cannot run exactly as Athena does; the message names it."""


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
# Java's Character.isWhitespace, which Trino's trim, ltrim and rtrim remove: the Unicode
# space, line and paragraph separators except the no-break ones, and \t \n \v \f \r \x1c-\x1f.
# DuckDB's trim() removes spaces only.
_JAVA_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2008\u2009\u200a\u2028\u2029\u205f\u3000"
)
# Characters whose upper or lower case is not one character (Unicode's SpecialCasing):
# Java's Character.toUpperCase keeps them, DuckDB maps some (ß -> ẞ).
_SPECIAL_CASING = (
    "[\u00df\u0130\u0149\u01f0\u0390\u03b0\u0587\u1e96-\u1e9a\u1f50-\u1ffc\ufb00-\ufb17]"
)
_TIMESTAMP_WITH_ZONE = "'TIMESTAMP WITH TIME ZONE'"


def refusal_message(construct: str) -> str:
    """Athena's failed-query text for a construct the local engine refuses."""
    return (
        f"NOT_SUPPORTED: {construct}: the local engine cannot run it exactly as Athena engine "
        "version 3 does (run the query on Trino: etl query --engine trino)"
    )


def _refusal(construct: str) -> str:
    tail = refusal_message("").removeprefix("NOT_SUPPORTED: ")
    return f"error('NOT_SUPPORTED: ' || {construct} || '{tail}')"


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
    # Trino: an integer quotient truncates toward zero (DuckDB's // does; its / is a double
    # division) and fails on a zero divisor; a double one is IEEE's. A decimal quotient has
    # Trino's precision and rounding rules, which DuckDB's (a double) does not follow.
    "athena_divide": f"""
        (a, b) AS CASE
            WHEN typeof(a) LIKE 'DECIMAL%' OR typeof(b) LIKE 'DECIMAL%'
                THEN {_refusal("'decimal division'")}
            WHEN b = 0 AND typeof(a // b) NOT IN ('DOUBLE', 'FLOAT')
                THEN error('DIVISION_BY_ZERO: Division by zero')
            WHEN b = 0 THEN {_refusal("'a double divided by zero (Infinity or NaN)'")}
            ELSE a // b END
    """,
    "athena_modulus": f"""
        (a, b) AS CASE
            WHEN typeof(a) LIKE 'DECIMAL%' OR typeof(b) LIKE 'DECIMAL%'
                THEN {_refusal("'decimal modulus'")}
            WHEN b = 0 AND typeof(a % b) NOT IN ('DOUBLE', 'FLOAT')
                THEN error('DIVISION_BY_ZERO: Division by zero')
            ELSE a % b END
    """,
    # Trino's DATE - DATE is an interval day to second, DuckDB's a number of days.
    "athena_subtract": f"""
        (a, b) AS CASE
            WHEN typeof(a) IN ('DATE', 'TIMESTAMP', {_TIMESTAMP_WITH_ZONE})
                AND typeof(b) IN ('DATE', 'TIMESTAMP', {_TIMESTAMP_WITH_ZONE})
                THEN {_refusal("'the difference of two dates or timestamps'")}
            ELSE a - b END
    """,
    # A value a zone-dependent function reads (hour(), date_format(), CAST AS timestamp...):
    # Trino reads a timestamp with time zone in the value's own zone, which DuckDB does not
    # keep (it holds the instant). A plain timestamp, and the result of AT TIME ZONE (a local
    # wall clock here), pass.
    "athena_wall_clock": f"""
        (x, construct) AS CASE
            WHEN typeof(x) = {_TIMESTAMP_WITH_ZONE}
                THEN {_refusal("construct || ' of a timestamp with time zone'")}
            ELSE x END
    """,
    # A DATE +/- an interval: Trino keeps a date, DuckDB makes a timestamp.
    "athena_not_date": f"""
        (x) AS CASE
            WHEN typeof(x) = 'DATE' THEN {_refusal("'a date plus or minus an interval'")}
            ELSE x END
    """,
    # Trino's concat and || take varchar only (DuckDB casts anything to text).
    "athena_concat_operand": """
        (x) AS CASE WHEN typeof(x) NOT IN ('VARCHAR', '"NULL"')
            THEN error('FUNCTION_NOT_FOUND: concat() of a ' || typeof(x) || ': Trino takes varchar')
            ELSE x END
    """,
    # Trino's average of decimals is a decimal; DuckDB's a double.
    "athena_not_decimal": f"""
        (x, construct) AS CASE WHEN typeof(x) LIKE 'DECIMAL%'
            THEN {_refusal("construct || ' of a decimal'")} ELSE x END
    """,
    "athena_trim": f"(s) AS trim(s, '{_JAVA_WHITESPACE}')",
    "athena_ltrim": f"(s) AS ltrim(s, '{_JAVA_WHITESPACE}')",
    "athena_rtrim": f"(s) AS rtrim(s, '{_JAVA_WHITESPACE}')",
    "athena_upper": f"""
        (s) AS CASE WHEN regexp_matches(s, '{_SPECIAL_CASING}')
            THEN {_refusal("'upper() of ' || s")} ELSE upper(s) END
    """,
    "athena_lower": f"""
        (s) AS CASE WHEN regexp_matches(s, '{_SPECIAL_CASING}')
            THEN {_refusal("'lower() of ' || s")} ELSE lower(s) END
    """,
    # Trino's substr counts from 1 (from the end when negative); start 0 is the empty string.
    "athena_substr2": "(s, start) AS CASE WHEN start = 0 THEN '' ELSE substr(s, start) END",
    "athena_substr3": ("(s, start, n) AS CASE WHEN start = 0 THEN '' ELSE substr(s, start, n) END"),
    # Trino: NULL past the last field, an error for an index below 1 (DuckDB: '' and from
    # the end).
    "athena_split_part": """
        (s, d, n) AS CASE
            WHEN n < 1 THEN error('INVALID_FUNCTION_ARGUMENT: Index must be greater than zero')
            WHEN len(string_split(s, d)) < n THEN NULL
            ELSE split_part(s, d, n) END
    """,
    # Trino: NULL when the pattern does not match (DuckDB: '').
    "athena_regexp_extract": """
        (s, p, g) AS CASE WHEN regexp_matches(s, p) THEN regexp_extract(s, p, g) END
    """,
    # Trino's millisecond() is the millisecond of the second (DuckDB's counts the seconds too).
    "athena_millisecond": "(x) AS millisecond(x) % 1000",
}

# Trino casts a double to an integer type by rounding half away from zero (DuckDB: half to
# even), and refuses a string that is not an integer ('1.5'; DuckDB rounds it).
_INTEGER_TYPES = {
    "TINYINT": "tinyint",
    "SMALLINT": "smallint",
    "INT": "integer",
    "BIGINT": "bigint",
}
for _duck, _trino in _INTEGER_TYPES.items():
    _FUNCTIONS[f"athena_cast_{_trino}"] = f"""
        (x) AS CASE
            WHEN typeof(x) IN ('DOUBLE', 'FLOAT') THEN CAST(round(TRY_CAST(x AS DOUBLE)) AS {_duck})
            WHEN typeof(x) = 'VARCHAR'
                AND NOT regexp_matches(TRY_CAST(x AS VARCHAR), '^\\s*[+-]?[0-9]+\\s*$')
                THEN error('INVALID_CAST_ARGUMENT: Cannot cast ''' || x || ''' to {_trino}')
            ELSE CAST(x AS {_duck}) END
    """


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


# Functions (sqlglot's classes) the local engine runs as Trino does, each checked by the
# probe corpus; with the rewrites below where DuckDB's differ.
SUPPORTED_FUNCTIONS: frozenset[type[exp.Expr]] = frozenset(
    {
        # logic, conditionals, NULL handling
        exp.And, exp.Or, exp.Not, exp.Xor, exp.Case, exp.If, exp.Coalesce, exp.Nullif,
        exp.Try, exp.Cast, exp.TryCast, exp.Greatest, exp.Least, exp.IsNan,
        # aggregates and windows
        exp.Count, exp.CountIf, exp.Sum, exp.Avg, exp.Min, exp.Max, exp.ArgMax, exp.ArgMin,
        exp.AnyValue, exp.Stddev, exp.StddevSamp, exp.Variance, exp.LogicalAnd, exp.LogicalOr,
        exp.ArrayAgg, exp.GroupConcat, exp.RowNumber, exp.Rank, exp.DenseRank, exp.Ntile,
        exp.Lag, exp.Lead,
        # numbers
        exp.Abs, exp.Round, exp.Floor, exp.Ceil, exp.Sqrt, exp.Pow, exp.Mod, exp.Trunc, exp.Rand,
        # strings and regular expressions
        exp.Lower, exp.Upper, exp.Trim, exp.Concat, exp.ConcatWs, exp.Substring, exp.Length,
        exp.StrPosition, exp.Replace, exp.Reverse, exp.StartsWith, exp.SplitPart, exp.Split,
        exp.Pad, exp.Chr, exp.RegexpLike, exp.RegexpExtract, exp.RegexpExtractAll,
        exp.RegexpReplace, exp.RegexpCount, exp.JSONExtractScalar, exp.MD5Digest, exp.Hex,
        exp.Encode, exp.ArraySize, exp.ArrayToString, exp.Array, exp.Unnest,
        exp.GenerateSeries,
        # dates and times
        exp.FromISO8601Timestamp, exp.TimeToUnix, exp.UnixToTime, exp.TimeToStr,
        exp.StrToTime, exp.TimestampTrunc, exp.DateTrunc, exp.Extract, exp.LastDay, exp.Hour,
        exp.Minute, exp.Second, exp.Day, exp.DayOfMonth, exp.Month, exp.Year, exp.Quarter,
        exp.WeekOfYear, exp.DayOfWeekIso, exp.DayOfYear, exp.YearOfWeek,
    }
)  # fmt: skip
# Functions sqlglot does not know (exp.Anonymous), by name, that are rewritten here.
SUPPORTED_NAMED_FUNCTIONS = frozenset({"with_timezone", "millisecond", "codepoint"})

# Functions that read a timestamp in its zone: their timestamp argument.
_WALL_CLOCK_READERS: dict[type[exp.Expr], str] = {
    exp.Hour: "this", exp.Minute: "this", exp.Second: "this", exp.Day: "this",
    exp.DayOfMonth: "this", exp.Month: "this", exp.Year: "this", exp.Quarter: "this",
    exp.WeekOfYear: "this", exp.DayOfWeekIso: "this", exp.DayOfYear: "this",
    exp.YearOfWeek: "this", exp.TimeToStr: "this", exp.TimestampTrunc: "this",
    exp.DateTrunc: "this", exp.Extract: "expression", exp.LastDay: "this",
}  # fmt: skip
_INTERVAL_DATE_UNITS = {"DAY", "WEEK", "MONTH", "QUARTER", "YEAR"}
_ZONE_FREE_CAST_TARGETS = {exp.DataType.Type.TIMESTAMP, exp.DataType.Type.DATE}


def _function_name(node: exp.Expr) -> str:
    """The function's name as an Athena query spells it."""
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return node.sql(dialect="athena").split("(")[0].strip().lower() or type(node).__name__


def _check_supported(statement: exp.Expr) -> None:
    for node in statement.walk():
        if isinstance(node, exp.Anonymous):
            if node.name.lower() not in SUPPORTED_NAMED_FUNCTIONS:
                raise UnsupportedConstruct(f"function {node.name.lower()}()")
        elif isinstance(node, exp.Func) and type(node) not in SUPPORTED_FUNCTIONS:
            raise UnsupportedConstruct(f"function {_function_name(node)}()")
        elif isinstance(node, exp.Binary) and _is_decimal_arithmetic(node):
            raise UnsupportedConstruct(
                "decimal arithmetic (Trino's decimal precision and rounding rules)"
            )
        elif isinstance(node, exp.AtTimeZone):
            _check_at_time_zone(node)
        elif isinstance(node, exp.Cast | exp.TryCast):
            _check_cast(node)
        elif isinstance(node, exp.Round) and node.args.get("decimals") and _is_decimal(node.this):
            raise UnsupportedConstruct("round() of a decimal to given digits")
    for node in statement.find_all(exp.Extract):
        unit = node.this.name.upper()
        if unit not in {"YEAR", "QUARTER", "MONTH", "WEEK", "DAY", "DOW", "DOY", "HOUR",
                        "MINUTE", "SECOND", "DAY_OF_WEEK", "DAY_OF_YEAR"}:  # fmt: skip
            raise UnsupportedConstruct(f"extract({unit} FROM ...)")


def _is_decimal(node: exp.Expr) -> bool:
    """A decimal the query writes: a literal with a fraction (Trino reads 1.5 as a decimal,
    1e3 as a double) or a cast to decimal."""
    while isinstance(node, exp.Paren | exp.Neg):
        node = node.this
    if isinstance(node, exp.Literal) and node.is_number:
        text = node.name
        return "." in text and "e" not in text.lower()
    if isinstance(node, exp.Cast | exp.TryCast):
        return node.to.is_type(exp.DataType.Type.DECIMAL)
    return False


def _is_decimal_arithmetic(node: exp.Binary) -> bool:
    if not isinstance(node, exp.Add | exp.Sub | exp.Mul | exp.Div | exp.Mod):
        return False
    return _is_decimal(node.this) or _is_decimal(node.expression)


def _check_cast(node: exp.Cast | exp.TryCast) -> None:
    target = node.to
    if target.is_type(exp.DataType.Type.DECIMAL):
        raise UnsupportedConstruct("a cast to decimal (Trino's rounding and precision rules)")
    if isinstance(node, exp.TryCast) and target.this.name in _INTEGER_TYPES:
        raise UnsupportedConstruct("try_cast to an integer type")
    if target.is_type(*exp.DataType.TEXT_TYPES) and _is_float_source(node.this):
        raise UnsupportedConstruct("a cast of a double to varchar (Java's number format)")
    if target.is_type(exp.DataType.Type.TIMESTAMPTZ, exp.DataType.Type.TIME,
                      exp.DataType.Type.TIMETZ, exp.DataType.Type.INTERVAL):  # fmt: skip
        raise UnsupportedConstruct(f"a cast to {target.sql(dialect='athena')}")


def _is_float_source(node: exp.Expr) -> bool:
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Cast | exp.TryCast):
        return bool(node.to.is_type(exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT))
    if isinstance(node, exp.Literal) and node.is_number:
        return "e" in node.name.lower()
    return isinstance(node, exp.Avg | exp.Stddev | exp.Variance | exp.TimeToUnix | exp.Sqrt)


def _check_at_time_zone(node: exp.AtTimeZone) -> None:
    """Trino's `x AT TIME ZONE z` is a timestamp with time zone in z; here it becomes z's
    wall clock (a plain timestamp), which is exact only where the wall clock is what is
    read: by CAST(... AS timestamp | date) and by the functions that read a timestamp in its
    zone (hour(), date_format(), ...)."""
    parent = node.parent
    while isinstance(parent, exp.Paren):
        parent = parent.parent
    if isinstance(parent, exp.Cast) and parent.to.this in _ZONE_FREE_CAST_TARGETS:
        return
    if type(parent) in _WALL_CLOCK_READERS:
        return
    user = type(parent).__name__ if parent is not None else "a result column"
    raise UnsupportedConstruct(
        f"AT TIME ZONE whose timestamp with time zone is used by {user} (only its wall clock, "
        "through CAST(... AS timestamp) or hour(), date_format()..., is exact locally)"
    )


def _call(name: str, *arguments: exp.Expr) -> exp.Expr:
    return exp.Anonymous(this=name, expressions=list(arguments))


def _literal_string(node: exp.Expr | None) -> str | None:
    return node.name if isinstance(node, exp.Literal) and node.is_string else None


def _wall_clock(node: exp.Expr, construct: str) -> exp.Expr:
    return _call("athena_wall_clock", node, exp.Literal.string(construct))


def _rewrite_cast(node: exp.Cast) -> exp.Expr:
    target = node.to
    if target.this.name in _INTEGER_TYPES:
        return _call(f"athena_cast_{_INTEGER_TYPES[target.this.name]}", node.this)
    literal = isinstance(node.this, exp.Literal)
    if not literal and target.is_type(
        exp.DataType.Type.TIMESTAMP, exp.DataType.Type.DATE, *exp.DataType.TEXT_TYPES
    ):
        node.set("this", _wall_clock(node.this, f"CAST(... AS {target.sql(dialect='athena')})"))
    return node


def _rewrite_at_time_zone(node: exp.AtTimeZone) -> exp.Expr:
    # A timestamp is read in the session zone, UTC on Athena (DuckDB would read it in z);
    # DuckDB's TIMESTAMPTZ AT TIME ZONE z is z's wall clock.
    instant = exp.Cast(this=node.this, to=exp.DataType.build("TIMESTAMPTZ"))
    return exp.AtTimeZone(this=instant, zone=node.args["zone"])


def _rewrite_interval_arithmetic(node: exp.Add | exp.Sub) -> exp.Expr:
    interval = node.expression if isinstance(node.expression, exp.Interval) else node.this
    other = node.this if interval is node.expression else node.expression
    unit = interval.text("unit").upper() if isinstance(interval, exp.Interval) else ""
    visible_date = isinstance(other, exp.Cast) and other.to.is_type(exp.DataType.Type.DATE)
    if visible_date and unit in _INTERVAL_DATE_UNITS:
        return exp.Cast(this=node.copy(), to=exp.DataType.build("DATE"))
    if not visible_date:
        side = "this" if other is node.this else "expression"
        node.set(side, _call("athena_not_date", other))
    return node


def _rewrite_regexp_replace(node: exp.RegexpReplace) -> exp.Expr:
    replacement = node.args.get("replacement")
    if replacement is None:
        return node
    text = _literal_string(replacement)
    if text is None:
        raise UnsupportedConstruct("regexp_replace() with a replacement that is not a literal")
    # Java's replacement syntax ($1, \$ for a dollar) -> RE2's (\1, $ as itself).
    converted = re.sub(
        r"\\(.)|\$(\d)|(\\)",
        lambda m: m.group(1) or ("\\" + m.group(2) if m.group(2) else "\\\\"),
        text,
    )
    node.set("replacement", exp.Literal.string(converted))
    return node


def _rewrite(node: exp.Expr) -> exp.Expr:
    """The node with Athena's meaning in DuckDB (its children are rewritten already)."""
    if isinstance(node, exp.CTE) and node.args.get("materialized") is None:
        # Trino evaluates a WITH query where it is referenced, once per reference ("WITH
        # clause", Trino's SELECT docs); DuckDB materializes one referenced twice, every
        # column, in memory: an audit reading its staged rows twice held them all (3.8 GB
        # for a production day of traffic events) and took several times as long.
        node.set("materialized", False)
        return node
    rule = _RULES.get(type(node))
    if rule is not None:
        return rule(node)
    if isinstance(node, exp.Anonymous):
        name = node.name.lower()
        if name == "with_timezone":
            # Trino: the wall clock read in the zone -> that instant (DuckDB's timezone()).
            stamp, zone = node.expressions
            return exp.Anonymous(
                this="timezone",
                expressions=[zone, exp.Cast(this=stamp, to=exp.DataType.build("TIMESTAMP"))],
            )
        if name == "millisecond":
            return _call("athena_millisecond", _wall_clock(node.expressions[0], "millisecond()"))
        if name == "codepoint":
            return _call("unicode", *node.expressions)
    wall_clock_argument = _WALL_CLOCK_READERS.get(type(node))
    if wall_clock_argument is not None and node.args.get(wall_clock_argument) is not None:
        argument = node.args[wall_clock_argument]
        node.set(wall_clock_argument, _wall_clock(argument, f"{_function_name(node)}()"))
    return node


def _rewrite_extract(node: exp.Extract) -> exp.Expr:
    unit = node.this.name.upper()
    if unit in ("DOW", "DAY_OF_WEEK"):  # Trino: Monday 1 .. Sunday 7 (DuckDB's dow: Sunday 0)
        node.set("this", exp.var("ISODOW"))
    elif unit in ("DOY", "DAY_OF_YEAR"):
        node.set("this", exp.var("DOY"))
    elif unit == "WEEK":
        node.set("this", exp.var("WEEK"))
    argument = node.expression
    node.set("expression", _wall_clock(argument, f"extract({unit} FROM ...)"))
    return node


def _rewrite_trim(node: exp.Trim) -> exp.Expr:
    if node.expression is not None:
        return node  # trim(characters FROM s): the characters are given
    position = (node.text("position") or "BOTH").upper()
    name = {"LEADING": "athena_ltrim", "TRAILING": "athena_rtrim"}.get(position, "athena_trim")
    return _call(name, node.this)


def _rewrite_substring(node: exp.Substring) -> exp.Expr:
    start = node.args.get("start")
    length = node.args.get("length")
    if start is None:
        return node
    if length is None:
        return _call("athena_substr2", node.this, start)
    return _call("athena_substr3", node.this, start, length)


def _concatenation(parts: list[exp.Expr]) -> exp.Expr:
    if any(isinstance(p, exp.Null) for p in parts):
        raise UnsupportedConstruct("a NULL literal in concat() or || (Trino types it apart)")
    joined: exp.Expr = _call("athena_concat_operand", parts[0])
    for part in parts[1:]:
        joined = exp.DPipe(this=joined, expression=_call("athena_concat_operand", part))
    return exp.Cast(this=joined, to=exp.DataType.build("VARCHAR"))


def _rewrite_regexp_extract(node: exp.RegexpExtract) -> exp.Expr:
    group = node.args.get("group") or exp.Literal.number(0)
    return _call("athena_regexp_extract", node.this, node.expression, group)


def _rewrite_negation(node: exp.Neg) -> exp.Expr:
    """Trino types the literal -2147483648 as an integer (the sign is part of the literal);
    DuckDB negates 2147483648, a bigint. Every other negated literal has the same type on
    both."""
    literal = node.this
    if isinstance(literal, exp.Literal) and literal.is_int and int(literal.name) == 2**31:
        return exp.Cast(this=exp.Literal.number(-(2**31)), to=exp.DataType.build("INTEGER"))
    return node


_RULES: dict[type[exp.Expr], Callable[[Any], exp.Expr]] = {
    exp.Neg: _rewrite_negation,
    exp.FromISO8601Timestamp: lambda n: _call("athena_from_iso8601_timestamp", n.this),
    exp.Div: lambda n: _call("athena_divide", n.this, n.expression),
    exp.Mod: lambda n: _call("athena_modulus", n.this, n.expression),
    exp.Sub: lambda n: (
        _rewrite_interval_arithmetic(n)
        if isinstance(n.expression, exp.Interval) or isinstance(n.this, exp.Interval)
        else _call("athena_subtract", n.this, n.expression)
    ),
    exp.Add: lambda n: (
        _rewrite_interval_arithmetic(n)
        if isinstance(n.expression, exp.Interval) or isinstance(n.this, exp.Interval)
        else n
    ),
    exp.Cast: _rewrite_cast,
    exp.AtTimeZone: _rewrite_at_time_zone,
    exp.Trim: _rewrite_trim,
    exp.Concat: lambda n: _concatenation(n.expressions),
    exp.DPipe: lambda n: _concatenation([n.this, n.expression]),
    exp.Avg: lambda n: exp.Avg(
        this=_call("athena_not_decimal", n.this, exp.Literal.string("avg()"))
    ),
    exp.Upper: lambda n: _call("athena_upper", n.this),
    exp.Lower: lambda n: _call("athena_lower", n.this),
    exp.Substring: _rewrite_substring,
    exp.SplitPart: lambda n: _call(
        "athena_split_part", n.this, n.args["delimiter"], n.args["part_index"]
    ),
    exp.RegexpExtract: _rewrite_regexp_extract,
    exp.RegexpReplace: _rewrite_regexp_replace,
    exp.Extract: _rewrite_extract,
}


def _rewrite_tree(node: exp.Expr) -> exp.Expr:
    """Rewrite children first, then the node (so a rewrite sees rewritten arguments)."""
    for child in list(node.iter_expressions()):
        _rewrite_tree(child)
    replacement = _rewrite(node)
    if replacement is not node:
        if node.parent is not None:
            node.replace(replacement)
        return replacement
    return node


def to_duckdb(statement: exp.Expr) -> str:
    """DuckDB SQL for a parsed (and possibly rewritten) Athena statement.

    Raises UnsupportedConstruct for what the local engine cannot run exactly as Athena does.
    Generate straight from the tree: printing it back as Athena SQL first does not
    round-trip (e.g. `x AT TIME ZONE 'UTC'` prints as AT_TIMEZONE(...), which sqlglot
    then no longer reads as a time zone conversion).
    """
    _check_supported(statement)
    return _rewrite_tree(statement.copy()).sql(dialect="duckdb")


def athena_to_duckdb(sql: str) -> str:
    """Transpile one Athena statement to DuckDB."""
    return to_duckdb(parse_athena(sql))


def athena_to_plain_duckdb(sql: str) -> str:
    """athena_to_duckdb with the helpers it calls written out in place: SQL that a DuckDB
    without this module's macros runs (Athena's DuckDB engine, which creates no macros:
    "Considerations and limitations", Amazon Athena, powered by DuckDB).

    A helper that keeps Trino's meaning (Java's whitespace for trim, substr from 0, integer
    casts and division) is written out whole: the model means what its author wrote. A guard
    that only refuses what the local engine cannot answer as Trino would (a wall clock of a
    timestamp with time zone, special casing) becomes its value: on the DuckDB engine there
    is no Trino answer to match, and the DuckDB answer is the one Athena gives."""
    macros = _macro_definitions()
    statement = parse_athena(sql)
    _check_supported(statement)
    tree = _rewrite_tree(statement.copy())
    for _ in range(_MAX_MACRO_NESTING):
        called = [node for node in tree.find_all(exp.Anonymous) if node.name.lower() in macros]
        if not called:
            return tree.sql(dialect="duckdb")
        tree = tree.transform(lambda node: _expanded(node, macros))
    raise UnsupportedConstruct("helpers nested deeper than the translation writes them out")


_MAX_MACRO_NESTING = 8
_MACRO = re.compile(r"^\s*\(([^)]*)\)\s+AS\s+(.*)$", re.DOTALL | re.IGNORECASE)


@cache
def _macro_definitions() -> dict[str, tuple[tuple[str, ...], exp.Expr]]:
    definitions = {}
    for name, text in _FUNCTIONS.items():
        match = _MACRO.match(text)
        if match is None:
            raise ValueError(f"macro {name} is not '(params) AS expression'")
        params = tuple(p.strip() for p in match.group(1).split(",") if p.strip())
        body = sqlglot.parse_one(match.group(2), read="duckdb")
        definitions[name.lower()] = (params, _unguarded(body))
    return definitions


def _unguarded(body: exp.Expr) -> exp.Expr:
    """A `CASE WHEN ... THEN <refusal> ELSE x END` guard's x; any other body as it is."""
    if not isinstance(body, exp.Case) or body.args.get("default") is None:
        return body
    refusing = [
        any(
            "NOT_SUPPORTED" in literal.name for literal in branch.args["true"].find_all(exp.Literal)
        )
        for branch in body.args.get("ifs") or []
    ]
    return body.args["default"] if refusing and all(refusing) else body


def _expanded(node: exp.Expr, macros: dict[str, tuple[tuple[str, ...], exp.Expr]]) -> exp.Expr:
    if not isinstance(node, exp.Anonymous) or node.name.lower() not in macros:
        return node
    params, body = macros[node.name.lower()]
    arguments = dict(zip(params, node.expressions, strict=True))

    def substitute(part: exp.Expr) -> exp.Expr:
        if isinstance(part, exp.Column) and not part.table and part.name in arguments:
            return arguments[part.name].copy()
        return part

    return exp.Paren(this=body.copy().transform(substitute))
