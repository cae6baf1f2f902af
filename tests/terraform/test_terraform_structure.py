"""The Terraform's structure: documented inputs and outputs, contracts held, least privilege."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hcl_tree import (
    MODULE_DIRS,
    REPOSITORY_ROOT,
    Block,
    blocks,
    comments,
    parse,
    policy_statements,
    terraform_files,
    unquote,
)

from etl_lambdas.catalog import placeholders
from etl_lambdas.sources import default_job_arguments
from tools.provider_schema import ensure_schema, load_schema
from tools.readme_terraform import readme_with_tables

# Inputs whose values come from a fixed set: each must be validated with contains().
ENUM_LIKE = {
    *("env", "glue_worker_type", "worker_type", "lambda_architecture", "architecture"),
    *("log_level", "state_machine_log_level", "log_retention_days"),
    *("alarm_subscriptions", "subscriptions"),
}
_ACTION = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9]+$")


def _where(block: Block) -> str:
    return block.where


def _local(path: Path, name: str) -> Any:
    for block in blocks("locals", [path]):
        if name in block.body:
            return block.body[name]
    raise AssertionError(f"{path}: no local {name!r}")


def test_every_module_has_the_standard_files() -> None:
    for directory in MODULE_DIRS:
        missing = {"main.tf", "variables.tf", "outputs.tf", "versions.tf"} - {
            p.name for p in directory.glob("*.tf")
        }
        assert not missing, f"{directory}: missing {sorted(missing)}"


def test_every_module_pins_the_aws_provider_major() -> None:
    for directory in MODULE_DIRS:
        terraform = parse(directory / "versions.tf")["terraform"][0]
        aws = terraform["required_providers"][0]["aws"]
        assert unquote(aws["source"]) == "hashicorp/aws", directory
        assert unquote(aws["version"]) == "~> 6.0", directory


def test_root_uses_a_partial_s3_backend_and_each_environment_locks_its_state() -> None:
    terraform = parse(REPOSITORY_ROOT / "versions.tf")["terraform"][0]
    assert list(terraform["backend"][0]) == ['"s3"']
    for env in ("dev", "prod"):
        backend = parse(REPOSITORY_ROOT / "envs" / f"{env}.backend.hcl")
        assert backend["use_lockfile"] is True, env
        assert backend["encrypt"] is True, env
        assert env in unquote(backend["key"]), env  # type: ignore[operator]
        tfvars = parse(REPOSITORY_ROOT / "envs" / f"{env}.tfvars")
        assert unquote(tfvars["env"]) == env


def test_environment_files_set_only_declared_root_inputs() -> None:
    declared = {block.labels[0] for block in blocks("variable", [REPOSITORY_ROOT / "variables.tf"])}
    for env in ("dev", "prod"):
        values = parse(REPOSITORY_ROOT / "envs" / f"{env}.tfvars")
        assert set(values) - {"__comments__", "__inline_comments__"} <= declared, env


def test_every_variable_is_typed_and_described() -> None:
    for variable in blocks("variable"):
        assert "type" in variable.body, f"{variable.where}: no type"
        description = unquote(variable.body.get("description", ""))
        assert isinstance(description, str) and description.strip(), (
            f"{variable.where}: no description"
        )


def test_enum_like_variables_are_validated_with_a_clear_message() -> None:
    found = set()
    for variable in blocks("variable"):
        name = variable.labels[0]
        description = str(unquote(variable.body["description"]))
        if name not in ENUM_LIKE and not re.search(r"\bone of\b", description, re.IGNORECASE):
            continue
        found.add(name)
        validations = variable.body.get("validation", [])
        assert validations, f"{variable.where}: enum-like variable without validation"
        for validation in validations:
            assert "contains(" in validation["condition"], variable.where
            message = str(unquote(validation["error_message"]))
            assert name in message and "one of" in message, f"{variable.where}: {message!r}"
    assert found >= ENUM_LIKE


def test_every_output_is_described() -> None:
    for output in blocks("output"):
        description = unquote(output.body.get("description", ""))
        assert isinstance(description, str) and description.strip(), (
            f"{output.where}: no description"
        )


def test_state_machines_get_every_placeholder_their_templates_use() -> None:
    main = REPOSITORY_ROOT / "modules" / "state_machine" / "main.tf"
    definition_values = str(_local(main, "definition_values"))
    machine = next(b for b in blocks("resource", [main]) if b.labels[0] == "aws_sfn_state_machine")
    assert machine.body["definition"] == (
        "${jsonencode(jsondecode(templatefile(each.value.template, local.definition_values)))}"
    )
    for name in ("pipeline", "model"):
        template = (REPOSITORY_ROOT / "asl" / f"{name}.asl.json").read_text(encoding="utf-8")
        for placeholder in placeholders(template):
            if placeholder.endswith("_function_arn"):
                continue  # built from the steps' function ARNs by a for expression
            assert re.search(rf"\b{placeholder}\s*=", definition_values), placeholder


def test_glue_version_runs_the_spark_the_local_runtime_pins() -> None:
    # Glue 5.0 ships Spark 3.5.4 (AWS Glue release notes).
    glue_spark = {"5.0": "3.5.4", "4.0": "3.3.0"}
    main = REPOSITORY_ROOT / "modules" / "glue_job" / "main.tf"
    job = next(b for b in blocks("resource", [main]) if b.labels[0] == "aws_glue_job")
    pyproject = tomllib.loads((REPOSITORY_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins = [d for extra in pyproject["project"]["optional-dependencies"].values() for d in extra]
    pyspark = next(d for d in pins if d.replace(" ", "").startswith("pyspark=="))
    spark = glue_spark[str(unquote(job.body["glue_version"]))]

    assert pyspark.replace(" ", "") == f"pyspark=={spark}"


def test_glue_job_arguments_follow_the_contract() -> None:
    main = REPOSITORY_ROOT / "modules" / "glue_job" / "main.tf"
    job = next(b for b in blocks("resource", [main]) if b.labels[0] == "aws_glue_job")
    arguments = {unquote(k): unquote(v) for k, v in job.body["default_arguments"].items()}

    # A re-run of a window must read it again: no bookmarks.
    assert arguments["--job-bookmark-option"] == "job-bookmark-disable"
    # Terraform names the job's own arguments itself (it cannot read Python): they are the
    # ones etl_lambdas.sources builds for the Glue script.
    glue_own = {"--TempDir", "--enable-metrics", "--job-language", "--job-bookmark-option"}
    declared = default_job_arguments({"sources": []}, raw_root="", ods_root="", time_zone="UTC")
    assert set(arguments) - glue_own == set(declared)


def test_the_glue_job_passes_no_argument_its_glue_version_dropped() -> None:
    """Glue 5.0 logs every job in real time and has no continuous-logging arguments (AWS Glue
    Developer Guide, "Migrating AWS Glue for Spark jobs to AWS Glue version 5.0", "Logging
    behavior changes in AWS Glue 5.0"; "Enabling continuous logging for AWS Glue 4.0 and
    earlier jobs" lists them)."""
    main = REPOSITORY_ROOT / "modules" / "glue_job" / "main.tf"
    job = next(b for b in blocks("resource", [main]) if b.labels[0] == "aws_glue_job")
    arguments = {unquote(k) for k in job.body["default_arguments"]}
    continuous_logging = {
        "--enable-continuous-cloudwatch-log",
        "--enable-continuous-log-filter",
        "--continuous-log-logGroup",
        "--continuous-log-logStreamPrefix",
        "--continuous-log-conversionPattern",
    }
    assert float(unquote(job.body["glue_version"])) >= 5.0
    assert not arguments & continuous_logging


def _policy_documents() -> list[Block]:
    return [b for b in blocks("data") if b.labels[0] == "aws_iam_policy_document"]


def test_no_iam_action_wildcards() -> None:
    documents = _policy_documents()
    assert len(documents) > 10
    for document in documents:
        for statement in policy_statements(document.body):
            assert "not_actions" not in statement, document.where
            for action in statement["actions"]:
                assert _ACTION.match(str(unquote(action))), f"{document.where}: action {action!r}"


def test_resource_star_only_where_a_comment_says_aws_requires_it() -> None:
    starred = 0
    for document in _policy_documents():
        for statement in policy_statements(document.body):
            resources = statement.get("resources", [])
            if isinstance(resources, list) and '"*"' in resources:
                starred += 1
                assert resources == ['"*"'], f"{document.where}: '*' mixed with other resources"
                assert "AWS requires" in comments(statement), (
                    f'{document.where}: resources = ["*"] without a comment saying AWS requires it'
                )
    assert starred >= 1


def test_policies_come_only_from_policy_documents() -> None:
    for path in terraform_files():
        text = path.read_text(encoding="utf-8")
        assert "<<" not in text, f"{path}: heredoc"
        assert not re.search(r"jsonencode\(\s*\{\s*Version\s*=\s*\"2012", text), (
            f"{path}: JSON policy"
        )
    for resource in blocks("resource"):
        for argument in ("policy", "assume_role_policy"):
            if argument in resource.body:
                value = resource.body[argument]
                assert value.startswith("${data.aws_iam_policy_document."), resource.where


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    ensure_schema()
    return load_schema()


def test_every_taggable_resource_gets_the_tags(schema: dict[str, Any]) -> None:
    for resource in blocks("resource"):
        if resource.path.parent == REPOSITORY_ROOT:
            continue
        attributes = schema["resource_schemas"][resource.labels[0]]["block"]["attributes"]
        if "tags" in attributes:
            assert "var.tags" in str(resource.body.get("tags", "")), f"{resource.where}: no tags"


def test_the_readme_tables_of_inputs_and_outputs_are_made_from_the_terraform() -> None:
    text = (REPOSITORY_ROOT / "README.md").read_text(encoding="utf-8")
    assert readme_with_tables(text) == text, "run python -m tools.readme_terraform"

    edited = text.replace("| AWS region to deploy to. |", "| The region. |")
    assert edited != text
    assert readme_with_tables(edited) == text
