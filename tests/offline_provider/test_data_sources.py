"""The offline answers of the data sources the configuration reads."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tools.offline_aws_provider.data_sources import DataSourceError, read, validate
from tools.offline_aws_provider.environment import ProviderEnv
from tools.offline_aws_provider.schema import ProviderSchema
from tools.offline_aws_provider.values import UNKNOWN

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
IRELAND = ProviderEnv(account_id="111122223333", region="eu-west-1")
BEIJING = ProviderEnv(account_id="111122223333", region="cn-north-1", partition="aws-cn")


def terraform_block_types(kind: str) -> set[str]:
    """`data` or `resource` types declared in the repository's Terraform."""
    declared = re.compile(rf'^{kind} "([a-z0-9_]+)"', re.M)
    files = [
        path
        for path in REPOSITORY_ROOT.rglob("*.tf")
        if not any(part.startswith(".") for part in path.relative_to(REPOSITORY_ROOT).parts)
    ]
    return {match for path in files for match in declared.findall(path.read_text())}


def test_every_data_source_of_the_configuration_is_answered() -> None:
    configured = terraform_block_types("data")
    assert "aws_iam_policy_document" in configured
    for type_name in configured:
        config: dict[str, Any] = {"statement": []} if type_name.endswith("_document") else {}
        assert read(type_name, config, IRELAND)["id"]


def test_an_unsupported_data_source_is_named() -> None:
    with pytest.raises(DataSourceError) as raised:
        read("aws_vpc", {}, IRELAND)
    assert raised.value.summary == "Unsupported data source aws_vpc"
    assert "aws_caller_identity" in raised.value.detail


def test_a_configuration_unknown_until_apply_is_not_read() -> None:
    with pytest.raises(DataSourceError, match="Cannot read aws_region yet"):
        read("aws_region", {"region": UNKNOWN}, IRELAND)


def test_caller_identity_is_the_accounts_root() -> None:
    assert read("aws_caller_identity", {"id": None}, IRELAND) == {
        "account_id": "111122223333",
        "arn": "arn:aws:iam::111122223333:root",
        "id": "111122223333",
        "user_id": "111122223333",
    }
    assert read("aws_caller_identity", {}, BEIJING)["arn"] == "arn:aws-cn:iam::111122223333:root"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        # https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/partitions.html
        (IRELAND, ("aws", "amazonaws.com", "com.amazonaws")),
        (BEIJING, ("aws-cn", "amazonaws.com.cn", "cn.com.amazonaws")),
        (
            ProviderEnv("111122223333", "us-gov-west-1", "aws-us-gov"),
            ("aws-us-gov", "amazonaws.com", "com.amazonaws"),
        ),
    ],
)
def test_partition(env: ProviderEnv, expected: tuple[str, str, str]) -> None:
    partition, dns_suffix, reverse_dns_prefix = expected
    assert read("aws_partition", {"id": None}, env) == {
        "dns_suffix": dns_suffix,
        "id": partition,
        "partition": partition,
        "reverse_dns_prefix": reverse_dns_prefix,
    }


def test_region_defaults_to_the_providers() -> None:
    # Names and EC2 endpoints: https://docs.aws.amazon.com/general/latest/gr/ec2-service.html
    config = {"endpoint": None, "id": None, "name": None, "region": None}
    assert read("aws_region", config, IRELAND) == {
        "description": "Europe (Ireland)",
        "endpoint": "ec2.eu-west-1.amazonaws.com",
        "id": "eu-west-1",
        "name": "eu-west-1",
        "region": "eu-west-1",
    }


@pytest.mark.parametrize(
    "config",
    [
        {"region": "us-east-1"},
        {"name": "us-east-1"},
        {"endpoint": "ec2.us-east-1.amazonaws.com"},
        {"endpoint": "ec2.us-east-1.amazonaws.com", "region": "us-east-1"},
    ],
)
def test_region_selected_by_its_arguments(config: dict[str, Any]) -> None:
    state = read("aws_region", config, IRELAND)
    assert (state["region"], state["description"]) == ("us-east-1", "US East (N. Virginia)")


def test_region_in_the_china_partition() -> None:
    state = read("aws_region", {}, BEIJING)
    assert state["endpoint"] == "ec2.cn-north-1.amazonaws.com.cn"
    assert state["description"] == "China (Beijing)"


@pytest.mark.parametrize(
    ("config", "summary", "detail"),
    [
        (
            {"region": "eu-west-9"},
            "finding Region by name",
            'region not found for name "eu-west-9"',
        ),
        (
            {"endpoint": "ec2.example.com"},
            "finding Region by endpoint",
            'region not found for endpoint "ec2.example.com"',
        ),
        (
            {"endpoint": "ec2.us-east-1.amazonaws.com", "name": "eu-west-1"},
            "multiple Regions matched",
            "use additional constraints to reduce matches to a single Region",
        ),
    ],
)
def test_region_errors(config: dict[str, Any], summary: str, detail: str) -> None:
    with pytest.raises(DataSourceError) as raised:
        read("aws_region", config, IRELAND)
    assert (raised.value.summary, raised.value.detail) == (summary, detail)


def test_policy_document_is_rendered_by_the_policy_module() -> None:
    config = {
        "statement": [
            {
                "sid": "AssumeRole",
                "actions": ["sts:AssumeRole"],
                "principals": [{"type": "Service", "identifiers": ["lambda.amazonaws.com"]}],
            }
        ]
    }
    state = read("aws_iam_policy_document", config, IRELAND)
    assert json.loads(state["json"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AssumeRole",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"Service": "lambda.amazonaws.com"},
            }
        ],
    }


def test_a_policy_document_failure_is_the_providers_diagnostic() -> None:
    statements = [{"sid": "Same", "actions": ["s3:GetObject"]}] * 2
    with pytest.raises(DataSourceError) as raised:
        read("aws_iam_policy_document", {"statement": statements}, IRELAND)
    assert raised.value.summary == (
        "writing IAM Policy Document: duplicate Sid (Same). "
        "Remove the Sid or ensure the Sid is unique."
    )
    assert raised.value.detail == ""


def test_validation_of_a_policy_document() -> None:
    errors = validate("aws_iam_policy_document", {"statement": [{"effect": "Permit"}]})
    assert [error.summary for error in errors] == [
        'expected statement.0.effect to be one of ["Allow" "Deny"], got Permit'
    ]
    assert validate("aws_region", {"region": "eu-west-1"}) == []


@pytest.mark.parametrize(
    "type_name",
    ["aws_caller_identity", "aws_iam_policy_document", "aws_partition", "aws_region"],
)
def test_a_state_has_exactly_the_attributes_of_the_schema(type_name: str) -> None:
    block = ProviderSchema.load().data_source_block(type_name)
    config = {"statement": [{"principals": [{"type": "AWS", "identifiers": ["*"]}]}]}
    state = read(type_name, config if type_name.endswith("_document") else {}, IRELAND)
    assert set(state) == set(block["attributes"]) | set(block.get("block_types", {}))
    for name, nested in block.get("block_types", {}).items():
        inner = nested["block"]
        expected = set(inner["attributes"]) | set(inner.get("block_types", {}))
        assert all(set(item) == expected for item in state[name])
