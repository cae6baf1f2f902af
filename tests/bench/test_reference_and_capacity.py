"""The committed reference and what is made from it: the benchmark page's figures and the
capacity plan are the commands' output, and the capacity model bites where it should."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import hcl2
import pytest

from etl_local.bench import capacity, reference
from etl_local.bench.run import ROOT, prod_values


@pytest.fixture(scope="module")
def committed() -> dict[str, Any]:
    return dict(json.loads(reference.REFERENCE.read_text(encoding="utf-8")))


def test_the_benchmark_page_states_the_committed_reference_and_nothing_typed_in(
    committed: dict[str, Any],
) -> None:
    page = reference.DOCUMENT.read_text(encoding="utf-8")

    assert reference.document_with_figures(page, reference.render(committed)) == page, (
        "run python -m etl_local.bench.reference"
    )
    # The sizes the page states are the ones prod declares, as the benchmark read them.
    values = prod_values()
    figures = page.split(reference.BEGIN, 1)[1].split(reference.END, 1)[0]
    assert (
        f"Glue {values['glue_worker_type']} x {values['glue_number_of_workers']}, "
        f"{values['glue_execution_class']}" in figures
    )
    outside = page.replace(figures, "")
    # Outside the generated table, no worker sizes or costs typed in.
    assert not re.findall(r"G\.\dX x \d|\$\d[\d.]*", outside)


def test_the_committed_reference_is_of_prods_sizes(committed: dict[str, Any]) -> None:
    with (ROOT / "envs" / "prod.tfvars").open() as handle:
        prod = hcl2.load(handle)
    assert committed["prod"]["glue_worker_type"] == prod["glue_worker_type"].strip('"')
    assert committed["prod"]["glue_number_of_workers"] == prod["glue_number_of_workers"]
    assert committed["prod"]["glue_execution_class"] == prod["glue_execution_class"].strip('"')


def test_the_capacity_table_is_the_commands_output(committed: dict[str, Any]) -> None:
    page = capacity.DOCUMENT.read_text(encoding="utf-8")
    table = capacity.render(capacity.plan(committed, prod_values()), committed)

    assert capacity.document_with_table(page, table) == page, (
        "run python -m etl_local.bench.capacity --write"
    )


def test_the_variables_the_plan_names_exist_and_are_validated() -> None:
    page = capacity.DOCUMENT.read_text(encoding="utf-8")
    with (ROOT / "variables.tf").open() as handle:
        declared = {
            label.strip('"'): body
            for block in hcl2.load(handle)["variable"]
            for label, body in block.items()
        }
    named = set(re.findall(r"`([a-z_]+)`", page)) & {
        name for name in re.findall(r"\b[a-z][a-z_]+\b", page) if "_" in name
    }
    named -= {"bench_reference", "cost_model", "glue_estimate"}
    scaling = {n for n in named if n in declared}
    assert {"glue_number_of_workers", "query_max_polls", "max_backfill_days"} <= scaling
    for name in scaling:
        assert declared[name].get("validation"), f"variables.tf: {name} is not validated"


def _scaled(committed: dict[str, Any], **changes: float) -> list[capacity.Column]:
    values = {**prod_values(), **{k: str(v) for k, v in changes.items()}}
    return capacity.plan(copy.deepcopy(committed), values)


def test_each_scale_costs_more_and_converts_longer(committed: dict[str, Any]) -> None:
    columns = _scaled(committed)
    one, ten, hundred, years = columns

    assert [c.events for c in columns] == [6_600_000, 66_000_000, 660_000_000, 6_600_000]
    assert one.cost_usd < ten.cost_usd < hundred.cost_usd
    assert one.glue.seconds < ten.glue.seconds < hundred.glue.seconds
    # Five years add the catalogue's listing, not volume.
    assert {c.name for c in years.checks} - {c.name for c in one.checks} == {
        "Glue partitions per table",
        "Publish step's listing",
    }
    assert next(c for c in years.checks if c.name == "Glue partitions per table").used == 43_830


def test_what_bites_first_moves_with_the_configuration(committed: dict[str, Any]) -> None:
    # A Glue job allowed one minute bites at 100x, and the plan says how many workers fix it.
    hundred = _scaled(committed, glue_job_timeout_minutes=1)[2]
    assert hundred.bites_first.name == "Glue job timeout"
    assert hundred.bites_first.share > 1
    # A cutoff of 10 MB bites the scans first.
    one = _scaled(committed, athena_bytes_scanned_cutoff_per_query=10_000_000)[0]
    assert one.bites_first.name == "Athena bytes scanned per query"
    assert one.bites_first.change == "athena_bytes_scanned_cutoff_per_query"
