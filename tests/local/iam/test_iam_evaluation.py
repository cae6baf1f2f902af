"""Policy grammar and evaluation, on scenarios of the IAM User Guide ("Policy evaluation
logic", "The difference between explicit and implicit denies", "Principal")."""

from __future__ import annotations

from typing import Any

import pytest

from etl_local.iam.evaluation import RequestContext, evaluate
from etl_local.iam.policy import Policy, PolicyError, PolicyKind
from etl_local.iam.principals import Principal, arn_account

ACCOUNT = "111122223333"
OTHER = "444455556666"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/analyst"
SECURE = {"aws:securetransport": "true"}


def identity(*statements: dict[str, Any]) -> Policy:
    return Policy.parse(
        {"Version": "2012-10-17", "Statement": list(statements)}, "id", PolicyKind.IDENTITY
    )


def resource(*statements: dict[str, Any]) -> Policy:
    return Policy.parse(
        {"Version": "2012-10-17", "Statement": list(statements)}, "res", PolicyKind.RESOURCE
    )


def session(*policies: Policy, role: str = ROLE) -> Principal:
    return Principal.role_session(role, "work", policies)


def decide(
    principal: Principal, action: str, arn: str, *resource_policies: Policy, **keys: str
) -> Any:
    context = {**SECURE, **{k.replace("__", ":").lower(): v for k, v in keys.items()}}
    owner = arn_account(arn) or ACCOUNT
    return evaluate(
        RequestContext(
            principal, action, arn, context, owner if owner != principal.account else None
        ),
        resource_policies,
    )


# -- identity-based policies ----------------------------------------------------------------


def test_explicit_deny_overrides_allow_and_unlisted_actions_are_implicitly_denied() -> None:
    # "The difference between explicit and implicit denies": read-only IAM, reports denied.
    policy = identity(
        {
            "Sid": "AllowGetList",
            "Effect": "Allow",
            "Action": ["iam:Get*", "iam:List*"],
            "Resource": "*",
        },
        {"Sid": "DenyReports", "Effect": "Deny", "Action": "iam:*Report*", "Resource": "*"},
    )
    also_allows_reports = identity(
        {"Effect": "Allow", "Action": "iam:GenerateCredentialReport", "Resource": "*"}
    )
    analyst = session(policy, also_allows_reports)
    allowed = decide(analyst, "iam:GetUser", "*")
    assert allowed.allowed and allowed.allowed_by == ("id#AllowGetList",)
    implicit = decide(analyst, "iam:CreatePolicy", "*")
    assert not implicit.allowed and implicit.explicit_deny_in is None
    assert implicit.missing_allow_in is PolicyKind.IDENTITY
    explicit = decide(analyst, "iam:GenerateCredentialReport", "*")
    assert not explicit.allowed and explicit.explicit_deny_in is PolicyKind.IDENTITY
    assert explicit.denied_by == ("id#DenyReports",)


def test_own_bucket_but_not_its_logs() -> None:
    # "Policy evaluation for requests within a single account", the carlossalazar example:
    # an Allow on his buckets, an explicit Deny on any bucket whose name contains "log".
    policy = identity(
        {
            "Sid": "AllowS3Self",
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": [
                "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar*",
            ],
        },
        {"Sid": "DenyS3Logs", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::*log*"},
    )
    carlos = session(policy)
    assert decide(
        carlos, "s3:PutObject", "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar/a.txt"
    ).allowed
    denied = decide(
        carlos, "s3:PutObject", "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar-logs/a.txt"
    )
    assert denied.explicit_deny_in is PolicyKind.IDENTITY


def test_not_action_and_not_resource() -> None:
    everything_but_iam = identity({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    only_one_bucket = identity(
        {
            "Effect": "Deny",
            "Action": "s3:*",
            "NotResource": ["arn:aws:s3:::mine", "arn:aws:s3:::mine/*"],
        }
    )
    principal = session(everything_but_iam, only_one_bucket)
    assert decide(principal, "s3:GetObject", "arn:aws:s3:::mine/k").allowed
    assert not decide(principal, "iam:CreateUser", "*").allowed
    assert (
        decide(principal, "s3:GetObject", "arn:aws:s3:::theirs/k").explicit_deny_in
        is PolicyKind.IDENTITY
    )


def test_conditions_gate_statements() -> None:
    listing = identity(
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": "arn:aws:s3:::lake",
            "Condition": {"StringLike": {"s3:prefix": ["ods/traffic/", "ods/traffic/*"]}},
        }
    )
    crawler = session(listing)
    assert decide(
        crawler, "s3:ListBucket", "arn:aws:s3:::lake", s3__prefix="ods/traffic/year=2026/"
    ).allowed
    assert not decide(crawler, "s3:ListBucket", "arn:aws:s3:::lake", s3__prefix="raw/").allowed
    assert not decide(crawler, "s3:ListBucket", "arn:aws:s3:::lake").allowed  # no prefix at all


# -- resource-based policies ----------------------------------------------------------------


def bucket_policy(principal: Any, effect: str = "Allow", **extra: Any) -> Policy:
    return resource(
        {
            "Effect": effect,
            "Principal": principal,
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::shared/*",
            **extra,
        }
    )


def test_same_account_resource_policy_naming_the_role_or_session_allows_alone() -> None:
    bare = session()
    for named in (ROLE, bare.arn):
        decision = decide(
            bare, "s3:GetObject", "arn:aws:s3:::shared/k", bucket_policy({"AWS": named})
        )
        assert decision.allowed, named


def test_an_account_principal_delegates_to_identity_policies() -> None:
    # "AWS account principals": naming the account "delegates authority to the account".
    account_grant = bucket_policy({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})
    assert not decide(session(), "s3:GetObject", "arn:aws:s3:::shared/k", account_grant).allowed
    reader = session(
        identity({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::shared/*"})
    )
    assert decide(reader, "s3:GetObject", "arn:aws:s3:::shared/k", account_grant).allowed
    account_deny = bucket_policy({"AWS": ACCOUNT}, effect="Deny")
    denied = decide(reader, "s3:GetObject", "arn:aws:s3:::shared/k", account_deny)
    assert denied.explicit_deny_in is PolicyKind.RESOURCE


def test_tls_only_bucket_policy_denies_insecure_transport_only() -> None:
    tls_only = bucket_policy(
        "*", effect="Deny", Condition={"Bool": {"aws:SecureTransport": "false"}}
    )
    reader = session(identity({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}))
    assert decide(reader, "s3:GetObject", "arn:aws:s3:::shared/k", tls_only).allowed
    insecure = decide(
        reader, "s3:GetObject", "arn:aws:s3:::shared/k", tls_only, aws__securetransport="false"
    )
    assert insecure.explicit_deny_in is PolicyKind.RESOURCE


def test_not_principal_applies_to_everyone_else() -> None:
    others_denied = resource(
        {
            "Effect": "Deny",
            "NotPrincipal": {"AWS": [ROLE]},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::shared/*",
        }
    )
    allowed_everywhere = identity({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    assert decide(
        session(allowed_everywhere), "s3:GetObject", "arn:aws:s3:::shared/k", others_denied
    ).allowed
    stranger = session(allowed_everywhere, role=f"arn:aws:iam::{ACCOUNT}:role/stranger")
    assert not decide(stranger, "s3:GetObject", "arn:aws:s3:::shared/k", others_denied).allowed


def test_cross_account_needs_both_sides() -> None:
    # "Cross-account policy evaluation logic": identity-based and resource-based must allow.
    topic = f"arn:aws:sns:eu-west-1:{OTHER}:alerts"
    may_publish = identity({"Effect": "Allow", "Action": "sns:Publish", "Resource": topic})
    publisher = session(may_publish)
    topic_policy = resource(
        {
            "Effect": "Allow",
            "Principal": {"AWS": ACCOUNT},
            "Action": "sns:Publish",
            "Resource": topic,
        }
    )
    assert decide(publisher, "sns:Publish", topic, topic_policy).allowed
    assert decide(publisher, "sns:Publish", topic).missing_allow_in is PolicyKind.RESOURCE
    assert (
        decide(session(), "sns:Publish", topic, topic_policy).missing_allow_in
        is PolicyKind.IDENTITY
    )


def test_trust_policy_of_a_service_role() -> None:
    trust = Policy.parse(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
                }
            ],
        },
        "trust",
        PolicyKind.TRUST,
    )
    lambda_service = Principal.aws_service("lambda.amazonaws.com")
    assert decide(lambda_service, "sts:AssumeRole", ROLE, trust, aws__sourceaccount=ACCOUNT).allowed
    assert not decide(
        lambda_service, "sts:AssumeRole", ROLE, trust, aws__sourceaccount=OTHER
    ).allowed
    glue = Principal.aws_service("glue.amazonaws.com")
    assert not decide(glue, "sts:AssumeRole", ROLE, trust, aws__sourceaccount=ACCOUNT).allowed


# -- the grammar ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "kind", "problem"),
    [
        ({"Action": "s3:*", "Resource": "*"}, PolicyKind.IDENTITY, "Effect"),
        (
            {"Effect": "Allow", "Action": "s3:*", "NotAction": "iam:*", "Resource": "*"},
            PolicyKind.IDENTITY,
            "both Action and NotAction",
        ),
        ({"Effect": "Allow", "Resource": "*"}, PolicyKind.IDENTITY, "needs Action or NotAction"),
        (
            {"Effect": "Allow", "Action": "s3:*"},
            PolicyKind.IDENTITY,
            "needs Resource or NotResource",
        ),
        (
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Principal": "*"},
            PolicyKind.IDENTITY,
            "cannot name a Principal",
        ),
        (
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            PolicyKind.RESOURCE,
            "needs a Principal",
        ),
        ({"Effect": "Allow", "Action": [], "Resource": "*"}, PolicyKind.IDENTITY, "non-empty list"),
        (
            {
                "Effect": "Allow",
                "Action": "s3:*",
                "Resource": "*",
                "Condition": {"StringEqualz": {"k": "v"}},
            },
            PolicyKind.IDENTITY,
            "unknown condition operator",
        ),
    ],
)
def test_malformed_statements_are_rejected(
    statement: dict[str, Any], kind: PolicyKind, problem: str
) -> None:
    with pytest.raises(PolicyError, match=problem):
        Policy.parse({"Version": "2012-10-17", "Statement": [statement]}, "p", kind)


def test_terraform_renderings_parse() -> None:
    # aws_iam_policy_document renders one value as a string, several as a list, and a
    # single statement may also be an object.
    rendered = (
        '{"Version":"2012-10-17","Statement":{"Sid":"","Effect":"Allow","Action":"sts:AssumeRole",'
        '"Principal":{"Service":"states.amazonaws.com"},'
        '"Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}}}'
    )
    trust = Policy.parse(rendered, "trust", PolicyKind.TRUST)
    (statement,) = trust.statements
    assert statement.sid is None and statement.ref == "trust#0"
    assert statement.actions == ("sts:AssumeRole",)
    assert statement.conditions[0].values == ("111122223333",)
    with pytest.raises(PolicyError, match="not JSON"):
        Policy.parse("{", "broken", PolicyKind.IDENTITY)


def test_anonymous_requests_need_a_public_grant() -> None:
    public = bucket_policy("*")
    anonymous = Principal.anonymous()
    assert decide(anonymous, "s3:GetObject", "arn:aws:s3:::shared/k", public).allowed
    assert not decide(anonymous, "s3:GetObject", "arn:aws:s3:::shared/k").allowed
    named = bucket_policy({"AWS": ROLE})
    assert not decide(anonymous, "s3:GetObject", "arn:aws:s3:::shared/k", named).allowed
