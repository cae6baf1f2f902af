"""`etl check`: the declarations and every model's SQL validated offline, in seconds, each
problem one line naming the user's file, line and column.

What is checked (README, "Adding a model"):
- `sql/sources.yaml`: YAML, then the declaration's rules (etl_lambdas.sources), one problem per
  source entry, at the value at fault;
- `sql/models.toml`: TOML, then each `[[models]]` entry and what the entries say of each other
  (etl_lambdas.catalog), at the key at fault;
- each model's SQL: its placeholders are known; it parses, in the deployment's dialect (Athena:
  Trino SQL), as one SELECT; the tables it reads are declared (a source's ODS table or a model
  of an earlier tier) and are its declared `sources`, read through a partition filter; every
  column it names resolves against what it reads (the sources' declared columns, the upstream
  models' output columns, its own CTEs); an implicit column alias on a line of its own (a
  missing comma) is suspect; its output has the declared keys, checked columns and the
  partition columns last; it runs on empty tables on the local engine (DuckDB through the
  local Athena's translation), partition columns as strings, no timestamp with time zone.
- the model tests beside the models read (etl_local.model_tests).

Positions in a model's SQL are those of the file as written: the placeholders are filled for
parsing and every position is mapped back through them.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError, TokenError
from sqlglot.optimizer.qualify import qualify

from etl_lambdas.catalog import (
    GRANULARITY_PARTITIONS,
    SOURCE_TIERS,
    Catalog,
    CatalogError,
    Model,
    catalog_problems,
    parse_model,
)
from etl_lambdas.planning import Chunk, template_values
from etl_lambdas.sources import SOURCES_FILE, SourceError, Sources, parse_sources
from etl_local import located_yaml
from etl_local.athena.hive import hive_to_duckdb
from etl_local.model_tests import DATABASES, display_path, load_tests
from etl_local.sql_dialect import athena_to_duckdb, install_functions

MODELS_FILE = "models.toml"
# The deployment's SQL dialect: Athena engine version 3 is Trino (sqlglot's "athena").
DIALECT = "athena"
_PLACEHOLDER = re.compile(r"(\$?)\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}")
_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")
_TOML_HEADER = re.compile(r"^\s*\[\[\s*models\s*\]\]")
_TOML_KEY = re.compile(r'^\s*"?([A-Za-z0-9_-]+)"?\s*=\s*')
_RESOLVE_POSITION = re.compile(r"Line: (\d+), Col: (\d+)")
_PARTITION_FILTERS = ("event_day_partitions", "arrival_day_partitions")


@dataclass(frozen=True, order=True)
class Problem:
    path: Path
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{display_path(self.path)}:{self.line}:{self.col}: {self.message}"


def check(root: Path, models: Iterable[str] | None = None) -> list[Problem]:
    """Every problem of the declarations under `root` (sql/) and of the (selected) models."""
    problems: list[Problem] = []
    sources = _check_sources(root / SOURCES_FILE, problems)
    parsed = _check_models(root / MODELS_FILE, sources, problems)
    if sources is None or parsed is None:
        return sorted(problems)
    wanted = None if models is None else set(models)
    checker = _SqlChecker(root, parsed, sources, problems)
    checker.check_all(wanted)
    if not problems:
        _check_tests(root, parsed, sources, wanted, problems)
    return sorted(problems)


def _strip_where(message: str, path: Path) -> str:
    """The declaration modules prefix their messages with the file: the line says it."""
    for prefix in (f"{path}: ", f"{path.name}: "):
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message


# -- sql/sources.yaml --------------------------------------------------------------------------


def _check_sources(path: Path, problems: list[Problem]) -> Sources | None:
    if not path.is_file():
        problems.append(Problem(path, 1, 1, "no such file: every pipeline declares its sources"))
        return None
    try:
        document = located_yaml.load(path)
    except located_yaml.YamlError as error:
        problems.append(Problem(path, error.line, error.col, f"not valid YAML: {error}"))
        return None
    entries = document.get("sources") if isinstance(document, dict) else None
    found = len(problems)
    if isinstance(entries, list):
        # One problem per source entry: each is validated on its own first.
        for index, entry in enumerate(entries):
            try:
                parse_sources({"sources": [entry]}, path)
            except SourceError as error:
                at = ("sources", index, *error.at[2:]) if error.at[:2] == ("sources", 0) else ()
                problems.append(_source_problem(path, document, at, str(error)))
    if len(problems) > found:
        return None
    try:
        return parse_sources(document, path)
    except SourceError as error:
        problems.append(_source_problem(path, document, error.at, str(error)))
        return None


def _source_problem(path: Path, document: Any, at: Sequence[str | int], message: str) -> Problem:
    """The problem at the deepest part of `at` the document has."""
    line, col = getattr(document, "line", 1), getattr(document, "col", 1)
    node = document
    for key in at:
        if isinstance(node, located_yaml.LocatedDict) and key in node:
            line, col = node.mark_of(key)
            node = node[key]
        elif isinstance(node, located_yaml.LocatedList) and isinstance(key, int):
            if not 0 <= key < len(node):
                break
            line, col = node.mark_of(key)
            node = node[key]
        else:
            break
    return Problem(path, line, col, _strip_where(message, path))


# -- sql/models.toml ---------------------------------------------------------------------------


@dataclass
class _ParsedModels:
    path: Path
    text: str
    models: list[Model]
    # model name -> index of its [[models]] entry
    index: dict[str, int] = field(default_factory=dict)

    def position(self, model: int | None, key: str | None) -> tuple[int, int]:
        return toml_position(self.text, model, key)


def toml_position(text: str, model: int | None, key: str | None) -> tuple[int, int]:
    """(line, column) of `key`'s value in the `model`-th [[models]] entry (its header when the
    key is absent; the file's start without an entry)."""
    if model is None:
        return 1, 1
    entry = -1
    header = (1, 1)
    for number, line in enumerate(text.splitlines(), start=1):
        if _TOML_HEADER.match(line):
            entry += 1
            if entry > model:
                break
            header = (number, line.index("[") + 1)
            continue
        if entry == model and key is not None:
            found = _TOML_KEY.match(line)
            if found and found[1] == key:
                return number, found.end() + 1
    return header


def _check_models(
    path: Path, sources: Sources | None, problems: list[Problem]
) -> _ParsedModels | None:
    if not path.is_file():
        problems.append(Problem(path, 1, 1, "no such file: declare the models here"))
        return None
    text = path.read_text(encoding="utf-8")
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        position = _TOML_POSITION.search(str(error))
        line, col = (int(position[1]), int(position[2])) if position else (1, 1)
        message = _TOML_POSITION.sub("", str(error)).strip()
        problems.append(Problem(path, line, col, f"not valid TOML: {message}"))
        return None
    entries = document.get("models")
    if not isinstance(entries, list) or not entries:
        problems.append(Problem(path, 1, 1, "expected at least one [[models]] entry"))
        return None
    parsed = _ParsedModels(path, text, [])
    found = len(problems)
    for index, entry in enumerate(entries):
        try:
            model = parse_model(entry, path, index)
        except CatalogError as error:
            line, col = parsed.position(error.model, error.key)
            problems.append(Problem(path, line, col, _strip_where(str(error), path)))
            continue
        parsed.models.append(model)
        parsed.index.setdefault(model.name, index)
    if sources is None or len(problems) > found:
        return None
    for problem in catalog_problems(tuple(parsed.models), sources, path.parent, path):
        line, col = parsed.position(problem.model, problem.key)
        problems.append(Problem(path, line, col, _strip_where(str(problem), path)))
    return parsed if len(problems) == found else None


# -- the models' SQL ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedSql:
    """A model's SQL with its placeholders filled, and the way back to the file's positions."""

    original: str
    text: str
    # (rendered start, rendered end, original start, original end) of each placeholder
    spans: tuple[tuple[int, int, int, int], ...]

    def original_offset(self, offset: int) -> int:
        shift = 0
        for rendered_start, rendered_end, original_start, original_end in self.spans:
            if offset < rendered_start:
                break
            if offset < rendered_end:
                return original_start
            shift = original_end - rendered_end
        return offset + shift

    def position(self, offset: int) -> tuple[int, int]:
        """(line, column) in the file of a 0-based offset in the rendered text."""
        original = min(max(self.original_offset(offset), 0), len(self.original))
        before = self.original[:original]
        return before.count("\n") + 1, original - (before.rfind("\n") + 1) + 1

    def offset_of(self, line: int, col: int) -> int:
        """The rendered text's 0-based offset of a 1-based (line, column) in it."""
        lines = self.text.split("\n")
        return sum(len(text) + 1 for text in lines[: line - 1]) + max(col - 1, 0)


def render_located(original: str, values: dict[str, str]) -> tuple[RenderedSql, list[str]]:
    """Fill `${name}` as Terraform's templatefile() does; the unknown names are returned (and
    rendered as NULL, so that the rest can still be checked)."""
    pieces: list[str] = []
    spans: list[tuple[int, int, int, int]] = []
    unknown: list[str] = []
    position = 0
    length = 0
    for match in _PLACEHOLDER.finditer(original):
        literal = original[position : match.start()]
        pieces.append(literal)
        length += len(literal)
        if match.group(1):  # `$${...}` is a literal `${...}`
            replacement = match.group(0)[1:]
        elif match.group(2) in values:
            replacement = values[match.group(2)]
        else:
            unknown.append(match.group(2))
            replacement = "NULL"
        spans.append((length, length + len(replacement), match.start(), match.end()))
        pieces.append(replacement)
        length += len(replacement)
        position = match.end()
    pieces.append(original[position:])
    return RenderedSql(original, "".join(pieces), tuple(spans)), unknown


def placeholder_values(sources: Sources) -> dict[str, str]:
    """What the write step fills in, for one day (the tier databases named after their tier),
    with each source's declared zone."""
    day = date(2026, 1, 1)
    return (
        template_values(
            Chunk(0, day, day),
            arrival_end_limit=day + timedelta(days=1),
            lookback_days=0,
            time_zone="UTC",
            databases=DATABASES,
        )
        | sources.time_zone_placeholders()
    )


class _SqlChecker:
    def __init__(
        self, root: Path, parsed: _ParsedModels, sources: Sources, problems: list[Problem]
    ) -> None:
        self.root = root
        self.parsed = parsed
        self.sources = sources
        self.problems = problems
        self.values = placeholder_values(sources)
        self.models = {model.name: model for model in parsed.models}
        # `<tier>.<table>` -> its columns: the ODS tables, then each model's output.
        self.columns: dict[str, list[str]] = {
            f"ods.{source.table}": [c.name for c in source.ods_columns]
            + list(source.partition_keys)
            for source in sources
        }
        self.engine = duckdb.connect()
        self.engine.execute("SET TimeZone = 'UTC'")
        install_functions(self.engine)
        for tier in SOURCE_TIERS:
            self.engine.execute(f"CREATE SCHEMA {tier}")
        for source in sources:
            columns = [(c.name, hive_to_duckdb(c.type)) for c in source.ods_columns]
            columns += [(key, "VARCHAR") for key in source.partition_keys]
            body = ", ".join(f'"{name}" {kind}' for name, kind in columns)
            self.engine.execute(f"CREATE TABLE ods.{source.table} ({body})")

    def check_all(self, wanted: set[str] | None) -> None:
        ordered = sorted(self.parsed.models, key=lambda m: SOURCE_TIERS.index(m.tier))
        for model in ordered:
            # Upstream models are checked too: their output is what the selected ones read.
            if wanted is None or model.name in wanted or self._is_upstream(model.name, wanted):
                self.check_model(model)

    def _is_upstream(self, name: str, wanted: set[str]) -> bool:
        pending = list(wanted)
        seen: set[str] = set()
        while pending:
            current = self.models.get(pending.pop())
            if current is None or current.name in seen:
                continue
            seen.add(current.name)
            for source in current.sources:
                tier, _, table = source.partition(".")
                if tier != "ods":
                    if table == name:
                        return True
                    pending.append(table)
        return False

    def problem(self, model: Model, sql: RenderedSql | None, offset: int, message: str) -> None:
        path = self.root / model.sql_path
        line, col = sql.position(offset) if sql else (1, 1)
        self.problems.append(Problem(path, line, col, message))

    def declaration_problem(self, model: Model, key: str, message: str) -> None:
        line, col = self.parsed.position(self.parsed.index.get(model.name), key)
        self.problems.append(
            Problem(self.parsed.path, line, col, f"model {model.name!r}: {message}")
        )

    def check_model(self, model: Model) -> None:
        original = (self.root / model.sql_path).read_text(encoding="utf-8")
        sql, unknown = render_located(original, self.values)
        found = len(self.problems)
        for name in dict.fromkeys(unknown):
            offset = next(
                m.start()
                for m in _PLACEHOLDER.finditer(original)
                if m.group(2) == name and not m.group(1)
            )
            known = ", ".join(f"${{{value}}}" for value in self.values)
            self.problems.append(
                Problem(
                    self.root / model.sql_path,
                    *_line_col(original, offset),
                    f"unknown placeholder ${{{name}}}; known: {known}",
                )
            )
        statement = self._parse(model, sql)
        if statement is None:
            return
        if not set(_PARTITION_FILTERS) & {m.group(2) for m in _PLACEHOLDER.finditer(original)}:
            self.problem(
                model, sql, 0,
                "no partition filter: read the sources through ${event_day_partitions} or "
                "${arrival_day_partitions}, or every run scans every partition",
            )  # fmt: skip
        if not self._check_tables(model, sql, statement):
            return
        outputs = self._check_columns(model, sql, statement)
        if outputs is None:
            return
        self._check_implicit_aliases(model, sql, statement)
        self._check_outputs(model, sql, statement, outputs)
        if len(self.problems) == found and self._check_on_engine(model, sql, statement):
            # What later models may read: only a model without problems (a problem upstream
            # is reported once, where it is, not again in every model that reads it).
            self.columns[f"{model.tier}.{model.name}"] = outputs

    def _parse(self, model: Model, sql: RenderedSql) -> exp.Query | None:
        try:
            statements = [s for s in sqlglot.parse(sql.text, read=DIALECT) if s is not None]
        except ParseError as error:
            detail = error.errors[0] if error.errors else {}
            line, col = int(detail.get("line") or 1), int(detail.get("col") or 1)
            highlight = str(detail.get("highlight") or "")
            offset = sql.offset_of(line, max(col - len(highlight) + 1, 1))
            description = detail.get("description") or str(error)
            near = f" near {highlight!r}" if highlight else ""
            hint = _missing_comma_hint(sql, offset)
            self.problem(model, sql, offset, f"syntax error{near}{hint}: {description}")
            return None
        except TokenError as error:
            self.problem(model, sql, 0, f"syntax error: {' '.join(str(error).split())}")
            return None
        if len(statements) != 1 or not isinstance(statements[0], exp.Query):
            kinds = ", ".join(type(s).__name__.upper() for s in statements) or "nothing"
            self.problem(model, sql, 0, f"a model is one SELECT; this file holds {kinds}")
            return None
        return statements[0]

    def _check_tables(self, model: Model, sql: RenderedSql, statement: exp.Query) -> bool:
        ctes = {cte.alias_or_name for cte in statement.find_all(exp.CTE)}
        read: set[str] = set()
        ok = True
        for table in statement.find_all(exp.Table):
            if not table.db and table.name in ctes:
                continue
            name = f"{table.db}.{table.name}" if table.db else table.name
            offset = _start(table)
            if table.db not in SOURCE_TIERS:
                self.problem(
                    model, sql, offset,
                    f"table {name!r}: read a source as ${{ods_database}}.<source> and a model "
                    "as ${<tier>_database}.<model>",
                )  # fmt: skip
                ok = False
            elif name not in self.columns and not self._declared(name):
                self.problem(
                    model, sql, offset, f"unknown table {name!r}{self._known_tables(name)}"
                )
                ok = False
            elif name not in model.sources:
                self.problem(
                    model, sql, offset,
                    f"reads {name}, which is not in its sources in {MODELS_FILE} "
                    f"({', '.join(model.sources)})",
                )  # fmt: skip
                ok = False
            read.add(name)
        for source in model.sources:
            if source not in read and ok:
                self.declaration_problem(model, "sources", f"its SQL never reads {source}")
        return ok

    def _declared(self, name: str) -> bool:
        tier, _, table = name.partition(".")
        return table in self.models and self.models[table].tier == tier

    def _known_tables(self, name: str) -> str:
        names = [f"ods.{s.table}" for s in self.sources]
        names += [f"{m.tier}.{m.name}" for m in self.parsed.models]
        return _suggestion(name, names) or f" (known: {', '.join(names)})"

    def _check_columns(
        self, model: Model, sql: RenderedSql, statement: exp.Query
    ) -> list[str] | None:
        schema: dict[str, object] = {}
        for source in model.sources:
            tier, _, table = source.partition(".")
            if source not in self.columns:
                return None  # an upstream model with problems: its own lines say so
            tables = schema.setdefault(tier, {})
            assert isinstance(tables, dict)
            tables[table] = dict.fromkeys(self.columns[source], "UNKNOWN")
        try:
            qualified = qualify(
                statement.copy(), schema=schema, dialect=DIALECT, validate_qualify_columns=True
            )
        except OptimizeError as error:
            message = " ".join(str(error).split())
            readable = [c for table in model.sources for c in self.columns[table]]
            readable += [a.alias for a in statement.find_all(exp.Alias)]
            readable += [c.alias_or_name for c in statement.find_all(exp.CTE)]
            self.problem(
                model,
                sql,
                self._locate_column(statement, sql, message),
                _column_message(message, readable),
            )
            return None
        return list(qualified.named_selects)

    def _locate_column(self, statement: exp.Query, sql: RenderedSql, message: str) -> int:
        position = _RESOLVE_POSITION.search(message)
        name = re.search(r"Column '([^']+)'|Unknown column: (\S+)", message)
        if name:
            wanted = (name[1] or name[2]).strip("'\"").lower()
            for column in statement.find_all(exp.Column):
                if column.name.lower() == wanted:
                    return _start(column)
        if position:
            return sql.offset_of(int(position[1]), int(position[2]))
        return 0

    def _check_implicit_aliases(self, model: Model, sql: RenderedSql, statement: exp.Query) -> None:
        for select in statement.find_all(exp.Select):
            for projection in select.expressions:
                alias = projection.args.get("alias") if isinstance(projection, exp.Alias) else None
                if alias is None or "start" not in alias.meta:
                    continue
                start = alias.meta["start"]
                before = sql.text[:start]
                gap = before[len(before.rstrip()) :]
                if before.rstrip().upper().endswith(" AS") or "\n" not in gap:
                    continue
                self.problem(
                    model, sql, start,
                    f"missing comma? {projection.this.sql(dialect=DIALECT)!r} is followed by "
                    f"{alias.name!r} on the next line, which makes it its alias (write "
                    f"'AS {alias.name}' if meant)",
                )  # fmt: skip

    def _check_outputs(
        self, model: Model, sql: RenderedSql, statement: exp.Query, outputs: list[str]
    ) -> None:
        seen: set[str] = set()
        for name in outputs:
            if name in seen:
                self.problem(
                    model, sql, _select_start(statement), f"two output columns named {name!r}"
                )
            seen.add(name)
        partitions = GRANULARITY_PARTITIONS[model.granularity]
        if tuple(outputs[-len(partitions) :]) != partitions:
            self.problem(
                model, sql, _select_start(statement),
                f"the output must end with the partition columns {', '.join(partitions)} "
                f"(granularity {model.granularity!r}), in that order; it ends with "
                f"{', '.join(outputs[-len(partitions) :])}",
            )  # fmt: skip
        for key, names in (
            ("keys", model.keys),
            ("not_null", model.not_null),
            ("ranges", tuple(check.column for check in model.ranges)),
        ):
            for name in names:
                if name not in outputs:
                    self.declaration_problem(
                        model, key, f"{key} names {name!r}, which its SQL does not output"
                    )

    def _check_on_engine(self, model: Model, sql: RenderedSql, statement: exp.Query) -> bool:
        """Run it on empty tables; whether it ran, and with the output types required."""
        table = f"{model.tier}.{model.name}"
        found = len(self.problems)
        try:
            translated = athena_to_duckdb(sql.text)
            self.engine.execute(f"CREATE TABLE {table} AS SELECT * FROM ({translated}) LIMIT 0")
            described = self.engine.execute(f"DESCRIBE {table}").fetchall()
        except Exception as error:  # any engine error is the model's: reported, never raised
            message = " ".join(str(error).split()).split(" LINE ")[0]
            self.problem(
                model, sql, self._locate_function(statement, message),
                f"the local engine (DuckDB) cannot run it: {message}",
            )  # fmt: skip
            return False
        types = {str(row[0]): str(row[1]) for row in described}
        for name in GRANULARITY_PARTITIONS[model.granularity]:
            if types.get(name) != "VARCHAR":
                self.problem(
                    model, sql, _select_start(statement),
                    f"partition column {name!r} is {types.get(name)}; partition values are "
                    "zero-padded strings (e.g. substr(local_day, 6, 2) AS month)",
                )  # fmt: skip
        for name, kind in types.items():
            if "WITH TIME ZONE" in kind:
                self.problem(
                    model, sql, _select_start(statement),
                    f"column {name!r} is a timestamp with time zone, which Athena cannot "
                    "write to Parquet: CAST(x AT TIME ZONE 'UTC' AS timestamp)",
                )  # fmt: skip
        return len(self.problems) == found

    @staticmethod
    def _locate_function(statement: exp.Query, message: str) -> int:
        # DuckDB's "Scalar Function with name f does not exist", or the local Athena's refusal
        # "NOT_SUPPORTED: function f()"
        named = re.search(r"with name (\w+) does not exist", message) or re.search(
            r"\bfunction (\w+)\(\)", message
        )
        if named:
            for function in statement.find_all(exp.Func):
                if function.sql_name().lower() == named[1].lower() or (
                    isinstance(function, exp.Anonymous)
                    and function.name.lower() == named[1].lower()
                ):
                    return _start(function)
        return _select_start(statement)


def _line_col(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def _start(node: exp.Expr) -> int:
    """The 0-based offset of a node's first token in the parsed text (0 when unknown)."""
    starts = [
        identifier.meta["start"]
        for identifier in node.find_all(exp.Identifier)
        if "start" in identifier.meta
    ]
    if "start" in node.meta:
        starts.append(node.meta["start"])
    return min(starts) if starts else 0


def _select_start(statement: exp.Query) -> int:
    """Where the outermost SELECT's projections start (the output's columns)."""
    select = statement if isinstance(statement, exp.Select) else statement.find(exp.Select)
    if select is not None and select.expressions:
        return _start(select.expressions[0])
    return 0


def _column_message(message: str, readable: Sequence[str]) -> str:
    message = _RESOLVE_POSITION.sub("", message).strip().rstrip(".")
    found = re.search(r"Column '([^']+)' could not be resolved|Unknown column: (\S+)", message)
    if found:
        name = (found[1] or found[2]).strip("'\"")
        hint = _suggestion(name, readable) or ""
        return f"unknown column {name!r}{hint}"
    return message


def _suggestion(name: str, known: Sequence[str]) -> str | None:
    close = difflib.get_close_matches(name, list(dict.fromkeys(known)), n=1, cutoff=0.75)
    return f" (did you mean {close[0]}?)" if close else None


def _missing_comma_hint(sql: RenderedSql, offset: int) -> str:
    """A token that starts its line, after a line that ends a value: a comma is missing."""
    line_start = sql.text.rfind("\n", 0, offset) + 1
    if not re.fullmatch(r"\s*[A-Za-z_][A-Za-z0-9_.]*|\s*", sql.text[line_start:offset]):
        return ""
    previous = sql.text[:line_start].rstrip()
    if previous and (previous[-1].isalnum() or previous[-1] in ")'\"_"):
        line, _ = sql.position(len(previous) - 1)
        return f" (a missing comma at the end of line {line}?)"
    return ""


# -- the model tests ---------------------------------------------------------------------------


def _check_tests(
    root: Path,
    parsed: _ParsedModels,
    sources: Sources,
    wanted: set[str] | None,
    problems: list[Problem],
) -> None:
    catalog = Catalog(root=root, models=tuple(parsed.models), sources=sources)
    _, errors = load_tests(catalog, wanted)
    for error in errors:
        problems.append(Problem(error.path, error.line, 1, error.message))
