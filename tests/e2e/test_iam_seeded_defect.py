"""A seeded defect in the plan's IAM: the local run fails as AWS would, naming the grant.

The write step's CTAS registers its partitions in the Glue catalog with the caller's
permissions (Athena acts as the caller): without glue:BatchCreatePartition in the write
role's policy the query fails with AccessDenied naming the role and the action, and the
pipeline takes its failure path.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from etl_local.apply_graph import apply_graph_path
from etl_local.plan import LOCAL_PLAN
from etl_local.runtime import LocalRuntime
from etl_local.settings import LocalSettings
from tests.e2e.sample import dataset

pytestmark = pytest.mark.e2e

DAY = "2025-11-30"
WRITE_POLICY = 'module.lambdas.aws_iam_role_policy.this["write"]'
ACTION = "glue:BatchCreatePartition"


def _resources(module: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from module.get("resources") or []
    for child in module.get("child_modules") or []:
        yield from _resources(child)


def plan_without(action: str, target: Path) -> Path:
    """A copy of the local plan whose write role's policy no longer grants `action`."""
    plan = json.loads(LOCAL_PLAN.read_text(encoding="utf-8"))
    (policy,) = [
        r for r in _resources(plan["planned_values"]["root_module"]) if r["address"] == WRITE_POLICY
    ]
    document = json.loads(policy["values"]["policy"])
    removed = 0
    for statement in document["Statement"]:
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        kept = [a for a in actions if a != action]
        removed += len(actions) - len(kept)
        statement["Action"] = kept
    document["Statement"] = [s for s in document["Statement"] if s["Action"]]
    assert removed == 1, f"the write role's policy grants {action} once"
    policy["values"]["policy"] = json.dumps(document)
    target.write_text(json.dumps(plan), encoding="utf-8")
    # the order the plan is applied in: the same resources, the same graph
    shutil.copyfile(apply_graph_path(LOCAL_PLAN), apply_graph_path(target))
    return target


def test_a_write_role_without_batch_create_partition_fails_the_run_naming_it(
    tmp_path: Path,
) -> None:
    settings = LocalSettings(plan_path=plan_without(ACTION, tmp_path / "plan-local.json"))
    with LocalRuntime(home=tmp_path / "home", settings=settings) as runtime:
        runtime.put_raw_objects(dataset())
        result = runtime.run({"date": DAY})
        assert runtime.iam is not None
        denied = [
            (key.principal, key.action, key.resource)
            for key in runtime.iam.ledger.decisions()
            if not key.allowed
        ]

    assert result.status == "FAILED"
    write_session = "arn:aws:sts::123456789012:assumed-role/lakepipe-local-write-lambda/"
    assert {(principal.startswith(write_session), action) for principal, action, _ in denied} == {
        (True, ACTION)
    }
    message = f"is not authorized to perform: {ACTION}"
    assert message in f"{result.error} {result.cause}" or any(
        message in json.dumps(model.__dict__, default=str) for model in result.models
    ), (result.error, result.cause)
