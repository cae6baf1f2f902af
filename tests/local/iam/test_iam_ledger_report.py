"""The decision ledger and the least-privilege report built from it."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from etl_local.iam.authorizer import Authorizer
from etl_local.iam.ledger import Ledger, read_ledgers
from etl_local.iam.policy import Policy, PolicyKind
from etl_local.iam.principals import Principal, PrincipalRegistry
from etl_local.iam.report import build_report, write_report
from etl_local.iam.resource_policies import ResourcePolicies

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/publish-lambda"
POLICY = Policy.parse(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublishPartitions",
                "Effect": "Allow",
                "Action": ["glue:BatchCreatePartition", "glue:GetTable", "glue:UpdateTable"],
                "Resource": "arn:aws:glue:eu-west-1:123456789012:*",
            },
            {
                "Sid": "ListRuns",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": "arn:aws:s3:::lake",
            },
            {
                "Sid": "NeverDelete",
                "Effect": "Deny",
                "Action": "glue:DeleteDatabase",
                "Resource": "*",
            },
        ],
    },
    "publish-lambda/publish-step",
    PolicyKind.IDENTITY,
)


def authorizer(ledger: Ledger) -> tuple[Authorizer, Principal]:
    principal = Principal.role_session(ROLE, "etl-publish", (POLICY,))
    return (
        Authorizer(
            PrincipalRegistry(),
            ResourcePolicies(),
            account=ACCOUNT,
            region="eu-west-1",
            ledger=ledger,
        ),
        principal,
    )


def exercise(auth: Authorizer, principal: Principal) -> None:
    for _ in range(3):
        assert (
            auth.authorize_call(principal, "glue", "GetTable", {"DatabaseName": "dwd", "Name": "t"})
            is None
        )
    denied = auth.authorize_call(principal, "s3", "DeleteObject", {"Bucket": "lake", "Key": "k"})
    assert denied is not None


def test_report_names_used_denied_and_unused() -> None:
    ledger = Ledger()
    auth, principal = authorizer(ledger)
    exercise(auth, principal)
    report = build_report(ledger.lines())["identities"][ROLE]
    assert {(u["action"], u["resource"], u["count"]) for u in report["used"]} == {
        ("glue:GetTable", "arn:aws:glue:eu-west-1:123456789012:catalog", 3),
        ("glue:GetTable", "arn:aws:glue:eu-west-1:123456789012:database/dwd", 3),
        ("glue:GetTable", "arn:aws:glue:eu-west-1:123456789012:table/dwd/t", 3),
    }
    assert all(
        u["statements"] == ["publish-lambda/publish-step#PublishPartitions"] for u in report["used"]
    )
    (denied,) = report["denied"]
    assert (denied["action"], denied["resource"], denied["count"]) == (
        "s3:DeleteObject",
        "arn:aws:s3:::lake/k",
        1,
    )
    assert "because no identity-based policy allows the s3:DeleteObject action" in denied["message"]
    # ListRuns was never used; the Deny guard is not a grant, so it is not reported.
    assert report["unused_statements"] == [
        {
            "statement": "publish-lambda/publish-step#ListRuns",
            "actions": ["s3:ListBucket"],
            "resources": ["arn:aws:s3:::lake"],
        }
    ]
    assert report["partly_used_statements"] == [
        {
            "statement": "publish-lambda/publish-step#PublishPartitions",
            "unused_actions": ["glue:BatchCreatePartition", "glue:UpdateTable"],
            "unused_resources": [],
        }
    ]


def test_files_of_several_runtimes_merge(tmp_path: Path) -> None:
    for _ in range(2):
        ledger = Ledger.in_directory(tmp_path)
        auth, principal = authorizer(ledger)
        exercise(auth, principal)
        ledger.flush()
        ledger.flush()  # nothing new: nothing appended
    assert len(list(tmp_path.glob("iam-ledger-*.jsonl"))) == 2
    output = tmp_path / "build" / "iam-report.json"
    report = write_report(tmp_path, output)
    assert json.loads(output.read_text()) == report
    counts = {(u["action"], u["resource"]): u["count"] for u in report["identities"][ROLE]["used"]}
    assert counts[("glue:GetTable", "arn:aws:glue:eu-west-1:123456789012:table/dwd/t")] == 6
    assert sum(1 for line in read_ledgers(tmp_path) if line["type"] == "identity") == 2


def test_recording_is_thread_safe() -> None:
    ledger = Ledger()
    auth, principal = authorizer(ledger)

    def work() -> None:
        for _ in range(200):
            auth.authorize_call(principal, "s3", "ListObjectsV2", {"Bucket": "lake"})

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (count,) = ledger.decisions().values()
    assert count == 1600
