"""Model unit tests: fixture rows in, expected rows out, beside the model.

`sql/<tier>/<model>.test.yaml` holds a model's tests (README, "Adding a model"):

    tests:
      - name: summarizes_each_sensor_hour        # unique in the file
        description: optional prose
        date: 2026-11-20          # the run's window: `date`, or `start_date` and `end_date`
        today: 2026-11-21         # optional: the day the run started (UTC), the last arrival
                                  # day it reads; default: the day after the window (a daily run)
        lookback_days: 7          # optional: late_data_lookback_days (default: variables.tf's)
        time_zone: Europe/Brussels   # optional: pipeline_time_zone (default: variables.tf's)
        given:                    # the tables the model reads (its `sources`), as rows
          dwd.traffic_events: |   # CSV with a header: an empty cell is NULL
            sensor_id,event_time,current_speed,year,month,day,hour
            A,2026-11-20 07:00:00,30,2026,11,20,08
          ods.traffic:            # or a list of rows; a column left out is NULL
            - {sensor_id: A, current_speed: 30, year: "2026", month: "11", day: "20", hour: "07"}
        expect: |                 # the rows out, in any order, as CSV or a list of rows;
          sensor_id,events        # only the columns named are compared
          A,4

Values are text, converted to their column's type: a given value to the input table's column
(ODS tables: the declaration in sql/sources.yaml; models: their output), an expected one to
the model's output column; so `07` stays `07` and `NO` stays `NO`. Doubles compare equal
within a relative 1e-9. A table the model reads but the test does not give is empty.

The model runs as the write step runs it: its SQL rendered with the placeholder values of
each chunk of the window (etl_lambdas.planning.template_values, the tier databases named after
their tier), on the local engine (DuckDB through etl_local.sql_dialect, the local Athena's
translation). The format says nothing about the engine: a test is a window, tables of text
rows and expected text rows, so another engine can run the same fixtures.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from etl_lambdas.catalog import SOURCE_TIERS, Catalog, CatalogError, Model, render_template
from etl_lambdas.planning import Chunk, DateRange, chunks, template_values
from etl_local import located_yaml
from etl_local.athena.hive import hive_to_duckdb
from etl_local.event_time import event_instant
from etl_local.sql_dialect import athena_to_duckdb, install_functions

TEST_SUFFIX = ".test.yaml"
# The tier databases of a test: `${dwd_database}` renders as `dwd`.
DATABASES = {f"{tier}_database": tier for tier in SOURCE_TIERS}
REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
_TEST_FIELDS = {
    "name", "description", "date", "start_date", "end_date", "today", "lookback_days",
    "time_zone", "given", "expect",
}  # fmt: skip
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_ .-]*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FLOAT_TOLERANCE = 1e-9


class ModelTestError(ValueError):
    """A test file is wrong (not the model): names the file and line."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{display_path(path)}:{line}: {message}")
        self.path = path
        self.line = line
        self.message = message


def display_path(path: Path) -> str:
    """A path as the user knows it: relative to the current folder when under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class Rows:
    """A table of text values (None: NULL), with the line of each row in the test file."""

    columns: tuple[str, ...]
    values: tuple[tuple[str | None, ...], ...]
    lines: tuple[int, ...]


@dataclass(frozen=True)
class ModelTest:
    path: Path
    line: int
    name: str
    model: Model
    description: str
    window: DateRange
    today: date
    lookback_days: int
    time_zone: str
    given: Mapping[str, Rows]
    expect: Rows

    @property
    def id(self) -> str:
        return f"{self.model.tier}.{self.model.name}::{self.name}"

    def placeholder_values(self, chunk: Chunk) -> dict[str, str]:
        """The `${...}` values of one chunk, as the write step fills them."""
        return template_values(
            chunk,
            arrival_end_limit=self.today,
            lookback_days=self.lookback_days,
            time_zone=self.time_zone,
            databases=DATABASES,
        )


# -- reading the test files --------------------------------------------------------------------


def test_files(catalog: Catalog, models: Iterable[str] | None = None) -> list[tuple[Model, Path]]:
    wanted = None if models is None else set(models)
    found = []
    for model in catalog.in_tier_order():
        path = catalog.root / model.tier / f"{model.name}{TEST_SUFFIX}"
        if path.is_file() and (wanted is None or model.name in wanted):
            found.append((model, path))
    return found


def orphan_test_files(catalog: Catalog) -> list[Path]:
    """Test files beside no declared model (a renamed model's old tests)."""
    expected = {catalog.root / m.tier / f"{m.name}{TEST_SUFFIX}" for m in catalog.models}
    return sorted(p for p in catalog.root.glob(f"*/*{TEST_SUFFIX}") if p not in expected)


def load_tests(
    catalog: Catalog, models: Iterable[str] | None = None
) -> tuple[list[ModelTest], list[ModelTestError]]:
    """Every test of the (selected) models, and one error per test that cannot be read."""
    tests: list[ModelTest] = []
    errors: list[ModelTestError] = []
    for model, path in test_files(catalog, models):
        try:
            document = located_yaml.load(path, typed=False)
        except located_yaml.YamlError as error:
            errors.append(ModelTestError(path, error.line, f"not YAML: {error}"))
            continue
        entries = document.get("tests") if isinstance(document, dict) else None
        if not isinstance(entries, located_yaml.LocatedList) or not entries:
            line = getattr(document, "line", 1)
            errors.append(ModelTestError(path, line, "expected a 'tests:' list of tests"))
            continue
        names: set[str] = set()
        for index, entry in enumerate(entries):
            line = entries.mark_of(index)[0]
            try:
                test = _parse_test(entry, line, model, path, catalog)
            except ModelTestError as error:
                errors.append(error)
                continue
            if test.name in names:
                errors.append(ModelTestError(path, line, f"test {test.name!r} is named twice"))
                continue
            names.add(test.name)
            tests.append(test)
    return tests, errors


def _parse_test(entry: Any, line: int, model: Model, path: Path, catalog: Catalog) -> ModelTest:
    def fail(message: str, key: str | None = None) -> ModelTestError:
        located = isinstance(entry, located_yaml.LocatedDict)
        at = entry.mark_of(key)[0] if key and located else line
        return ModelTestError(path, at, message)

    if not isinstance(entry, located_yaml.LocatedDict):
        raise fail("a test is a mapping with name, date, given and expect")
    unknown = sorted(set(entry) - _TEST_FIELDS)
    if unknown:
        raise fail(f"unknown field(s) {unknown}; a test has {sorted(_TEST_FIELDS)}", unknown[0])
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise fail(f"name {name!r} must be a short text such as 'dst_autumn_day'", "name")
    window = _window(entry, fail)
    today = (
        _date(entry["today"], "today", fail)
        if entry.get("today") is not None
        else window.end + timedelta(days=1)
    )
    lookback = entry.get("lookback_days")
    if lookback is None:
        lookback_days = int(variable_default("late_data_lookback_days"))
    elif not str(lookback).isdigit():
        raise fail(f"lookback_days {lookback!r} must be a whole number", "lookback_days")
    else:
        lookback_days = int(lookback)
    given = entry.get("given") or located_yaml.LocatedDict()
    if not isinstance(given, located_yaml.LocatedDict):
        raise fail("given must map each table the model reads to its rows", "given")
    tables: dict[str, Rows] = {}
    for table, rows in given.items():
        if table not in model.sources:
            raise ModelTestError(
                path,
                given.key_marks[table][0],
                f"given table {table!r} is not one the model reads ({', '.join(model.sources)})",
            )
        tables[table] = _rows(rows, given.mark_of(table)[0], f"given {table}", fail)
    if "expect" not in entry:
        raise fail("no 'expect': the rows the model must output (an empty list for none)")
    return ModelTest(
        path=path,
        line=line,
        name=name,
        model=model,
        description=str(entry.get("description") or ""),
        window=window,
        today=today,
        lookback_days=lookback_days,
        time_zone=str(entry.get("time_zone") or variable_default("pipeline_time_zone")),
        given=tables,
        expect=_rows(entry["expect"], entry.mark_of("expect")[0], "expect", fail),
    )


def _date(value: object, label: str, fail: Any) -> date:
    text = str(value)
    try:
        if not _DATE.match(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise fail(f"{label} {value!r} is not a date (YYYY-MM-DD)", label) from None


def _window(entry: Mapping[str, Any], fail: Any) -> DateRange:
    if entry.get("date") is not None:
        if "start_date" in entry or "end_date" in entry:
            raise fail("give either date or start_date and end_date", "date")
        day = _date(entry["date"], "date", fail)
        return DateRange(day, day)
    if entry.get("start_date") is None or entry.get("end_date") is None:
        raise fail("no window: give date, or start_date and end_date")
    window = DateRange(
        _date(entry["start_date"], "start_date", fail), _date(entry["end_date"], "end_date", fail)
    )
    if window.end < window.start:
        raise fail(f"end_date {window.end} is before start_date {window.start}", "end_date")
    return window


def _rows(value: object, line: int, label: str, fail: Any) -> Rows:
    """Rows from CSV text (header first) or from a list of mappings."""
    if isinstance(value, str):
        return _csv_rows(value, line, label, fail)
    if not isinstance(value, list):
        raise ModelTestError(fail("").path, line, f"{label}: rows are CSV text or a list")
    columns: list[str] = []
    for row in value:
        if not isinstance(row, dict):
            raise ModelTestError(fail("").path, line, f"{label}: each row is a mapping")
        columns.extend(c for c in row if c not in columns)
    marks = value.item_marks if isinstance(value, located_yaml.LocatedList) else []
    lines = tuple(marks[i][0] if i < len(marks) else line for i in range(len(value)))
    values = tuple(tuple(_text(row.get(c)) for c in columns) for row in value)
    return Rows(tuple(str(c) for c in columns), values, lines)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _csv_rows(text: str, line: int, label: str, fail: Any) -> Rows:
    # A block scalar's text starts on the line after its key; a line starting with '#' is a
    # comment, a blank line is nothing.
    numbered = [
        (line + 1 + n, record)
        for n, text_line in enumerate(text.splitlines())
        if text_line.strip() and not text_line.lstrip().startswith("#")
        for record in csv.reader([text_line])
    ]
    if not numbered:
        raise ModelTestError(fail("").path, line, f"{label}: CSV without a header line")
    header = tuple(c.strip() for c in numbered[0][1])
    values, lines = [], []
    for at, record in numbered[1:]:
        if len(record) != len(header):
            raise ModelTestError(
                fail("").path, at, f"{label}: {len(record)} values for {len(header)} columns"
            )
        values.append(tuple(c if c != "" else None for c in record))
        lines.append(at)
    return Rows(header, tuple(values), tuple(lines))


@cache
def variable_default(name: str) -> str:
    """A root variable's default, from variables.tf (what a deployment gets unless it says
    otherwise): the values a test of the models runs with unless it says otherwise."""
    text = (REPOSITORY_ROOT / "variables.tf").read_text(encoding="utf-8")
    block = re.search(
        rf'^variable\s+"{re.escape(name)}"\s*\{{(.*?)^\}}', text, re.MULTILINE | re.DOTALL
    )
    found = block and re.search(r'^\s*default\s*=\s*"?([^"\n]*)"?\s*$', block[1], re.MULTILINE)
    if not found:
        raise CatalogError(f"variables.tf declares no default for {name!r}")
    return found[1].strip()


# -- running them on the local engine ----------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """A test's result: passed, failed (the rows differ) or an error (it could not run)."""

    test: ModelTest
    status: str  # "pass" | "fail" | "error"
    message: str = ""
    diff: tuple[str, ...] = ()

    @property
    def where(self) -> str:
        return f"{display_path(self.test.path)}:{self.test.line}"

    def report(self) -> str:
        """One line, then the differing rows as a table when the rows differ."""
        head = f"{self.status.upper()} {self.test.id} ({self.where})"
        if self.status == "pass":
            return head
        return "\n".join([f"{head}: {self.message}", *self.diff])


class LocalEngine:
    """DuckDB with the tier databases as schemas, running Athena SQL through the local
    Athena's translation (etl_local.sql_dialect), as the SQL tests always have."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._schemas: dict[str, list[tuple[str, str]]] | None = None
        self._schema_errors: dict[str, str] = {}

    @staticmethod
    def connect() -> duckdb.DuckDBPyConnection:
        connection = duckdb.connect()
        # Athena sessions run in UTC; a model must not depend on the session's zone anyway.
        connection.execute("SET TimeZone = 'UTC'")
        install_functions(connection)
        for tier in SOURCE_TIERS:
            connection.execute(f"CREATE SCHEMA IF NOT EXISTS {tier}")
        return connection

    def table_columns(self, table: str) -> list[tuple[str, str]]:
        """(name, DuckDB type) of `<tier>.<table>`: a declared source's ODS table, or a
        model's output (its SQL on empty inputs)."""
        if self._schemas is None:
            self._schemas = self._infer_schemas()
        if table in self._schema_errors:
            raise ModelRunError(self._schema_errors[table])
        return self._schemas[table]

    def _infer_schemas(self) -> dict[str, list[tuple[str, str]]]:
        schemas: dict[str, list[tuple[str, str]]] = {}
        connection = self.connect()
        for source in self.catalog.sources:
            columns = [(c.name, hive_to_duckdb(c.type)) for c in source.ods_columns]
            columns += [(key, "VARCHAR") for key in source.partition_keys]
            schemas[f"ods.{source.table}"] = columns
            _create(connection, f"ods.{source.table}", columns)
        day = date(2026, 1, 1)
        values = (
            template_values(
                Chunk(0, day, day),
                arrival_end_limit=day + timedelta(days=1),
                lookback_days=0,
                time_zone="UTC",
                databases=DATABASES,
            )
            | self.catalog.sources.time_zone_placeholders()
        )
        for model in self.catalog.in_tier_order():
            table = f"{model.tier}.{model.name}"
            try:
                sql = athena_to_duckdb(render_template(self.catalog.sql(model), values))
                connection.execute(f"CREATE TABLE {table} AS SELECT * FROM ({sql}) LIMIT 0")
                described = connection.execute(f"DESCRIBE {table}").fetchall()
                schemas[table] = [(str(row[0]), str(row[1])) for row in described]
            except Exception as error:  # the model's own test reports it in full
                self._schema_errors[table] = f"{table} does not run on empty tables: {_one(error)}"
        connection.close()
        return schemas

    def _with_event_instant(self, table: str, rows: Rows) -> Rows:
        """A source's rows with its typed event time as the Glue job writes it, from the raw
        event time, unless the test gives it."""
        tier, _, name = table.partition(".")
        if tier != "ods" or name not in self.catalog.sources.names():
            return rows
        event_time = self.catalog.sources.get(name).event_time
        if event_time.instant_column in rows.columns or event_time.column not in rows.columns:
            return rows
        raw = rows.columns.index(event_time.column)
        instants = [event_instant(values[raw], event_time) for values in rows.values]
        return Rows(
            (*rows.columns, event_time.instant_column),
            tuple(
                (*values, None if moment is None else moment.isoformat(sep=" "))
                for values, moment in zip(rows.values, instants, strict=True)
            ),
            rows.lines,
        )

    def run(self, test: ModelTest) -> Outcome:
        try:
            columns, types, rows = self._output(test)
        except ModelRunError as error:
            return Outcome(test, "error", str(error))
        return compare(test, columns, types, rows)

    def _output(self, test: ModelTest) -> tuple[list[str], list[str], list[tuple[Any, ...]]]:
        connection = self.connect()
        try:
            for table in test.model.sources:
                columns = self.table_columns(table)
                _create(connection, table, columns)
                if table in test.given:
                    given = self._with_event_instant(table, test.given[table])
                    _insert(connection, table, columns, given, test)
            template = self.catalog.sql(test.model)
            columns_out: list[str] = []
            types: list[str] = []
            rows: list[tuple[Any, ...]] = []
            for chunk in chunks([test.window], test.model.granularity):
                try:
                    sql = athena_to_duckdb(
                        render_template(
                            template,
                            test.placeholder_values(chunk)
                            | self.catalog.sources.time_zone_placeholders(),
                        )
                    )
                    result = connection.execute(sql)
                except Exception as error:
                    raise ModelRunError(f"the model's SQL fails: {_one(error)}") from None
                columns_out = [d[0] for d in result.description or []]
                types = [str(d[1]) for d in result.description or []]
                rows.extend(result.fetchall())
            return columns_out, types, rows
        finally:
            connection.close()


class ModelRunError(Exception):
    """The model could not run on the test's fixtures (the message says why, in one line)."""


def _one(error: BaseException) -> str:
    return " ".join(str(error).split())


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _create(
    connection: duckdb.DuckDBPyConnection, table: str, columns: Sequence[tuple[str, str]]
) -> None:
    body = ", ".join(f"{_quote(name)} {kind}" for name, kind in columns)
    connection.execute(f"CREATE OR REPLACE TABLE {table} ({body})")


def _insert(
    connection: duckdb.DuckDBPyConnection,
    table: str,
    columns: Sequence[tuple[str, str]],
    rows: Rows,
    test: ModelTest,
) -> None:
    types = dict(columns)
    unknown = [c for c in rows.columns if c not in types]
    if unknown:
        raise ModelRunError(
            f"given {table} has no column {unknown[0]!r} "
            f"(line {rows.lines[0] if rows.lines else test.line}); "
            f"its columns: {', '.join(types)}"
        )
    if not rows.values:
        return
    names = ", ".join(_quote(c) for c in rows.columns)
    casts = ", ".join(f"CAST(? AS {types[c]})" for c in rows.columns)
    statement = f"INSERT INTO {table} ({names}) VALUES ({casts})"
    for values, line in zip(rows.values, rows.lines, strict=True):
        try:
            connection.execute(statement, list(values))
        except duckdb.Error as error:
            raise ModelRunError(
                f"given {table}, row at line {line}: {_one(error).split(' LINE ')[0]}"
            ) from None


# -- comparing ---------------------------------------------------------------------------------


def typed_value(text: str | None, type_name: str) -> Any:
    """An expected value (text) as the output column's type gives it; ValueError if it is
    not one. Engine-neutral type families: integers, floating point, decimals, booleans,
    dates and timestamps; anything else compares as text."""
    if text is None:
        return None
    kind = type_name.upper()
    if kind in {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
                "USMALLINT", "UINTEGER", "UBIGINT", "INT"}:  # fmt: skip
        return int(text)
    if kind in {"DOUBLE", "FLOAT", "REAL"}:
        return float(text)
    if kind.startswith("DECIMAL"):
        try:
            return Decimal(text)
        except InvalidOperation:
            raise ValueError(text) from None
    if kind == "BOOLEAN":
        lowered = text.lower()
        if lowered not in ("true", "false"):
            raise ValueError(text)
        return lowered == "true"
    if kind == "DATE":
        return date.fromisoformat(text)
    if kind.startswith("TIMESTAMP"):
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if "TIME ZONE" in kind and moment.tzinfo is None:
            raise ValueError(f"{text} has no UTC offset")
        return moment
    return text


def _equal(expected: Any, actual: Any) -> bool:
    if isinstance(expected, float) and isinstance(actual, int | float | Decimal):
        return math.isclose(expected, float(actual), rel_tol=FLOAT_TOLERANCE, abs_tol=1e-12)
    if (
        isinstance(expected, datetime)
        and isinstance(actual, datetime)
        and (expected.tzinfo is None) != (actual.tzinfo is None)
    ):
        return False
    if isinstance(actual, str) or expected is None or actual is None:
        return expected == actual
    if isinstance(expected, str):
        return expected == str(actual)
    return bool(expected == actual)


def compare(
    test: ModelTest, columns: Sequence[str], types: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> Outcome:
    expect = test.expect
    missing = [c for c in expect.columns if c not in columns]
    if missing:
        return Outcome(
            test,
            "error",
            f"expect names column {missing[0]!r}, which the model does not output "
            f"(it outputs {', '.join(columns)})",
        )
    index = [list(columns).index(c) for c in expect.columns]
    kinds = [types[i] for i in index]
    expected_rows: list[tuple[Any, ...]] = []
    for values, line in zip(expect.values, expect.lines, strict=True):
        typed = []
        for text, column, kind in zip(values, expect.columns, kinds, strict=True):
            try:
                typed.append(typed_value(text, kind))
            except ValueError:
                return Outcome(
                    test, "error", f"expect, line {line}: {column} {text!r} is not a {kind}"
                )
        expected_rows.append(tuple(typed))
    actual_rows = [tuple(row[i] for i in index) for row in rows]
    unmatched = list(actual_rows)
    missing_rows = []
    for row in expected_rows:
        match = next((n for n, got in enumerate(unmatched) if all(map(_equal, row, got))), None)
        if match is None:
            missing_rows.append(row)
        else:
            unmatched.pop(match)
    if not missing_rows and not unmatched:
        return Outcome(test, "pass")
    equal = len(expected_rows) - len(missing_rows)
    message = (
        f"{len(missing_rows)} expected row(s) missing (-), {len(unmatched)} unexpected row(s) "
        f"output (+), {equal} as expected"
    )
    table = render_diff(expect.columns, missing_rows, unmatched)
    return Outcome(test, "fail", message, tuple(table))


def render_value(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, float):
        return repr(value)
    return str(value)


def render_diff(
    columns: Sequence[str],
    expected_only: Sequence[tuple[Any, ...]],
    actual_only: Sequence[tuple[Any, ...]],
) -> list[str]:
    """The differing rows as one table: `-` expected but not output, `+` output but not
    expected, sorted so that a row and its near-miss stand together."""
    marked = [("-", row) for row in expected_only] + [("+", row) for row in actual_only]
    marked.sort(key=lambda item: ([render_value(v) for v in item[1]], item[0]))
    cells = [[render_value(v) for v in row] for _, row in marked]
    widths = [max([len(c)] + [len(r[n]) for r in cells]) for n, c in enumerate(columns)]
    lines = ["    " + "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    for (sign, _), row in zip(marked, cells, strict=True):
        lines.append(f"  {sign} " + "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
    return [line.rstrip() for line in lines]


def run_tests(
    catalog: Catalog, models: Iterable[str] | None = None
) -> Iterator[Outcome | ModelTestError]:
    """Every test of the (selected) models, run; a test file's mistakes as errors."""
    tests, errors = load_tests(catalog, models)
    yield from errors
    engine = LocalEngine(catalog)
    for test in tests:
        yield engine.run(test)


__all__ = [
    "TEST_SUFFIX",
    "LocalEngine",
    "ModelTest",
    "ModelTestError",
    "Outcome",
    "Rows",
    "load_tests",
    "run_tests",
    "typed_value",
]
