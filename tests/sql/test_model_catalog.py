"""Every model in sql/models.toml holds together: SQL file, Athena syntax, placeholders, sources,
declared columns and partition columns, checked on the real output schema in DuckDB."""

from __future__ import annotations

import pytest
from sql_warehouse import Warehouse, window
from sqlglot import exp

from etl_lambdas.catalog import Model, load_catalog, placeholders, render_template
from etl_local.sql_dialect import parse_athena

CATALOG = load_catalog()
MODELS = CATALOG.in_tier_order()
# docs/contracts.md, "Models": the values the write step supplies.
KNOWN_PLACEHOLDERS = set(window("2026-01-01"))


def ids(model: Model) -> str:
    return f"{model.tier}.{model.name}"


@pytest.fixture(scope="module")
def empty_warehouse() -> Warehouse:
    """Every model materialized in tier order on an empty ODS table: all tables exist."""
    warehouse = Warehouse(CATALOG)
    for model in MODELS:
        warehouse.materialize(model.name, window("2026-01-01"))
    return warehouse


@pytest.mark.parametrize("model", MODELS, ids=ids)
def test_sql_file_exists_and_uses_only_known_placeholders(model: Model) -> None:
    assert (CATALOG.root / model.sql_path).is_file()
    used = placeholders(CATALOG.sql(model))
    assert used <= KNOWN_PLACEHOLDERS, f"unknown placeholders {used - KNOWN_PLACEHOLDERS}"
    # A model reads only its window's partitions, with the predicates Glue can filter
    # partitions on (a concat() of partition columns makes Athena list every partition).
    assert used & {"event_day_partitions", "arrival_day_partitions"}, "no partition filter"


@pytest.mark.parametrize("model", MODELS, ids=ids)
def test_parses_as_one_athena_select_reading_exactly_its_sources(model: Model) -> None:
    statement = parse_athena(render_template(CATALOG.sql(model), window("2026-01-01")))

    assert isinstance(statement, exp.Select)
    ctes = {cte.alias for cte in statement.find_all(exp.CTE)}
    read = {
        f"{table.db}.{table.name}"
        for table in statement.find_all(exp.Table)
        if table.name not in ctes
    }
    assert read == set(model.sources)


@pytest.mark.parametrize("model", MODELS, ids=ids)
def test_declared_columns_exist_and_partition_columns_are_last_strings(
    model: Model, empty_warehouse: Warehouse
) -> None:
    columns = empty_warehouse.describe(model.name, window("2026-01-01"))
    names = [name for name, _ in columns]

    declared = {*model.keys, *model.not_null, *(check.column for check in model.ranges)}
    assert declared <= set(names), f"not in the output: {declared - set(names)}"
    assert tuple(names[-len(model.partition_by) :]) == model.partition_by
    assert all(kind == "VARCHAR" for _, kind in columns[-len(model.partition_by) :])
    assert len(set(names)) == len(names)
    # Athena's CTAS cannot write timestamp with time zone to Parquet
    assert not any("WITH TIME ZONE" in kind for _, kind in columns)
