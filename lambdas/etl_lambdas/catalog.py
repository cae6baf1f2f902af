"""The model catalog: which models exist, in which tier, and how they are checked.

`sql/models.toml` is the one place that says what models exist. Adding a model is
an entry there plus `sql/<tier>/<name>.sql`. This module reads it with the
standard library and validates it, so a bad entry fails loudly at cold start. The
ODS tables the models read are the sources declared beside it, in `sql/sources.yaml`
(`etl_lambdas.sources`): a model may read `ods.<name>` only for a declared source.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from etl_lambdas.history_checks import (
    DAILY_GRANULARITIES,
    HISTORY_FIELDS,
    HistoryCheck,
    HistoryCheckError,
    ReconcileCheck,
    parse_history_checks,
)
from etl_lambdas.sources import SOURCES_FILE, SourceError, Sources, load_sources

# Tiers in the order they run; a model reads only from tiers before its own.
TIERS: tuple[str, ...] = ("dwd", "dws", "ads")
# Tables a model may read that are not models: the ODS tables of the declared sources.
SOURCE_TIERS: tuple[str, ...] = ("ods", *TIERS)
# Glue databases: one per tier, and one for the staging tables of runs.
DATABASE_TIERS: tuple[str, ...] = (*SOURCE_TIERS, "staging")

GRANULARITY_PARTITIONS: dict[str, tuple[str, ...]] = {
    "hour": ("year", "month", "day", "hour"),
    "day": ("year", "month", "day"),
    "month": ("year", "month"),
}

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

# The workgroup's engine, as ListEngineVersions names it (Terraform: athena_engine_version).
# Models are written once, in Athena engine version 3 (Trino) SQL; for a DuckDB workgroup,
# `make build` translates them (tools/translate_models.py) into `sql/duckdb/<tier>/<name>.sql`
# in the Lambda zip, `build/sql/duckdb/` in the repository: that SQL is what runs.
TRINO_ENGINE = "Athena engine version 3"
DUCKDB_ENGINE = "DuckDB"
ENGINES = (TRINO_ENGINE, DUCKDB_ENGINE)
TRANSLATED_SQL_DIR = "duckdb"


class CatalogError(ValueError):
    """The model catalog (models.toml or a model's SQL file) is invalid.

    `model` is the index of the `[[models]]` entry at fault and `key` the key in it, when
    known, so that `etl check` can name the line."""

    def __init__(self, message: str, model: int | None = None, key: str | None = None) -> None:
        super().__init__(message)
        self.model = model
        self.key = key


@dataclass(frozen=True)
class RangeCheck:
    column: str
    minimum: float | None
    maximum: float | None


@dataclass(frozen=True)
class Model:
    name: str
    tier: str
    description: str
    sources: tuple[str, ...]
    granularity: str
    keys: tuple[str, ...]
    not_null: tuple[str, ...]
    ranges: tuple[RangeCheck, ...] = field(default=())
    min_rows: int = 1
    # Checks that compare each day with the past (etl_lambdas.history_checks).
    history_checks: tuple[HistoryCheck, ...] = field(default=())

    @property
    def partition_by(self) -> tuple[str, ...]:
        return GRANULARITY_PARTITIONS[self.granularity]

    @property
    def sql_path(self) -> str:
        """Path of the model's SQL, relative to the sql root."""
        return f"{self.tier}/{self.name}.sql"


@dataclass(frozen=True)
class Catalog:
    root: Path
    models: tuple[Model, ...]
    sources: Sources

    def get(self, name: str) -> Model:
        for model in self.models:
            if model.name == name:
                return model
        raise CatalogError(f"unknown model {name!r}; known: {', '.join(self.names())}")

    def names(self) -> list[str]:
        return [m.name for m in self.models]

    def in_tier_order(self) -> list[Model]:
        return sorted(self.models, key=lambda m: (TIERS.index(m.tier), m.name))

    def sql(self, model: Model, engine: str = TRINO_ENGINE) -> str:
        """The model's SQL in the engine's dialect: as written for engine version 3, as `make
        build` translated it for DuckDB."""
        if engine == TRINO_ENGINE:
            return (self.root / model.sql_path).read_text(encoding="utf-8")
        if engine != DUCKDB_ENGINE:
            raise CatalogError(f"unknown Athena engine {engine!r}; one of {list(ENGINES)}")
        path = translated_sql_root(self.root) / model.sql_path
        if not path.is_file():
            raise CatalogError(
                f"no DuckDB translation of model {model.name!r} at {path}: make build"
            )
        return path.read_text(encoding="utf-8")


def default_sql_root() -> Path:
    """`sql/` beside the package in the Lambda zip, or at the repository root."""
    package_dir = Path(__file__).resolve().parent
    for candidate in (package_dir.parent / "sql", package_dir.parent.parent / "sql"):
        if (candidate / "models.toml").is_file():
            return candidate
    raise CatalogError(f"no sql/models.toml found next to {package_dir}")


def translated_sql_root(root: Path) -> Path:
    """Where the DuckDB translations of the models under `root` are: `sql/duckdb/` in the
    Lambda zip, `build/sql/duckdb/` beside a repository's `sql/` (written by `make build`)."""
    packaged = root / TRANSLATED_SQL_DIR
    return packaged if packaged.is_dir() else root.parent / "build" / "sql" / TRANSLATED_SQL_DIR


@cache
def load_catalog(root: Path | None = None) -> Catalog:
    root = root or default_sql_root()
    path = root / "models.toml"
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise CatalogError(f"{path}: {error}") from error
    entries = document.get("models")
    if not isinstance(entries, list) or not entries:
        raise CatalogError(f"{path}: expected at least one [[models]] entry")
    models = tuple(parse_model(entry, path, index) for index, entry in enumerate(entries))
    try:
        sources = load_sources(root / SOURCES_FILE)
    except SourceError as error:
        # One error type for the whole catalog: the state machine never retries it.
        raise CatalogError(str(error)) from error
    for problem in catalog_problems(models, sources, root, path):
        raise problem
    return Catalog(root=root, models=models, sources=sources)


def parse_model(entry: dict[str, object], path: Path, index: int) -> Model:
    """The `index`-th `[[models]]` entry of `path`; a CatalogError locates its problem."""
    try:
        return _parse_model(entry, path)
    except CatalogError as error:
        error.model = index
        raise


def _parse_model(entry: dict[str, object], path: Path) -> Model:
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise CatalogError(f"{path}: model name {name!r} must match {_NAME.pattern}", key="name")
    where = f"{path}: model {name!r}"
    known = {
        "name",
        "tier",
        "description",
        "sources",
        "granularity",
        "keys",
        "not_null",
        "ranges",
        "min_rows",
        *HISTORY_FIELDS,
    }
    unknown = set(entry) - known
    if unknown:
        raise CatalogError(f"{where}: unknown field(s) {sorted(unknown)}", key=sorted(unknown)[0])
    tier = entry.get("tier")
    if tier not in TIERS:
        raise CatalogError(f"{where}: tier {tier!r} must be one of {list(TIERS)}", key="tier")
    granularity = entry.get("granularity")
    if granularity not in GRANULARITY_PARTITIONS:
        raise CatalogError(
            f"{where}: granularity {granularity!r} must be one of {list(GRANULARITY_PARTITIONS)}",
            key="granularity",
        )
    ranges_field = entry.get("ranges", {})
    if not isinstance(ranges_field, dict):
        raise CatalogError(f"{where}: ranges must be a table of column = [min, max]", key="ranges")
    ranges = []
    for column, bounds in ranges_field.items():
        if not (isinstance(bounds, list) and len(bounds) == 2):
            raise CatalogError(f"{where}: range for {column!r} must be [min, max]", key="ranges")
        low, high = bounds
        ranges.append(RangeCheck(column, _bound(low, where), _bound(high, where)))
    min_rows = entry.get("min_rows", 1)
    if not isinstance(min_rows, int) or min_rows < 0:
        raise CatalogError(f"{where}: min_rows must be a non-negative integer", key="min_rows")
    try:
        history_checks = parse_history_checks(entry, str(granularity), where)
    except HistoryCheckError as error:
        raise CatalogError(str(error)) from None
    return Model(
        name=name,
        tier=str(tier),
        description=str(entry.get("description", "")),
        sources=_names(entry.get("sources"), "sources", where, required=True),
        granularity=str(granularity),
        keys=_names(entry.get("keys"), "keys", where, required=True),
        not_null=_names(entry.get("not_null", []), "not_null", where, required=False),
        ranges=tuple(ranges),
        min_rows=min_rows,
        history_checks=history_checks,
    )


def _bound(value: object, where: str) -> float | None:
    # TOML has no null: an open bound is written as the string "*".
    if value == "*":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CatalogError(f"{where}: range bound {value!r} must be a number or '*'", key="ranges")
    return float(value)


def _names(value: object, label: str, where: str, *, required: bool) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CatalogError(f"{where}: {label} must be a list of strings", key=label)
    if required and not value:
        raise CatalogError(f"{where}: {label} must not be empty", key=label)
    return tuple(value)


def catalog_problems(
    models: tuple[Model, ...], sources: Sources, root: Path, path: Path
) -> list[CatalogError]:
    """What is wrong across the models (names, sources, SQL files), one error per problem."""
    problems: list[CatalogError] = []
    by_name: dict[str, Model] = {}
    for index, model in enumerate(models):
        if model.name in by_name:
            problems.append(
                CatalogError(f"{path}: model {model.name!r} is declared twice", index, "name")
            )
        by_name.setdefault(model.name, model)
    for index, model in enumerate(models):
        where = f"{path}: model {model.name!r}"
        for source in model.sources:
            problem = _source_problem(source, model, by_name, sources)
            if problem:
                problems.append(CatalogError(f"{where}: {problem}", index, "sources"))
        for check in model.history_checks:
            if isinstance(check, ReconcileCheck):
                problem = _reconcile_problem(check, model, by_name)
                if problem:
                    problems.append(CatalogError(f"{where}: {problem}", index, "reconcile"))
        if not (root / model.sql_path).is_file():
            problems.append(
                CatalogError(f"{where}: missing SQL file {root / model.sql_path}", index, "name")
            )
    return problems


def _source_problem(
    source: str, model: Model, by_name: dict[str, Model], sources: Sources
) -> str | None:
    tier, _, table = source.partition(".")
    if tier not in SOURCE_TIERS or not table:
        return f"source {source!r} must be '<tier>.<table>'"
    if SOURCE_TIERS.index(tier) >= SOURCE_TIERS.index(model.tier):
        return f"source {source!r} is not in a tier before {model.tier!r}"
    if tier == "ods" and table not in sources.names():
        return (
            f"source {source!r} is not a declared source "
            f"({SOURCES_FILE} declares {', '.join(sources.names())})"
        )
    if tier != "ods" and (table not in by_name or by_name[table].tier != tier):
        return f"source {source!r} is not a declared model"
    return None


def _reconcile_problem(
    check: ReconcileCheck, model: Model, by_name: dict[str, Model]
) -> str | None:
    """A reconciliation reads an upstream model's published days: a declared model of an
    earlier tier, partitioned by day or hour (an ODS table is partitioned by arrival)."""
    tier, _, table = check.source.partition(".")
    upstream = by_name.get(table)
    if upstream is None or upstream.tier != tier or TIERS.index(tier) >= TIERS.index(model.tier):
        return (
            f"reconcile source {check.source!r} is not a declared model of a tier "
            f"before {model.tier!r}"
        )
    if upstream.granularity not in DAILY_GRANULARITIES:
        return (
            f"reconcile source {check.source!r} has granularity "
            f"{upstream.granularity!r}; its days cannot be compared"
        )
    return None


_PLACEHOLDER = re.compile(r"(\$?)\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}")


def render_template(text: str, values: dict[str, str]) -> str:
    """Fill `${name}` placeholders the way Terraform's templatefile() does (`$${` escapes).

    An unknown placeholder is an error naming it, never an empty string.
    """
    missing = sorted(
        {m.group(2) for m in _PLACEHOLDER.finditer(text) if not m.group(1)} - set(values)
    )
    if missing:
        raise CatalogError(f"no value for placeholder(s) {', '.join(missing)}")

    def substitute(match: re.Match[str]) -> str:
        if match.group(1):
            return match.group(0)[1:]
        return values[match.group(2)]

    return _PLACEHOLDER.sub(substitute, text)


def placeholders(text: str) -> set[str]:
    """The `${name}` placeholders a template uses (escaped `$${...}` excluded)."""
    return {m.group(2) for m in _PLACEHOLDER.finditer(text) if not m.group(1)}
