"""What the saved plan (build/plan-prod.json) renders: policies and the state machine.

The plan JSON is what the local runtime, IAM enforcement and checkov read, so what it leaves
unknown they cannot check.
"""

from __future__ import annotations

import json
from typing import Any

from etl_lambdas.catalog import DATABASE_TIERS
from etl_lambdas.steps import STEPS

# Policy attributes: the JSON documents IAM, S3, SNS and KMS evaluate.
POLICY_ATTRIBUTES = {
    "aws_iam_role": "assume_role_policy",
    "aws_iam_role_policy": "policy",
    "aws_s3_bucket_policy": "policy",
    "aws_sns_topic_policy": "policy",
    "aws_kms_key": "policy",
}
# Terraform reads a data source that refers to a managed resource with changes pending only
# during apply (its ReferenceMap.dataDependsOn), with the real provider as here; so policy
# documents name what they protect by ARNs built from names, partition, region and account.
DEFERRED_POLICIES: set[str] = set()


def _creates(plan: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [
        change
        for change in plan["resource_changes"]
        if change["type"] == resource_type and change["mode"] == "managed"
    ]


def test_every_policy_is_rendered_as_known_json(
    prod_plan: dict[str, Any],
) -> None:
    unknown = set()
    for resource_type, attribute in POLICY_ATTRIBUTES.items():
        resources = _creates(prod_plan, resource_type)
        assert resources, f"no {resource_type} in {prod_plan['__path__']}"
        for change in resources:
            after, after_unknown = change["change"]["after"], change["change"]["after_unknown"]
            if after_unknown.get(attribute):
                unknown.add(change["address"])
                continue
            document = json.loads(after[attribute])
            assert document["Version"] == "2012-10-17", change["address"]
            assert document["Statement"], change["address"]

    assert unknown == DEFERRED_POLICIES


def test_the_machines_name_every_function_and_the_model_machine_by_their_arns(
    prod_plan: dict[str, Any],
) -> None:
    machines = {
        c["change"]["after"]["name"]: c for c in _creates(prod_plan, "aws_sfn_state_machine")
    }
    assert set(machines) == {"lakepipe-prod-pipeline", "lakepipe-prod-model"}
    definitions = {}
    for name, machine in machines.items():
        assert not machine["change"]["after_unknown"].get("definition")
        definitions[name] = machine["change"]["after"]["definition"]
        assert json.loads(definitions[name])["States"]
        assert "${" not in definitions[name]
    functions = [c["change"]["after"] for c in _creates(prod_plan, "aws_lambda_function")]
    assert len(functions) == len(STEPS)
    scheduled = {f"lakepipe-prod-{s.name}" for s in STEPS.values() if s.invoked_by == "schedule"}
    for function in functions:
        if function["function_name"] in scheduled:
            continue
        arn = function["arn"]
        assert arn.startswith("arn:aws:lambda:eu-west-1:123456789012:function:lakepipe-prod-")
        assert sum(f'"{arn}"' in d for d in definitions.values()) == 1, arn
    model_arn = machines["lakepipe-prod-model"]["change"]["after"]["arn"]
    assert f'"{model_arn}"' in definitions["lakepipe-prod-pipeline"]


def test_terraform_makes_a_database_for_each_tier_the_functions_name(
    prod_plan: dict[str, Any],
) -> None:
    # The tiers are declared once per language (modules/catalog's model_tiers, Python's
    # etl_lambdas.catalog.TIERS): a tier added to one only must fail here.
    names = prod_plan["planned_values"]["outputs"]["glue_database_names"]["value"]

    assert names == {tier: f"lakepipe_prod_{tier}" for tier in DATABASE_TIERS}
