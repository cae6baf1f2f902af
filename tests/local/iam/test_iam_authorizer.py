"""The on-behalf API: emulated services checking a caller's (or their role's) permissions."""

from __future__ import annotations

import pytest

from etl_local.iam.authorizer import Authorizer
from etl_local.iam.errors import AccessDenied
from etl_local.iam.policy import Policy, PolicyKind
from etl_local.iam.principals import Principal, PrincipalRegistry
from etl_local.iam.resource_policies import ResourcePolicies

ACCOUNT = "123456789012"
REGION = "eu-west-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/write-lambda"
CURATED = "arn:aws:s3:::curated"


def policy(*statements: dict[str, object]) -> Policy:
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    return Policy.parse(document, "write-lambda/write-step", PolicyKind.IDENTITY)


WRITER = Principal.role_session(
    ROLE,
    "etl-write",
    (
        policy(
            {
                "Sid": "ReadSources",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": f"{CURATED}/ods/*",
            },
            {
                "Sid": "OnlyThroughAthena",
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": f"{CURATED}/dwd/*",
                "Condition": {
                    "ForAnyValue:StringEquals": {"aws:CalledVia": "athena.amazonaws.com"}
                },
            },
        ),
    ),
)


@pytest.fixture
def authorizer() -> Authorizer:
    return Authorizer(PrincipalRegistry(), ResourcePolicies(), account=ACCOUNT, region=REGION)


def test_require_raises_aws_message(authorizer: Authorizer) -> None:
    authorizer.require(WRITER, "s3:GetObject", f"{CURATED}/ods/traffic/x.parquet")
    with pytest.raises(AccessDenied) as caught:
        authorizer.require(WRITER, "s3:GetObject", f"{CURATED}/raw/x.json")
    assert str(caught.value) == (
        "User: arn:aws:sts::123456789012:assumed-role/write-lambda/etl-write is not authorized to "
        'perform: s3:GetObject on resource: "arn:aws:s3:::curated/raw/x.json" because no '
        "identity-based policy allows the s3:GetObject action"
    )
    assert (caught.value.action, caught.value.resource) == ("s3:GetObject", f"{CURATED}/raw/x.json")


def test_requests_made_through_a_service_carry_called_via(authorizer: Authorizer) -> None:
    target = f"{CURATED}/dwd/model/_runs/r/chunk=0/part-0.parquet"
    authorizer.require(WRITER, "s3:PutObject", target, via_service="athena.amazonaws.com")
    with pytest.raises(AccessDenied):
        authorizer.require(WRITER, "s3:PutObject", target)


def test_require_call_maps_the_operation(authorizer: Authorizer) -> None:
    authorizer.require_call(WRITER, "s3", "GetObject", {"Bucket": "curated", "Key": "ods/a"})
    with pytest.raises(AccessDenied, match=r"s3:ListBucket on resource: \"arn:aws:s3:::curated\""):
        authorizer.require_call(
            WRITER, "s3", "ListObjectsV2", {"Bucket": "curated", "Prefix": "ods/"}
        )
    with pytest.raises(AccessDenied, match="no authorization rule for the glue operation GetTags"):
        authorizer.require_call(WRITER, "glue", "GetTags", {"ResourceArn": "x"})


def test_administrator_may_call_what_has_no_rule(authorizer: Authorizer) -> None:
    administrator = Principal.administrator(ACCOUNT)
    authorizer.require_call(administrator, "glue", "GetTags", {"ResourceArn": "x"})
    recorded = {key.action: key.statements for key in authorizer.ledger.decisions()}
    assert recorded["glue:GetTags"] == (
        "(no authorization rule: allowed for an unrestricted principal)",
    )


def test_switched_off_nothing_is_checked_nor_recorded(authorizer: Authorizer) -> None:
    authorizer.enabled = False
    authorizer.require(WRITER, "s3:DeleteBucket", CURATED)
    authorizer.require_call(WRITER, "glue", "DeleteDatabase", {"Name": "ods"})
    assert authorizer.ledger.decisions() == {}


def test_resource_policies_apply_on_behalf_too(authorizer: Authorizer) -> None:
    store = ResourcePolicies()
    store.attach(
        CURATED,
        Policy.parse(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": f"{CURATED}/ods/private/*",
                    }
                ],
            },
            "bucket-policy:curated",
            PolicyKind.RESOURCE,
        ),
    )
    guarded = Authorizer(PrincipalRegistry(), store, account=ACCOUNT, region=REGION)
    guarded.require(WRITER, "s3:GetObject", f"{CURATED}/ods/public/a")
    with pytest.raises(AccessDenied, match="explicit deny in a resource-based policy"):
        guarded.require(WRITER, "s3:GetObject", f"{CURATED}/ods/private/a")
