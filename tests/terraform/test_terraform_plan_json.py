"""What the saved plan (build/plan-prod.json) renders: policies and the state machine.

The plan JSON is what the local runtime, IAM enforcement and checkov read, so what it leaves
unknown they cannot check.
"""

from __future__ import annotations

import json
from typing import Any

from etl_lambdas.catalog import DATABASE_TIERS, TIERS
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


def _statements(plan: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """Every Allow statement of a role's inline policies, actions and resources as lists."""
    statements = []
    for change in _creates(plan, "aws_iam_role_policy"):
        after = change["change"]["after"]
        if after["role"] != role:
            continue
        for statement in json.loads(after["policy"])["Statement"]:
            if statement["Effect"] != "Allow":
                continue
            listed = {key: statement[key] for key in ("Action", "Resource")}
            statements.append(
                {k: v if isinstance(v, list) else [v] for k, v in listed.items()}
                | {"Sid": statement.get("Sid", "")}
            )
    assert statements, f"no policy of role {role}"
    return statements


def _resources(statements: list[dict[str, Any]], action: str) -> set[str]:
    return {r for s in statements if action in s["Action"] for r in s["Resource"]}


def test_the_write_role_writes_only_the_staging_prefixes_of_runs_and_reads_no_last_tier(
    prod_plan: dict[str, Any],
) -> None:
    buckets = prod_plan["planned_values"]["outputs"]["bucket_names"]["value"]
    curated = f"arn:aws:s3:::{buckets['curated']}"
    results = f"arn:aws:s3:::{buckets['athena-results']}"
    statements = _statements(prod_plan, "lakepipe-prod-write-lambda")

    # a chunk's CTAS writes under <tier>/<model>/_runs/<run_id>/ (etl_lambdas.naming), and
    # Athena its query results
    runs = {f"{curated}/{tier}/*/_runs/*" for tier in TIERS}
    assert _resources(statements, "s3:PutObject") == runs | {f"{results}/*"}
    assert _resources(statements, "s3:AbortMultipartUpload") == runs | {f"{results}/*"}
    # it reads the ODS and the published data of every tier but the last
    read = {f"{curated}/ods/*"} | {f"{curated}/{tier}/*/_runs/*" for tier in TIERS[:-1]}
    assert _resources(statements, "s3:GetObject") == read | {f"{results}/*"}


def test_query_callers_may_list_result_uploads_and_need_no_default_database(
    prod_plan: dict[str, Any],
) -> None:
    """Athena writes results with multipart uploads as the caller (modules/lambdas/policies.tf
    cites AWS's policies granting their listing); the queries name their database, so the
    `default` one is granted to nobody."""
    outputs = prod_plan["planned_values"]["outputs"]
    results = f"arn:aws:s3:::{outputs['bucket_names']['value']['athena-results']}"
    staging = outputs["glue_database_names"]["value"]["staging"]
    roles = {c["change"]["after"]["role"] for c in _creates(prod_plan, "aws_iam_role_policy")}
    callers = [
        role
        for role in sorted(roles)
        if _resources(_statements(prod_plan, role), "athena:StartQueryExecution")
    ]
    assert callers == ["lakepipe-prod-audit-start-lambda", "lakepipe-prod-write-lambda"]
    for role in callers:
        statements = _statements(prod_plan, role)
        assert _resources(statements, "s3:ListBucketMultipartUploads") == {results}, role
        assert _resources(statements, "s3:ListMultipartUploadParts") == {f"{results}/*"}, role
        databases = _resources(statements, "glue:GetDatabase")
        assert any(r.endswith(f":database/{staging}") for r in databases), role
    for role in roles:
        for statement in _statements(prod_plan, role):
            assert not any(r.endswith(":database/default") for r in statement["Resource"]), role
