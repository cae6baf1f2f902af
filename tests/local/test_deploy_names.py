"""The lake's names the runtime computes are the ones the local plan deploys against."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from etl_local.deploy import PlanNamesAnotherLake, check_lake_names
from etl_local.plan import LOCAL_PLAN
from etl_local.settings import LocalSettings


def test_the_local_plan_names_the_runtimes_lake() -> None:
    check_lake_names(LocalSettings())


def test_a_plan_of_another_lake_is_refused_naming_each_difference(tmp_path: Path) -> None:
    # Given a plan whose curated bucket and staging database are named otherwise
    document = json.loads(LOCAL_PLAN.read_text(encoding="utf-8"))
    outputs = document["planned_values"]["outputs"]
    outputs["bucket_names"]["value"]["curated"] = "someone-elses-lake"
    del outputs["glue_database_names"]["value"]["staging"]
    plan = tmp_path / "plan-local.json"
    plan.write_text(json.dumps(document), encoding="utf-8")

    # When the runtime checks it, then it says what differs and how to fix it
    with pytest.raises(PlanNamesAnotherLake) as raised:
        check_lake_names(LocalSettings(plan_path=plan))
    message = str(raised.value)
    assert "bucket_names.curated: the plan says 'someone-elses-lake', the runtime uses " in message
    assert "glue_database_names.staging: the plan says None" in message
    assert "make plan" in message
    assert message.count("the plan says") == 2  # nothing else differs
