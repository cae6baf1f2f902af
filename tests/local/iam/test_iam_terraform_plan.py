"""Roles and resource-based policies from `terraform show -json` output.

fixtures/plan.json follows Terraform's "JSON Output Format": resources in nested
child_modules, for_each instances with an `index`, values unknown at plan time omitted
(a new role's `id`/`arn`, hence aws_iam_role_policy.role; a bucket's `id`; a topic's `arn`),
the configuration's `references`, and data sources read into prior_state.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from etl_local.iam.authorizer import Authorizer
from etl_local.iam.errors import AccessDenied
from etl_local.iam.evaluation import RequestContext, evaluate
from etl_local.iam.principals import PrincipalRegistry
from etl_local.iam.resource_policies import ResourcePolicies
from etl_local.iam.terraform_plan import PlanError, load_plan

PLAN = json.loads((Path(__file__).parent / "fixtures" / "plan.json").read_text())
ACCOUNT = "123456789012"
CURATED = f"lakepipe-dev-curated-{ACCOUNT}-eu-west-1"


def test_roles_with_inline_attached_and_role_policies() -> None:
    iam = load_plan(PLAN)
    assert set(iam.roles) == {
        "lakepipe-dev-events",
        "lakepipe-dev-write-lambda",
        "lakepipe-dev-crawler",
    }
    write = iam.role("lakepipe-dev-write-lambda")
    # Its ARN was unknown in the plan: derived from the account (prior_state) and the name.
    assert write.arn == f"arn:aws:iam::{ACCOUNT}:role/lakepipe-dev-write-lambda"
    # Its policy's `role` was unknown: found through the configuration's references.
    assert [s.ref for p in write.policies for s in p.statements] == [
        "lakepipe-dev-write-lambda/write-step#StartQueries",
        "lakepipe-dev-write-lambda/write-step#ReadSourceTables",
        "lakepipe-dev-write-lambda/write-step#ReadSources",
    ]
    assert write.trust_policy is not None
    events = iam.role("lakepipe-dev-events")
    assert [p.name for p in events.policies] == [
        "lakepipe-dev-events/start-pipeline",
        "lakepipe-dev-events/lakepipe-dev-events-extra",
    ]
    with pytest.raises(PlanError, match="no IAM role named 'nope'"):
        iam.role("nope")


def test_resource_policies_of_buckets_and_topics() -> None:
    iam = load_plan(PLAN)
    resources = dict((arn, policy.name) for arn, policy in iam.resource_policies)
    raw = f"lakepipe-dev-raw-{ACCOUNT}-eu-west-1"
    assert resources == {
        f"arn:aws:s3:::{CURATED}": f"bucket-policy:{CURATED}",
        f"arn:aws:s3:::{raw}": f"bucket-policy:{raw}",
        f"arn:aws:sns:eu-west-1:{ACCOUNT}:lakepipe-dev-alerts": "topic-policy:lakepipe-dev-alerts",
    }
    store = iam.resource_policy_store()
    assert isinstance(store, ResourcePolicies)
    (bucket_policy,) = store.policies_for(f"arn:aws:s3:::{CURATED}/ods/x.parquet")
    assert bucket_policy.statements[0].sid == "DenyInsecureTransport"


def test_sessions_evaluate_the_planned_policies() -> None:
    iam = load_plan(PLAN)
    crawler = iam.role("lakepipe-dev-crawler").session("AWS-Crawler")
    assert crawler.arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/lakepipe-dev-crawler/AWS-Crawler"
    listing = RequestContext(
        crawler, "s3:ListBucket", f"arn:aws:s3:::{CURATED}", {"s3:prefix": "ods/traffic/y=1/"}
    )
    assert evaluate(listing).allowed_by == ("lakepipe-dev-crawler/crawler#ListOdsPrefix",)
    elsewhere = RequestContext(
        crawler, "s3:ListBucket", f"arn:aws:s3:::{CURATED}", {"s3:prefix": "dwd/"}
    )
    assert not evaluate(elsewhere).allowed


def test_trust_policies_decide_which_service_may_open_a_session() -> None:
    iam = load_plan(PLAN)
    registry = PrincipalRegistry()
    authorizer = Authorizer(
        registry, iam.resource_policy_store(), account=ACCOUNT, region="eu-west-1"
    )
    write = iam.role("lakepipe-dev-write-lambda")
    principal, credentials = authorizer.start_session(
        write, "lakepipe-dev-write", service="lambda.amazonaws.com"
    )
    assert registry.principal_for(credentials.access_key_id) == principal
    assert credentials.access_key_id.startswith("ASIA") and len(credentials.access_key_id) == 20
    with pytest.raises(
        AccessDenied, match=r"glue\.amazonaws\.com is not authorized to perform: sts:AssumeRole"
    ):
        authorizer.start_session(write, "x", service="glue.amazonaws.com")


def test_what_the_plan_cannot_tell_is_an_error_naming_the_resource() -> None:
    unknown_policy = copy.deepcopy(PLAN)
    lambdas = unknown_policy["planned_values"]["root_module"]["child_modules"][1]
    del lambdas["resources"][1]["values"]["policy"]
    with pytest.raises(
        PlanError, match=r'module.lambdas.aws_iam_role_policy.this\["write"\]: policy is not known'
    ):
        load_plan(unknown_policy)

    managed = copy.deepcopy(PLAN)
    attachment = managed["planned_values"]["root_module"]["resources"][2]
    attachment["values"]["policy_arn"] = "arn:aws:iam::aws:policy/service-role/AWSGlueServiceRole"
    with pytest.raises(PlanError, match="AWSGlueServiceRole is not declared in the plan"):
        load_plan(managed)

    with pytest.raises(PlanError, match="not a plan"):
        load_plan({"values": {}})
    with pytest.raises(PlanError, match="unsupported plan format_version"):
        load_plan({**PLAN, "format_version": "2.0"})


def test_optional_parts_may_be_absent() -> None:
    minimal = {
        "format_version": "1.0",
        "planned_values": {
            "root_module": {
                "resources": [
                    {
                        "address": "aws_iam_role.r",
                        "type": "aws_iam_role",
                        "name": "r",
                        "values": {"name": "r", "arn": f"arn:aws:iam::{ACCOUNT}:role/r"},
                    },
                    {
                        "address": "aws_iam_role_policy.p",
                        "type": "aws_iam_role_policy",
                        "name": "p",
                        "values": {
                            "role": f"arn:aws:iam::{ACCOUNT}:role/r",
                            "policy": json.dumps(
                                {
                                    "Statement": {
                                        "Effect": "Allow",
                                        "Action": "s3:*",
                                        "Resource": "*",
                                    }
                                }
                            ),
                        },
                    },
                ]
            }
        },
    }
    role = load_plan(json.dumps(minimal)).role("r")
    assert role.trust_policy is None
    assert [p.name for p in role.policies] == ["r/aws_iam_role_policy.p"]
