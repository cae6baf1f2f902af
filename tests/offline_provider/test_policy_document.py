"""aws_iam_policy_document rendered as terraform-provider-aws 6.x renders it.

The expected documents are the provider's own acceptance-test fixtures
(internal/service/iam/policy_document_data_source_test.go in hashicorp/terraform-provider-aws,
the 5.x/6.x version, whose `json` omits empty Sids): the configuration of each fixture is
transcribed into the decoded form Terraform hands the provider, the expected text is
compared byte for byte where the provider's test does (TestCheckResourceAttr) and as
parsed JSON where it only checks equivalence (CheckResourceAttrEquivalentJSON).
"""

from __future__ import annotations

import json
import random
import zlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tools.offline_aws_provider.policy_document import (
    PolicyDocumentError,
    encode_go_json,
    render,
    validate,
)
from tools.offline_aws_provider.values import UNKNOWN


def statement(**arguments: Any) -> dict[str, Any]:
    """A `statement` block as Terraform decodes it: every argument present, unset ones null."""
    block: dict[str, Any] = dict.fromkeys(
        ("sid", "effect", "actions", "not_actions", "resources", "not_resources")
    )
    block.update(principals=[], not_principals=[], condition=[])
    block.update(arguments)
    return block


def principal(kind: str, *identifiers: str) -> dict[str, Any]:
    return {"type": kind, "identifiers": list(identifiers)}


def condition(test: str, variable: str, *values: str) -> dict[str, Any]:
    return {"test": test, "variable": variable, "values": list(values)}


def document(*statements: dict[str, Any], **arguments: Any) -> dict[str, Any]:
    config: dict[str, Any] = dict.fromkeys(
        (
            "id",
            "override_json",
            "override_policy_documents",
            "policy_id",
            "source_json",
            "source_policy_documents",
            "version",
        )
    )
    config["statement"] = list(statements)
    config.update(arguments)
    return config


def json_of(*statements: dict[str, Any], **arguments: Any) -> str:
    return str(render(document(*statements, **arguments))["json"])


# --- TestAccIAMPolicyDocumentDataSource_basic ----------------------------------------------

BASIC = document(
    statement(
        sid="1",
        actions=["s3:ListAllMyBuckets", "s3:GetBucketLocation"],
        resources=["arn:aws:s3:::*"],
    ),
    statement(
        actions=["s3:ListBucket"],
        resources=["arn:aws:s3:::foo"],
        condition=[condition("StringLike", "s3:prefix", "home/", "", "home/&{aws:username}/")],
        not_principals=[principal("AWS", "arn:blahblah:example")],
    ),
    statement(
        actions=["s3:*"],
        resources=[
            "arn:aws:s3:::foo/home/&{aws:username}",
            "arn:aws:s3:::foo/home/&{aws:username}/*",
        ],
        principals=[principal("AWS", "arn:blahblah:example")],
    ),
    statement(effect="Deny", not_actions=["s3:*"], not_resources=["arn:aws:s3:::*"]),
    statement(effect="Allow", actions=["kinesis:*"], principals=[principal("AWS", "*")]),
    statement(effect="Allow", actions=["firehose:*"], principals=[principal("*", "*")]),
    policy_id="policy_id",
)

BASIC_JSON = """{
  "Version": "2012-10-17",
  "Id": "policy_id",
  "Statement": [
    {
      "Sid": "1",
      "Effect": "Allow",
      "Action": [
        "s3:ListAllMyBuckets",
        "s3:GetBucketLocation"
      ],
      "Resource": "arn:aws:s3:::*"
    },
    {
      "Effect": "Allow",
      "Action": "s3:ListBucket",
      "Resource": "arn:aws:s3:::foo",
      "NotPrincipal": {
        "AWS": "arn:blahblah:example"
      },
      "Condition": {
        "StringLike": {
          "s3:prefix": [
            "home/",
            "",
            "home/${aws:username}/"
          ]
        }
      }
    },
    {
      "Effect": "Allow",
      "Action": "s3:*",
      "Resource": [
        "arn:aws:s3:::foo/home/${aws:username}/*",
        "arn:aws:s3:::foo/home/${aws:username}"
      ],
      "Principal": {
        "AWS": "arn:blahblah:example"
      }
    },
    {
      "Effect": "Deny",
      "NotAction": "s3:*",
      "NotResource": "arn:aws:s3:::*"
    },
    {
      "Effect": "Allow",
      "Action": "kinesis:*",
      "Principal": {
        "AWS": "*"
      }
    },
    {
      "Effect": "Allow",
      "Action": "firehose:*",
      "Principal": "*"
    }
  ]
}"""

BASIC_MINIFIED = (
    '{"Version":"2012-10-17","Id":"policy_id","Statement":[{"Sid":"1","Effect":"Allow",'
    '"Action":["s3:ListAllMyBuckets","s3:GetBucketLocation"],"Resource":"arn:aws:s3:::*"},'
    '{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::foo",'
    '"NotPrincipal":{"AWS":"arn:blahblah:example"},'
    '"Condition":{"StringLike":{"s3:prefix":["home/","","home/${aws:username}/"]}}},'
    '{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::foo/home/${aws:username}/*",'
    '"arn:aws:s3:::foo/home/${aws:username}"],"Principal":{"AWS":"arn:blahblah:example"}},'
    '{"Effect":"Deny","NotAction":"s3:*","NotResource":"arn:aws:s3:::*"},'
    '{"Effect":"Allow","Action":"kinesis:*","Principal":{"AWS":"*"}},'
    '{"Effect":"Allow","Action":"firehose:*","Principal":"*"}]}'
)


def test_basic_fixture_json_and_minified_json() -> None:
    state = render(BASIC)
    assert state["json"] == BASIC_JSON
    assert state["minified_json"] == BASIC_MINIFIED


def test_id_is_the_crc32_of_the_indented_json() -> None:
    # The provider: d.SetId(strconv.Itoa(create.StringHashcode(jsonString))).
    state = render(BASIC)
    assert state["id"] == str(zlib.crc32(BASIC_JSON.encode()))


def test_state_echoes_the_configuration_with_the_schema_defaults() -> None:
    state = render(document(statement(actions=["s3:GetObject"])))
    assert state["version"] == "2012-10-17"
    assert state["policy_id"] is None
    assert state["source_policy_documents"] is None
    assert state["statement"] == [
        {
            "actions": ["s3:GetObject"],
            "condition": [],
            "effect": "Allow",
            "not_actions": [],
            "not_principals": [],
            "not_resources": [],
            "principals": [],
            "resources": [],
            "sid": "",
        }
    ]


# --- conditions -----------------------------------------------------------------------------


def test_single_condition_value_is_a_string() -> None:
    # TestAccIAMPolicyDocumentDataSource_singleConditionValue
    rendered = json_of(
        statement(
            effect="Deny",
            principals=[principal("AWS", "*")],
            actions=["elasticfilesystem:*"],
            resources=["*"],
            condition=[condition("Bool", "aws:SecureTransport", "false")],
        )
    )
    assert rendered == (
        '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {\n      "Effect": "Deny",\n'
        '      "Action": "elasticfilesystem:*",\n      "Resource": "*",\n'
        '      "Principal": {\n        "AWS": "*"\n      },\n      "Condition": {\n'
        '        "Bool": {\n          "aws:SecureTransport": "false"\n        }\n      }\n'
        "    }\n  ]\n}"
    )


def test_condition_keys_are_sorted_like_a_go_map() -> None:
    # TestAccIAMPolicyDocumentDataSource_multipleConditionKeys (equivalent JSON); the
    # provider marshals a map, so the keys come out sorted.
    rendered = json_of(
        statement(
            sid="AWSCloudTrailWrite20150319",
            effect="Allow",
            principals=[principal("Service", "cloudtrail.amazonaws.com")],
            actions=["s3:PutObject"],
            resources=["*"],
            condition=[
                condition("StringEquals", "s3:x-amz-acl", "bucket-owner-full-control"),
                condition("StringEquals", "aws:SourceArn", "some-other-value"),
            ],
        )
    )
    keys = list(json.loads(rendered)["Statement"][0]["Condition"]["StringEquals"])
    assert keys == ["aws:SourceArn", "s3:x-amz-acl"]


def test_conditions_with_the_same_test_and_variable_merge_their_values() -> None:
    # TestAccIAMPolicyDocumentDataSource_duplicateConditionKeys
    rendered = json_of(
        statement(
            sid="DuplicateConditionTest",
            effect="Allow",
            principals=[principal("Service", "cloudtrail.amazonaws.com")],
            actions=["s3:PutObject"],
            resources=["*"],
            condition=[
                condition("StringEquals", "s3:prefix", "one/", "two/"),
                condition("StringEquals", "s3:prefix", "three/"),
            ],
        )
    )
    values = json.loads(rendered)["Statement"][0]["Condition"]["StringEquals"]["s3:prefix"]
    assert values == ["one/", "two/", "three/"]


def test_condition_values_escape_html_as_go_does() -> None:
    rendered = render(
        document(statement(condition=[condition("StringLike", "aws:Referer", "a<b>&c")]))
    )
    assert '"a\\u003cb\\u003e\\u0026c"' in rendered["json"]
    assert '"a\\u003cb\\u003e\\u0026c"' in rendered["minified_json"]


# --- principals -----------------------------------------------------------------------------


def test_principal_blocks_of_one_type_concatenate_in_the_sdk_set_order() -> None:
    # TestAccIAMPolicyDocumentDataSource_StatementPrincipalIdentifiers_stringAndSlice
    rendered = json_of(
        statement(
            actions=["*"],
            resources=["*"],
            sid="StatementPrincipalIdentifiersStringAndSlice",
            principals=[
                principal("AWS", "arn:aws:iam::111111111111:root"),
                principal(
                    "AWS", "arn:aws:iam::222222222222:root", "arn:aws:iam::333333333333:root"
                ),
            ],
        )
    )
    assert json.loads(rendered)["Statement"][0]["Principal"]["AWS"] == [
        "arn:aws:iam::111111111111:root",
        "arn:aws:iam::333333333333:root",
        "arn:aws:iam::222222222222:root",
    ]


@pytest.mark.parametrize(
    ("partition", "expected_accounts"),
    [
        # ..._multiplePrincipals and ..._multiplePrincipalsGov: the order follows the
        # CRC-32 of the blocks, so the partition in the ARNs changes it.
        ("aws", ["333333333333", "444444444444", "222222222222", "111111111111"]),
        ("aws-us-gov", ["333333333333", "222222222222", "111111111111", "444444444444"]),
    ],
)
def test_multiple_principal_blocks_follow_the_hash_order(
    partition: str, expected_accounts: list[str]
) -> None:
    def root(account: str) -> str:
        return f"arn:{partition}:iam::{account}:root"

    rendered = json_of(
        statement(
            actions=["*"],
            resources=["*"],
            sid="StatementPrincipalIdentifiersStringAndSlice",
            principals=[
                principal("AWS", root("111111111111"), root("222222222222")),
                principal("AWS", root("333333333333")),
                principal("AWS", root("444444444444")),
            ],
        )
    )
    principals = json.loads(rendered)["Statement"][0]["Principal"]["AWS"]
    assert principals == [root(account) for account in expected_accounts]


def test_only_a_wildcard_of_type_wildcard_becomes_the_bare_star() -> None:
    everyone = json.loads(json_of(statement(principals=[principal("*", "*")])))
    any_aws = json.loads(json_of(statement(principals=[principal("AWS", "*")])))
    assert everyone["Statement"][0]["Principal"] == "*"
    assert any_aws["Statement"][0]["Principal"] == {"AWS": "*"}


def test_principal_types_are_sorted_and_identifiers_descending() -> None:
    rendered = json_of(
        statement(
            principals=[
                principal("Service", "lambda.amazonaws.com", "glue.amazonaws.com"),
                principal("AWS", "arn:aws:iam::111111111111:root"),
            ]
        )
    )
    assert json.loads(rendered)["Statement"][0]["Principal"] == {
        "AWS": "arn:aws:iam::111111111111:root",
        "Service": ["lambda.amazonaws.com", "glue.amazonaws.com"],
    }


# --- merging documents ------------------------------------------------------------------------


def test_source_documents_then_statements_in_order() -> None:
    # TestAccIAMPolicyDocumentDataSource_sourceList
    policy_a = json_of(
        statement(sid="", effect="Allow", actions=["foo:ActionOne"]),
        statement(sid="validSidOne", effect="Allow", actions=["bar:ActionOne"]),
    )
    policy_b = json_of(statement(sid="validSidTwo", effect="Deny", actions=["foo:ActionTwo"]))
    policy_c = json_of(statement(sid="", effect="Allow", actions=["bar:ActionTwo"]))
    rendered = json_of(version="2012-10-17", source_policy_documents=[policy_a, policy_b, policy_c])
    assert rendered == (
        '{\n  "Version": "2012-10-17",\n  "Statement": [\n'
        '    {\n      "Effect": "Allow",\n      "Action": "foo:ActionOne"\n    },\n'
        '    {\n      "Sid": "validSidOne",\n      "Effect": "Allow",\n'
        '      "Action": "bar:ActionOne"\n    },\n'
        '    {\n      "Sid": "validSidTwo",\n      "Effect": "Deny",\n'
        '      "Action": "foo:ActionTwo"\n    },\n'
        '    {\n      "Effect": "Allow",\n      "Action": "bar:ActionTwo"\n    }\n  ]\n}'
    )


def test_a_statement_replaces_the_source_statement_with_its_sid() -> None:
    # TestAccIAMPolicyDocumentDataSource_sourceConflicting
    source = json_of(statement(sid="SourceJSONTestConflicting", actions=["iam:*"], resources=["*"]))
    rendered = json_of(
        statement(sid="SourceJSONTestConflicting", actions=["*"], resources=["*"]),
        source_policy_documents=[source],
    )
    assert rendered == (
        '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {\n'
        '      "Sid": "SourceJSONTestConflicting",\n      "Effect": "Allow",\n'
        '      "Action": "*",\n      "Resource": "*"\n    }\n  ]\n}'
    )


def test_the_basic_document_as_a_source_then_a_statement() -> None:
    # TestAccIAMPolicyDocumentDataSource_source: identifiers re-sorted descending.
    with_two_identifiers = {**BASIC, "statement": list(BASIC["statement"])}
    with_two_identifiers["statement"][2] = {
        **BASIC["statement"][2],
        "principals": [principal("AWS", "arn:blahblah:example", "arn:blahblahblah:example")],
    }
    rendered = json.loads(
        json_of(
            statement(sid="SourceJSONTest1", actions=["*"], resources=["*"]),
            source_policy_documents=[render(with_two_identifiers)["json"]],
        )
    )
    assert rendered["Id"] == "policy_id"
    assert rendered["Statement"][2]["Principal"] == {
        "AWS": ["arn:blahblahblah:example", "arn:blahblah:example"]
    }
    assert rendered["Statement"][-1] == {
        "Sid": "SourceJSONTest1",
        "Effect": "Allow",
        "Action": "*",
        "Resource": "*",
    }


def test_overrides_replace_by_sid_in_place_and_append_the_rest() -> None:
    # TestAccIAMPolicyDocumentDataSource_override and _overrideList
    override = json_of(statement(sid="SidToOverwrite", actions=["s3:*"], resources=["*"]))
    rendered = json_of(
        statement(actions=["ec2:*"], resources=["*"]),
        statement(
            sid="SidToOverwrite",
            actions=["s3:*"],
            resources=["arn:aws:s3:::somebucket", "arn:aws:s3:::somebucket/*"],
        ),
        override_policy_documents=[override],
    )
    assert json.loads(rendered)["Statement"] == [
        {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
        {"Sid": "SidToOverwrite", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
    ]
    policy_a = json_of(
        statement(sid="", effect="Allow", actions=["foo:ActionOne"]),
        statement(sid="overrideSid", effect="Allow", actions=["bar:ActionOne"]),
    )
    policy_b = json_of(statement(sid="validSid", effect="Deny", actions=["foo:ActionTwo"]))
    policy_c = json_of(statement(sid="overrideSid", effect="Deny", actions=["bar:ActionOne"]))
    listed = json_of(override_policy_documents=[policy_a, policy_b, policy_c])
    assert json.loads(listed)["Statement"] == [
        {"Effect": "Allow", "Action": "foo:ActionOne"},
        {"Sid": "overrideSid", "Effect": "Deny", "Action": "bar:ActionOne"},
        {"Sid": "validSid", "Effect": "Deny", "Action": "foo:ActionTwo"},
    ]


@pytest.mark.parametrize(
    ("source_sid", "expected"),
    [
        # _noStatementMerge: a Sid-less source statement stays, the override appends.
        (
            "",
            [
                {"Effect": "Allow", "Action": "ec2:DescribeAccountAttributes", "Resource": "*"},
                {
                    "Sid": "OverridePlaceholder",
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": "*",
                },
            ],
        ),
        # _noStatementOverride: the same Sid is replaced.
        (
            "OverridePlaceholder",
            [
                {
                    "Sid": "OverridePlaceholder",
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": "*",
                }
            ],
        ),
    ],
)
def test_source_and_override_without_statements(
    source_sid: str, expected: list[dict[str, Any]]
) -> None:
    source = json_of(
        statement(sid=source_sid, actions=["ec2:DescribeAccountAttributes"], resources=["*"])
    )
    override = json_of(
        statement(sid="OverridePlaceholder", actions=["s3:GetObject"], resources=["*"])
    )
    rendered = json_of(source_policy_documents=[source], override_policy_documents=[override])
    assert json.loads(rendered)["Statement"] == expected


def test_empty_source_and_override_documents_are_skipped() -> None:
    # _sourcePolicyValidJSON / _overridePolicyDocumentValidJSON with "".
    assert json_of(source_policy_documents=[""]) == '{\n  "Version": "2012-10-17"\n}'
    assert json_of(override_policy_documents=[""]) == '{\n  "Version": "2012-10-17"\n}'


def test_id_and_version_come_from_the_documents_merged_last_and_greatest() -> None:
    source = json.dumps({"Version": "2008-10-17", "Id": "from-source", "Statement": []})
    override = json.dumps({"Id": "from-override"})
    rendered = json.loads(json_of(policy_id="configured", source_policy_documents=[source]))
    assert rendered == {"Version": "2012-10-17", "Id": "configured"}
    overridden = json.loads(
        json_of(
            policy_id="configured",
            source_policy_documents=[source],
            override_policy_documents=[override],
        )
    )
    assert overridden["Id"] == "from-override"


def test_dynamic_blocks_are_statements_like_any_other() -> None:
    keys = ["arn:aws:kms:eu-west-1:111111111111:key/a", "arn:aws:kms:eu-west-1:111111111111:key/b"]
    generated = [
        statement(sid=f"UseKey{index}", actions=["kms:Decrypt"], resources=[key])
        for index, key in enumerate(keys)
    ]
    rendered = json.loads(json_of(*generated))
    assert [s["Sid"] for s in rendered["Statement"]] == ["UseKey0", "UseKey1"]
    assert [s["Resource"] for s in rendered["Statement"]] == keys


# --- source documents as Go decodes them --------------------------------------------------------


def test_source_condition_with_a_boolean_value() -> None:
    # TestAccIAMPolicyDocumentDataSource_conditionWithBoolValue (equivalent JSON)
    source = """{
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "RestrictAccessToSpecialTag",
            "Effect": "Deny",
            "Action": ["ec2:CreateTags", "ec2:DeleteTags"],
            "Resource": "arn:aws:ec2:*:*:vpc/*",
            "Condition": {
                "Null": {"aws:ResourceTag/SpecialTag": false},
                "StringLike": {
                    "aws:ResourceAccount": ["123456"],
                    "aws:PrincipalArn": "arn:aws:iam::*:role/AWSAFTExecution"
                }
            }
        }]
    }"""
    rendered = json.loads(json_of(source_policy_documents=[source]))
    assert rendered["Statement"][0] == {
        "Sid": "RestrictAccessToSpecialTag",
        "Effect": "Deny",
        "Action": ["ec2:CreateTags", "ec2:DeleteTags"],
        "Resource": "arn:aws:ec2:*:*:vpc/*",
        "Condition": {
            "Null": {"aws:ResourceTag/SpecialTag": "false"},
            "StringLike": {
                "aws:PrincipalArn": "arn:aws:iam::*:role/AWSAFTExecution",
                "aws:ResourceAccount": "123456",
            },
        },
    }


def test_source_documents_decode_like_go_structs() -> None:
    source = json.dumps(
        {
            "version": "2012-10-17",
            "statement": [
                {
                    "sid": "Lower",
                    "effect": "Allow",
                    "action": ["b:Two", "a:One"],
                    "principal": "anyone",
                    "condition": {"NumericLessThan": {"s3:max-keys": 10}},
                    "Unknown": "ignored",
                }
            ],
        }
    )
    rendered = json.loads(json_of(source_policy_documents=[source]))
    # Keys match case-insensitively, a list Action keeps its order, any string principal
    # means everyone, a numeric condition value is dropped (with its now empty condition).
    assert rendered["Statement"] == [
        {"Sid": "Lower", "Effect": "Allow", "Action": ["b:Two", "a:One"], "Principal": "*"}
    ]


def test_numbers_in_source_documents_are_written_as_go_float64() -> None:
    assert encode_go_json([1.0, 100.0, 0.00001, 1.5e-7, 1e21, 12.5, -0.0]) == (
        "[1,100,0.00001,1.5e-7,1e+21,12.5,-0]"
    )


# --- errors -----------------------------------------------------------------------------------


def test_duplicate_sid_in_statements() -> None:
    # TestAccIAMPolicyDocumentDataSource_duplicateSid
    with pytest.raises(PolicyDocumentError) as raised:
        json_of(
            statement(sid="1", actions=["ec2:DescribeAccountAttributes"], resources=["*"]),
            statement(sid="1", actions=["s3:GetObject"], resources=["*"]),
        )
    assert str(raised.value) == (
        "writing IAM Policy Document: duplicate Sid (1). "
        "Remove the Sid or ensure the Sid is unique."
    )


def test_duplicate_blank_sids_are_allowed() -> None:
    rendered = json_of(
        statement(sid="", actions=["ec2:DescribeAccountAttributes"], resources=["*"]),
        statement(sid="", actions=["s3:GetObject"], resources=["*"]),
    )
    assert json.loads(rendered)["Statement"] == [
        {"Effect": "Allow", "Action": "ec2:DescribeAccountAttributes", "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
    ]


def test_duplicate_sid_across_source_documents() -> None:
    # TestAccIAMPolicyDocumentDataSource_sourceListConflicting
    policy_a = json_of(
        statement(sid="", actions=["foo:ActionOne"]),
        statement(sid="conflictSid", actions=["bar:ActionOne"]),
    )
    policy_b = json_of(statement(sid="validSid", effect="Deny", actions=["foo:ActionTwo"]))
    policy_c = json_of(statement(sid="conflictSid", actions=["bar:ActionTwo"]))
    with pytest.raises(PolicyDocumentError) as raised:
        json_of(source_policy_documents=[policy_a, policy_b, policy_c])
    assert str(raised.value) == (
        "writing IAM Policy Document: merging source document 2: duplicate Sid (conflictSid) "
        "in source_policy_documents (statement 0). Remove the Sid or ensure Sids are unique."
    )


@pytest.mark.parametrize(
    ("text", "go_error"),
    [
        ("{", "unexpected end of JSON input"),
        ("x", "invalid character 'x' looking for beginning of value"),
        ("{x}", "invalid character 'x' looking for beginning of object key string"),
        ('{"a" 1}', "invalid character '1' after object key"),
        ('{"a": 1 "b": 2}', "invalid character '\"' after object key:value pair"),
        ('{"a": [1 2]}', "invalid character '2' after array element"),
        ("{} x", "invalid character 'x' after top-level value"),
        ('{"Statement": {}}', "json: cannot unmarshal object into Go struct field "
         "IAMPolicyDoc.Statement of type []*iam.IAMPolicyStatement"),
    ],
)  # fmt: skip
def test_invalid_source_json_fails_the_read_with_gos_error(text: str, go_error: str) -> None:
    with pytest.raises(PolicyDocumentError) as raised:
        json_of(source_policy_documents=[text])
    assert str(raised.value) == (
        f"writing IAM Policy Document: merging source document 0: {go_error}"
    )
    with pytest.raises(PolicyDocumentError, match="merging override document 0: "):
        json_of(override_policy_documents=[text])


def test_validation_reports_invalid_json_known_at_validate_time() -> None:
    # TestAccIAMPolicyDocumentDataSource_sourcePolicyValidJSON / _overridePolicyDocumentValidJSON
    assert validate(document(source_policy_documents=["{"])) == [
        '"source_policy_documents.0" contains an invalid JSON: unexpected end of JSON input'
    ]
    assert validate(document(override_policy_documents=["", "{"])) == [
        '"override_policy_documents.1" contains an invalid JSON: unexpected end of JSON input'
    ]
    assert validate(document(source_policy_documents=[UNKNOWN])) == []


def test_validation_of_effect_version_and_sid() -> None:
    config = document(
        statement(sid="Not-Alphanumeric", effect="Permit", actions=["s3:GetObject"]),
        version="2020-01-01",
    )
    assert validate(config) == [
        'expected version to be one of ["2008-10-17" "2012-10-17"], got 2020-01-01',
        'expected statement.0.effect to be one of ["Allow" "Deny"], got Permit',
        "invalid value for statement.0.sid (must only include alphanumeric characters)",
    ]
    assert validate(BASIC) == []


def test_version_2008_10_17() -> None:
    # TestAccIAMPolicyDocumentDataSource_version20081017
    rendered = json_of(statement(actions=["ec2:*"], resources=["*"]), version="2008-10-17")
    assert rendered == (
        '{\n  "Version": "2008-10-17",\n  "Statement": [\n    {\n      "Effect": "Allow",\n'
        '      "Action": "ec2:*",\n      "Resource": "*"\n    }\n  ]\n}'
    )


@pytest.mark.parametrize(
    ("arguments", "prefix"),
    [
        ({"condition": [condition("StringLike", "s3:prefix", "home/&{aws:username}/")]},
         "reading condition: reading values: "),
        ({"not_principals": [principal("AWS", "&{aws:username}")]},
         "reading not_principals: reading identifiers: "),
        ({"principals": [principal("AWS", "&{aws:username}")]},
         "reading principals: reading identifiers: "),
        ({"resources": ["arn:aws:s3:::foo/home/&{aws:username}"]}, "reading resources: "),
        ({"not_resources": ["arn:aws:s3:::foo/home/&{aws:username}"]}, "reading not_resources: "),
    ],
)  # fmt: skip
def test_policy_variables_are_refused_in_version_2008_10_17(
    arguments: dict[str, Any], prefix: str
) -> None:
    with pytest.raises(PolicyDocumentError) as raised:
        json_of(statement(actions=["*"], **arguments), version="2008-10-17")
    assert str(raised.value).startswith(prefix + "found &{ sequence in (")
    assert str(raised.value).endswith("), which is not supported in document version 2008-10-17")


def test_an_unknown_configuration_is_not_read() -> None:
    with pytest.raises(ValueError, match="only once its configuration is known"):
        render(document(statement(actions=[UNKNOWN])))


# --- properties -------------------------------------------------------------------------------

ACTIONS = st.sampled_from(["s3:GetObject", "s3:PutObject", "glue:GetTable", "kms:Decrypt", "*"])
ARNS = st.sampled_from(
    [f"arn:aws:iam::{n}:root" for n in ("111111111111", "222222222222", "333333333333")]
    + ["lambda.amazonaws.com", "states.amazonaws.com", "*"]
)
PRINCIPALS = st.builds(
    principal,
    st.sampled_from(["AWS", "Service", "*"]),
    *[ARNS] * 2,
)
CONDITIONS = st.builds(
    condition,
    st.sampled_from(["StringEquals", "ArnLike"]),
    st.sampled_from(["aws:SourceAccount", "aws:SourceArn"]),
    st.text(alphabet="ab&<:/*", max_size=6),
)
STATEMENTS = st.builds(
    statement,
    actions=st.lists(ACTIONS, unique=True, max_size=4),
    resources=st.lists(ARNS, unique=True, max_size=4),
    principals=st.lists(PRINCIPALS, max_size=3, unique_by=json.dumps),
    condition=st.lists(CONDITIONS, max_size=3, unique_by=json.dumps),
)


def shuffled_sets(config: dict[str, Any], seed: int) -> dict[str, Any]:
    """The same configuration with every set in another order (Terraform's is arbitrary)."""
    chooser = random.Random(seed)

    def shuffle(items: list[Any]) -> list[Any]:
        return chooser.sample(items, len(items))

    statements = [
        {
            **block,
            "actions": shuffle(block["actions"]),
            "resources": shuffle(block["resources"]),
            "principals": shuffle(
                [{**p, "identifiers": shuffle(p["identifiers"])} for p in block["principals"]]
            ),
            "condition": shuffle(block["condition"]),
        }
        for block in config["statement"]
    ]
    return {**config, "statement": statements}


@given(st.lists(STATEMENTS, max_size=4), st.integers(min_value=0, max_value=2**16))
def test_rendering_does_not_depend_on_set_order(statements: list[Any], seed: int) -> None:
    config = document(*statements)
    rendered, reordered = render(config), render(shuffled_sets(config, seed))
    for attribute in ("json", "minified_json", "id"):
        assert reordered[attribute] == rendered[attribute]


@given(st.lists(STATEMENTS, max_size=4))
def test_json_and_minified_json_are_the_same_document(statements: list[Any]) -> None:
    state = render(document(*statements))
    assert json.loads(state["json"]) == json.loads(state["minified_json"])
    assert state["id"] == str(zlib.crc32(state["json"].encode()))


@given(st.lists(STATEMENTS, max_size=4))
def test_a_rendered_document_renders_unchanged_once_normalised(statements: list[Any]) -> None:
    # Fed back as a source document, a rendering is stable after one round (the provider
    # re-sorts concatenated principals of one type, so the first round may reorder them).
    once = json_of(source_policy_documents=[json_of(*statements)])
    assert json_of(source_policy_documents=[once]) == once
