"""The event audit and publish receive: one model's staged tables of one run (write's output)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from etl_lambdas.catalog import Catalog, Model
from etl_lambdas.errors import InvalidRunRequest
from etl_lambdas.naming import staging_table
from etl_lambdas.planning import RUN_ID


@dataclass(frozen=True)
class StagedRun:
    run_id: str
    model: Model
    tables: list[str]


def parse_staged_run(event: Mapping[str, object], catalog: Catalog) -> StagedRun:
    """{"run_id", "model", "staging_tables": [...]}, validated: a step never touches tables
    of another model or run, whatever it is given."""
    run = event.get("run_id")
    name = event.get("model")
    tables = event.get("staging_tables")
    if not isinstance(run, str) or not RUN_ID.match(run):
        raise InvalidRunRequest(f"run_id {run!r} is not a run id")
    if not isinstance(name, str) or name not in catalog.names():
        raise InvalidRunRequest(f"unknown model {name!r}")
    if not isinstance(tables, list) or not tables or not all(isinstance(t, str) for t in tables):
        raise InvalidRunRequest(f"staging_tables {tables!r} must be a non-empty list")
    own_prefix = staging_table(name, run, 0)[: -len("0")]
    foreign = [table for table in tables if not table.startswith(own_prefix)]
    if foreign:
        raise InvalidRunRequest(f"staging table(s) {foreign} do not belong to {name} run {run}")
    return StagedRun(run_id=run, model=catalog.get(name), tables=list(tables))
