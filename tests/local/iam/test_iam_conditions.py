"""Condition operators, as "IAM JSON policy elements: Condition operators" defines them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from etl_local.iam.conditions import (
    ConditionClause,
    ConditionError,
    ContextValue,
    clause_holds,
    conditions_hold,
    parse_operator,
)


def holds(operator: str, key: str, values: list[str], context: dict[str, ContextValue]) -> bool:
    return clause_holds(ConditionClause(operator, key, tuple(values)), context)


def test_string_operators() -> None:
    context: dict[str, ContextValue] = {"aws:principaltag/job-category": "iamuser-admin"}
    assert holds("StringEquals", "aws:PrincipalTag/job-category", ["iamuser-admin"], context)
    assert not holds("StringEquals", "aws:PrincipalTag/job-category", ["IAMUSER-ADMIN"], context)
    assert holds(
        "StringEqualsIgnoreCase", "aws:PrincipalTag/job-category", ["IAMUSER-ADMIN"], context
    )
    assert holds("StringLike", "aws:PrincipalTag/job-category", ["iamuser-*"], context)
    assert holds("StringNotLike", "aws:PrincipalTag/job-category", ["dev-*"], context)


def test_several_values_are_ored_and_negated_operators_nor_them() -> None:
    context: dict[str, ContextValue] = {"s3:prefix": "home/"}
    assert holds("StringEquals", "s3:prefix", ["", "home/"], context)
    assert not holds("StringNotEquals", "s3:prefix", ["", "home/"], context)
    assert holds("StringNotEquals", "s3:prefix", ["", "other/"], {"s3:prefix": "x"})


def test_several_keys_and_operators_are_anded() -> None:
    clauses = (
        ConditionClause("StringEquals", "aws:RequestedRegion", ("eu-west-1",)),
        ConditionClause("Bool", "aws:SecureTransport", ("true",)),
    )
    assert conditions_hold(
        clauses, {"aws:requestedregion": "eu-west-1", "aws:securetransport": "true"}
    )
    assert not conditions_hold(
        clauses, {"aws:requestedregion": "eu-west-1", "aws:securetransport": "false"}
    )


def test_a_missing_key_fails_positive_operators_and_passes_negated_ones() -> None:
    # "If the key ... is not present in the request context, the values do not match and the
    # condition is false. If the policy condition requires that the key is not matched, such
    # as StringNotLike or ArnNotLike, and the right key is not present, the condition is true."
    for operator in (
        "StringEquals",
        "StringLike",
        "NumericEquals",
        "DateGreaterThan",
        "Bool",
        "ArnLike",
        "IpAddress",
    ):
        assert not holds(operator, "aws:missing", ["x"], {}), operator
    for operator in (
        "StringNotEquals",
        "StringNotLike",
        "ArnNotLike",
        "NumericNotEquals",
        "NotIpAddress",
    ):
        assert holds(operator, "aws:missing", ["x"], {}), operator


def test_if_exists() -> None:
    assert holds("StringEqualsIfExists", "ec2:InstanceType", ["t2.micro"], {})
    assert holds(
        "StringEqualsIfExists", "ec2:InstanceType", ["t2.micro"], {"ec2:instancetype": "t2.micro"}
    )
    assert not holds(
        "StringEqualsIfExists", "ec2:InstanceType", ["t2.micro"], {"ec2:instancetype": "m5.large"}
    )


def test_null_tests_presence() -> None:
    assert holds("Null", "aws:TokenIssueTime", ["true"], {})
    assert not holds(
        "Null", "aws:TokenIssueTime", ["true"], {"aws:tokenissuetime": "2026-01-01T00:00:00Z"}
    )
    assert holds(
        "Null", "aws:TokenIssueTime", ["false"], {"aws:tokenissuetime": "2026-01-01T00:00:00Z"}
    )


def test_keys_are_case_insensitive() -> None:
    assert holds("Bool", "AWS:SECURETRANSPORT", ["true"], {"aws:securetransport": "true"})


def test_numeric_date_bool_ip_and_arn_operators() -> None:
    assert holds("NumericLessThanEquals", "s3:max-keys", ["10"], {"s3:max-keys": "10"})
    assert not holds("NumericLessThan", "s3:max-keys", ["10"], {"s3:max-keys": "10"})
    assert not holds("NumericEquals", "s3:max-keys", ["ten"], {"s3:max-keys": "10"})
    now = {"aws:currenttime": "2026-03-01T12:00:00Z"}
    assert holds("DateGreaterThan", "aws:CurrentTime", ["2026-01-01T00:00:00Z"], now)
    assert holds("DateLessThan", "aws:CurrentTime", ["1893456000"], now)  # epoch seconds, 2030
    assert holds("Bool", "aws:SecureTransport", ["false"], {"aws:securetransport": "false"})
    assert holds("IpAddress", "aws:SourceIp", ["203.0.113.0/24"], {"aws:sourceip": "203.0.113.7"})
    assert not holds(
        "IpAddress", "aws:SourceIp", ["203.0.113.0/24"], {"aws:sourceip": "198.51.100.1"}
    )
    source = {"aws:sourcearn": "arn:aws:states:eu-west-1:123456789012:stateMachine:p"}
    assert holds(
        "ArnLike", "aws:SourceArn", ["arn:aws:states:*:123456789012:stateMachine:*"], source
    )
    assert holds(
        "ArnEquals",
        "aws:SourceArn",
        ["arn:aws:states:eu-west-1:123456789012:stateMachine:p"],
        source,
    )
    assert not holds("ArnNotLike", "aws:SourceArn", ["arn:aws:states:*:*:stateMachine:*"], source)


def test_set_operators() -> None:
    # "Conditions with multiple context keys or values": ForAllValues is true when every
    # request value matches, and for an absent key; ForAnyValue when one value matches.
    via = {"aws:calledvia": ("athena.amazonaws.com", "glue.amazonaws.com")}
    assert holds("ForAnyValue:StringEquals", "aws:CalledVia", ["athena.amazonaws.com"], via)
    assert not holds("ForAllValues:StringEquals", "aws:CalledVia", ["athena.amazonaws.com"], via)
    assert holds("ForAllValues:StringLike", "aws:CalledVia", ["*.amazonaws.com"], via)
    assert holds("ForAllValues:StringEquals", "aws:CalledVia", ["x"], {})
    assert not holds("ForAnyValue:StringEquals", "aws:CalledVia", ["x"], {})
    assert holds("ForAllValues:StringNotEquals", "aws:CalledVia", ["s3.amazonaws.com"], via)


def test_unknown_operators_are_rejected() -> None:
    for name in ("StringEqualz", "ForSomeValues:StringEquals", "NullIfExists"):
        with pytest.raises(ConditionError):
            parse_operator(name)


@given(st.text(max_size=12), st.lists(st.text(max_size=12), min_size=1, max_size=4))
def test_negated_operator_is_the_complement_when_the_key_is_present(
    value: str, values: list[str]
) -> None:
    context: dict[str, ContextValue] = {"k": value}
    for positive, negated in (("StringEquals", "StringNotEquals"), ("StringLike", "StringNotLike")):
        assert holds(positive, "k", values, context) != holds(negated, "k", values, context)
