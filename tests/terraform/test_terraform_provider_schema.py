"""Every resource and data block against the AWS provider schema (cdktf-cdktf-provider-aws).

The schema is fetched by `make setup` (python -m tools.provider_schema); a test session
without it fetches it once (PyPI).
"""

from __future__ import annotations

from typing import Any

import pytest
from hcl_tree import REPOSITORY_ROOT

from tools.provider_schema import ensure_schema, extract_schema, load_schema
from tools.terraform_schema_check import check_text, check_tree


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    ensure_schema()
    return load_schema()


def test_schema_is_the_pinned_provider_major(schema: dict[str, Any]) -> None:
    assert schema["provider_version"].startswith("6.")
    assert {"aws_s3_bucket", "aws_sfn_state_machine", "aws_glue_crawler"} <= set(
        schema["resources"]
    )
    assert "aws_iam_policy_document" in schema["data_sources"]


def test_repository_terraform_matches_the_provider_schema(schema: dict[str, Any]) -> None:
    assert check_tree(REPOSITORY_ROOT, schema) == []


VALID = """
resource "aws_sns_topic" "this" {
  count      = 1
  name       = "alerts"
  depends_on = [aws_kms_key.this]
  provider   = aws.other

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  for_each = toset(["a"])
  bucket   = each.key

  dynamic "rule" {
    for_each = [1]
    content {
      id     = "expire"
      status = "Enabled"
      # comments are not arguments
      filter {}
      expiration {
        days = 1
      }
    }
  }
}

data "aws_iam_policy_document" "this" {
  statement {
    actions   = ["sns:Publish"]
    resources = ["arn"]
  }
}
"""


def test_valid_blocks_with_meta_arguments_and_dynamic_blocks_pass(schema: dict[str, Any]) -> None:
    assert check_text(VALID, schema) == []


@pytest.mark.parametrize(
    ("snippet", "problem"),
    [
        pytest.param(
            'resource "aws_sns_topic" "t" {\n  name = "a"\n  colour = "red"\n}\n',
            "aws_sns_topic.t: unknown argument 'colour'",
            id="unknown-argument",
        ),
        pytest.param(
            'resource "aws_glue_catalog_database" "d" {\n  description = "no name"\n}\n',
            "aws_glue_catalog_database.d: missing required argument 'name'",
            id="missing-required-argument",
        ),
        pytest.param(
            'resource "aws_sfn_state_machine" "m" {\n  definition = "{}"\n  role_arn = "r"\n'
            "  tracing {\n    enabled = true\n  }\n}\n",
            "aws_sfn_state_machine.m: unknown nested block 'tracing'",
            id="unknown-nested-block",
        ),
        pytest.param(
            'resource "aws_glue_crawler" "c" {\n  name = "c"\n  role = "r"\n  database_name = "d"\n'
            '  s3_target {\n    path = "s3://x/"\n    sample_sizes = 1\n  }\n}\n',
            "aws_glue_crawler.c.s3_target: unknown argument 'sample_sizes'",
            id="unknown-argument-in-nested-block",
        ),
        pytest.param(
            'resource "aws_glue_crawler" "c" {\n  name = "c"\n  role = "r"\n  database_name = "d"\n'
            "  s3_target {\n    exclusions = []\n  }\n}\n",
            "aws_glue_crawler.c.s3_target: missing required argument 'path'",
            id="missing-required-argument-in-nested-block",
        ),
        pytest.param(
            'resource "aws_lambda_function" "f" {\n  function_name = "f"\n  role = "r"\n'
            '  dynamic "tracing" {\n    for_each = []\n    content {}\n  }\n}\n',
            "aws_lambda_function.f: unknown nested block 'tracing' (dynamic)",
            id="unknown-dynamic-block",
        ),
        pytest.param(
            'resource "aws_sns_topic" "t" {\n  tags {\n    a = "b"\n  }\n}\n',
            "aws_sns_topic.t: unknown nested block 'tags' (it is an argument: use `=`)",
            id="argument-written-as-block",
        ),
        pytest.param(
            'resource "aws_s3_bukket" "b" {\n  bucket = "b"\n}\n',
            "aws_s3_bukket.b: unknown resource type 'aws_s3_bukket'",
            id="unknown-resource-type",
        ),
        pytest.param(
            'data "aws_iam_policy_documents" "p" {}\n',
            "data.aws_iam_policy_documents.p: unknown data source type 'aws_iam_policy_documents'",
            id="unknown-data-source-type",
        ),
    ],
)
def test_broken_blocks_fail_with_one_clear_problem(
    schema: dict[str, Any], snippet: str, problem: str
) -> None:
    assert check_text(snippet, schema, "main.tf") == [f"main.tf: {problem}"]


def _prop(name: str, terraform_name: str, type_: dict[str, Any], optional: bool) -> dict[str, Any]:
    registry = "https://registry.terraform.io/providers/hashicorp/aws/6.25.0/docs"
    link = f"{registry}/resources/thing#{terraform_name}"
    return {
        "name": name,
        "optional": optional,
        "type": type_,
        "docs": {"summary": f"Docs at {{@link {link} Thing#{terraform_name}}}."},
    }


def test_extract_schema_reads_types_arguments_blocks_and_required_flags() -> None:
    prefix = "@cdktf/provider-aws.thing."
    registry = "https://registry.terraform.io/providers/hashicorp/aws/6.25.0/docs"
    summary = "Represents a {@link " + registry + "/%s/thing aws_thing}."
    nested_list = {
        "union": {
            "types": [
                {"fqn": "cdktf.IResolvable"},
                {"collection": {"elementtype": {"fqn": prefix + "ThingRule"}, "kind": "array"}},
            ]
        }
    }
    assembly = {
        "types": {
            prefix + "Thing": {
                "kind": "class",
                "base": "cdktf.TerraformResource",
                "docs": {"summary": summary % "resources"},
                "initializer": {
                    "parameters": [{"name": "config", "type": {"fqn": prefix + "ThingConfig"}}]
                },
            },
            "@cdktf/provider-aws.dataThing.DataAwsThing": {
                "kind": "class",
                "base": "cdktf.TerraformDataSource",
                "docs": {"summary": summary % "data-sources"},
                "initializer": {
                    "parameters": [{"name": "config", "type": {"fqn": prefix + "ThingRule"}}]
                },
            },
            prefix + "ThingConfig": {
                "kind": "interface",
                "datatype": True,
                "properties": [
                    _prop("bucketName", "bucket_name", {"primitive": "string"}, optional=False),
                    # jsii renames clashing names; the docs link keeps Terraform's.
                    _prop("countAttribute", "count", {"primitive": "number"}, optional=True),
                    _prop("rule", "rule", nested_list, optional=True),
                ],
            },
            prefix + "ThingRule": {
                "kind": "interface",
                "datatype": True,
                "properties": [_prop("id", "id", {"primitive": "string"}, optional=False)],
            },
        }
    }

    schema = extract_schema(assembly)

    assert schema["provider_version"] == "6.25.0"
    thing = schema["structs"][schema["resources"]["aws_thing"]]
    assert thing["arguments"] == {"bucket_name": True, "count": False}
    assert thing["blocks"] == {"rule": {"struct": "thing.ThingRule", "required": False}}
    assert schema["structs"]["thing.ThingRule"] == {"arguments": {"id": True}, "blocks": {}}
    assert schema["data_sources"] == {"aws_thing": "thing.ThingRule"}
