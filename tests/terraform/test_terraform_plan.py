"""Terraform's own core, with the offline AWS provider, rejects what AWS would never see.

Each test seeds one defect in a scratch copy of the configuration and expects Terraform's own
error message (`terraform validate` for what is wrong in any environment, `terraform plan`
for what depends on an environment's values), as `make plan` would print it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from terraform_copy import seed, seeded_session

from tools.offline_aws_provider.service import CANNOT_APPLY
from tools.terraform_plan import TerraformError


def _validate_error(tmp_path: Path, path: str, old: str, new: str) -> str:
    with seeded_session(tmp_path) as (root, session):
        seed(root, path, old, new)
        with pytest.raises(TerraformError) as failure:
            session.validate(echo=False)
    return " ".join(failure.value.output.split())


def _plan_error(tmp_path: Path, path: str, old: str, new: str) -> str:
    with seeded_session(tmp_path) as (root, session):
        seed(root, path, old, new)
        with pytest.raises(TerraformError) as failure:
            session.plan(root / "envs" / "dev.tfvars", tmp_path / "plan.json")
    return " ".join(failure.value.output.split())


def test_a_reference_to_an_attribute_the_resource_does_not_have(tmp_path: Path) -> None:
    output = _validate_error(
        tmp_path,
        "modules/alerts/main.tf",
        "aws_kms_alias.topic[0].name",
        "aws_kms_alias.topic[0].arnn",
    )
    assert "Error: Unsupported attribute" in output
    assert 'This object has no argument, nested block, or exported attribute named "arnn"' in output


def test_an_argument_the_resource_type_does_not_have(tmp_path: Path) -> None:
    output = _validate_error(
        tmp_path,
        "modules/alerts/main.tf",
        'resource "aws_sns_topic" "this" {\n',
        'resource "aws_sns_topic" "this" {\n  delivery_retries = 3\n',
    )
    assert "Error: Unsupported argument" in output
    assert 'An argument named "delivery_retries" is not expected here.' in output


def test_a_placeholder_missing_from_the_templatefile_map(tmp_path: Path) -> None:
    output = _plan_error(
        tmp_path,
        "modules/state_machine/main.tf",
        "      glue_job_name                 = var.glue_job_name\n",
        "",
    )
    assert "Invalid function argument" in output
    assert 'vars map does not contain key "glue_job_name"' in output


def test_a_value_of_the_wrong_type_in_an_environment_file(tmp_path: Path) -> None:
    output = _plan_error(
        tmp_path,
        "envs/dev.tfvars",
        "glue_number_of_workers   = 2",
        'glue_number_of_workers = "two"',
    )
    assert "Error: Invalid value for input variable" in output
    assert "a number is required" in output


def test_a_value_that_fails_a_variable_validation(tmp_path: Path) -> None:
    output = _plan_error(tmp_path, "envs/dev.tfvars", 'env     = "dev"', 'env     = "qa"')
    assert "Error: Invalid value for variable" in output
    assert "var.env" in output


def test_for_each_over_a_set_known_only_after_apply(tmp_path: Path) -> None:
    # The topic's ARN is predictable (the saved plan has it), but the real provider plans it
    # "known after apply": the offline plan must fail as the real one would.
    output = _plan_error(
        tmp_path,
        "modules/alerts/main.tf",
        'resource "aws_sns_topic" "this" {',
        'resource "aws_sns_topic_subscription" "seeded" {\n'
        "  for_each  = toset([aws_sns_topic.this.arn])\n"
        "  topic_arn = each.key\n"
        '  protocol  = "email"\n'
        '  endpoint  = "someone@example.com"\n'
        "}\n\n"
        'resource "aws_sns_topic" "this" {',
    )
    assert "Error: Invalid for_each argument" in output
    assert "cannot be determined until apply" in output


def test_apply_is_refused_by_the_offline_provider(tmp_path: Path) -> None:
    with seeded_session(tmp_path) as (root, session), pytest.raises(TerraformError) as failure:
        session.apply(root / "envs" / "dev.tfvars")
    output = " ".join(failure.value.output.split())
    assert f"Error: {CANNOT_APPLY}" in output
    assert "Apply complete" not in output
