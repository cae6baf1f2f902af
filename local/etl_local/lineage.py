"""Column-level lineage of the models, computed by sqlglot from their SQL.

Each model's SQL is rendered as the write step renders it (placeholders filled for one day;
the databases named after their tiers), qualified against the schema known so far (the
sources' declared columns and partition keys, then each model's output columns, in tier
order) and traced column by column with `sqlglot.lineage`: the source columns each output
column is computed from. A column computed from no column (`count(*)`) says so; SQL that
sqlglot cannot qualify gets its columns without lineage and the reason, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.lineage import lineage
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import build_scope

from etl_lambdas.catalog import SOURCE_TIERS, Catalog, Model, render_template
from etl_lambdas.planning import Chunk, template_values

# Any day renders the SQL: lineage does not depend on the dates.
_RENDER_DAY = date(2026, 1, 15)
_DATABASES = {f"{tier}_database": tier for tier in SOURCE_TIERS}
# Longest expression shown beside a column.
_EXPRESSION_CHARS = 240


@dataclass(frozen=True)
class SourceColumn:
    tier: str
    table: str
    column: str

    def __str__(self) -> str:
        return f"{self.tier}.{self.table}.{self.column}"


@dataclass(frozen=True)
class ColumnLineage:
    name: str
    expression: str
    sources: tuple[SourceColumn, ...]


@dataclass(frozen=True)
class ModelLineage:
    model: str
    columns: tuple[ColumnLineage, ...]
    problem: str | None = None


def rendered_sql(catalog: Catalog, model: Model, time_zone: str) -> str:
    values = (
        template_values(
            Chunk(0, _RENDER_DAY, _RENDER_DAY),
            arrival_end_limit=_RENDER_DAY,
            lookback_days=0,
            time_zone=time_zone,
            databases=_DATABASES,
        )
        | catalog.sources.time_zone_placeholders()
    )
    return render_template(catalog.sql(model), values)


def model_lineage(catalog: Catalog, time_zone: str) -> dict[str, ModelLineage]:
    """Every model's columns and where each comes from, by model name."""
    schema: dict[str, Any] = {tier: {} for tier in SOURCE_TIERS}
    for source in catalog.sources.sources:
        schema["ods"][source.name] = {column.name: column.type for column in source.ods_columns} | {
            key: "string" for key in source.partition_keys
        }
    result = {}
    for model in catalog.in_tier_order():
        traced = _trace(rendered_sql(catalog, model, time_zone), schema)
        schema[model.tier][model.name] = {column.name: "string" for column in traced.columns}
        result[model.name] = ModelLineage(model.name, traced.columns, traced.problem)
    return result


@dataclass(frozen=True)
class _Traced:
    columns: tuple[ColumnLineage, ...]
    problem: str | None


def _trace(sql: str, schema: dict[str, Any]) -> _Traced:
    try:
        written = sqlglot.parse_one(sql, read="athena")
        tree = qualify(
            written.copy(),
            schema=schema,
            dialect="athena",
            validate_qualify_columns=False,
        )
    except SqlglotError as error:
        return _Traced((), f"sqlglot could not read the SQL: {' '.join(str(error).split())}")
    if not isinstance(tree, exp.Query):
        return _Traced((), "not a SELECT")
    scope = build_scope(tree)
    # Shown as written (qualifying adds table names and quotes everywhere).
    as_written = written.selects if isinstance(written, exp.Query) else []
    if len(as_written) != len(tree.selects):  # a `*` expanded
        as_written = tree.selects
    columns = []
    for index, select in enumerate(tree.selects):
        name = select.alias_or_name
        shown = as_written[index]
        shown = shown.this if isinstance(shown, exp.Alias) else shown
        expression = shown.sql(dialect="athena")
        if len(expression) > _EXPRESSION_CHARS:
            expression = expression[: _EXPRESSION_CHARS - 3] + "..."
        try:
            root = lineage(name, tree, schema=schema, dialect="athena", scope=scope)
            sources = tuple(sorted(_leaves(root), key=str))
        except SqlglotError:
            sources = ()
        columns.append(ColumnLineage(name, expression, sources))
    return _Traced(tuple(columns), None)


def _leaves(root: object) -> set[SourceColumn]:
    found = set()
    for node in root.walk():  # type: ignore[attr-defined]
        if node.downstream or not isinstance(node.source, exp.Table):
            continue
        table = node.source
        column = node.expression
        name = column.name if isinstance(column, exp.Column) else node.name.rsplit(".", 1)[-1]
        if table.db in SOURCE_TIERS:
            found.add(SourceColumn(table.db, table.name, name.strip('"')))
    return found
