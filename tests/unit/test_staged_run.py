"""The staged-run event audit and publish share: they act on their own model's run only."""

from __future__ import annotations

import pytest

from etl_lambdas.catalog import Catalog
from etl_lambdas.errors import InvalidRunRequest
from etl_lambdas.staged_run import parse_staged_run

RUN = "20261121t020000z_0a1b2c3d"


def test_a_valid_event_names_the_model_and_its_tables(catalog: Catalog) -> None:
    model = catalog.models[0]
    tables = [f"{model.name}__{RUN}__c0", f"{model.name}__{RUN}__c1"]

    staged = parse_staged_run({"run_id": RUN, "model": model.name, "staging_tables": tables},
                              catalog)  # fmt: skip

    assert (staged.run_id, staged.model, staged.tables) == (RUN, model, tables)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"run_id": "yesterday"}, "'yesterday'"),
        ({"model": "nope"}, "'nope'"),
        ({"staging_tables": []}, "staging_tables"),
        ({"staging_tables": ["other__20261121t020000z_0a1b2c3d__c0"]}, "other__"),
        ({"staging_tables": ["{model}__20261120t020000z_ffffffff__c0"]}, "20261120t020000z"),
    ],
)
def test_a_bad_event_is_one_error_naming_the_value(
    catalog: Catalog, change: dict[str, object], named: str
) -> None:
    model = catalog.models[0].name
    event: dict[str, object] = {
        "run_id": RUN,
        "model": model,
        "staging_tables": [f"{model}__{RUN}__c0"],
    }
    event.update(
        {k: [t.format(model=model) for t in v] if isinstance(v, list) else v
         for k, v in change.items()}
    )  # fmt: skip

    with pytest.raises(InvalidRunRequest, match=named.replace("{", "").replace("}", "")):
        parse_staged_run(event, catalog)
