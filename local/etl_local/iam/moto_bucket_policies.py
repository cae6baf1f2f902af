"""moto's own bucket-policy check, superseded while the IAM hook is installed.

moto 5.2.5 consults a bucket's policy itself in two places (S3Response: object requests,
and each key of a DeleteObjects) through `FakeBucket.get_permission`. Its evaluation
(`IAMPolicyStatement.is_action_permitted`) treats a condition whose operator it does not
implement (all but StringEquals), or whose key it is not given, as met, and answers DENIED
for a statement whose condition fails, whatever its Effect: the project's TLS-only bucket
policy (Deny when aws:SecureTransport is "false") therefore denies every object read and
write, with an empty 403. The hook has already evaluated the
bucket policy as AWS does, so `get_permission` answers NEUTRAL, except for the one decision
moto takes per item that the hook leaves to it: each key of a DeleteObjects, which AWS
authorizes one by one and reports in the response ("For each key, Amazon S3 performs a
delete operation and returns the result of that delete, success or failure").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.iam.access_control import IAMPolicyStatement, PermissionResult
from moto.s3.models import FakeBucket

from etl_local.iam.authorizer import Authorizer
from etl_local.iam.principals import Principal
from etl_local.iam.wire import WireRequest

CurrentRequest = Callable[[], tuple[Principal, WireRequest] | None]


def moto_denies_unmet_conditions() -> bool:
    """True while moto applies a TLS-only Deny to a request that came over TLS."""
    statement = IAMPolicyStatement(
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )
    return (
        statement.is_action_permitted("s3:GetObject", "arn:aws:s3:::b/k") == PermissionResult.DENIED
    )


def supersede(authorizer: Authorizer, current: CurrentRequest) -> Callable[[], None]:
    """Install the replacement of FakeBucket.get_permission; returns the undo."""
    original = FakeBucket.__dict__["get_permission"]

    def get_permission(bucket: FakeBucket, action: str, resource: str) -> Any:
        serving = current()
        if serving is None:
            return PermissionResult.NEUTRAL
        principal, request = serving
        if request.service != "s3" or request.operation != "DeleteObjects":
            return PermissionResult.NEUTRAL
        permissions = authorizer.permissions_for(
            principal, request.service, request.operation, request.params, request.region
        )
        for permission in permissions:
            if permission.per_item and permission.resource == resource:
                decision = authorizer.decide(
                    principal,
                    permission,
                    region=request.region,
                    signature=request.signature,
                    source_ip=request.source_ip,
                )
                return PermissionResult.NEUTRAL if decision.allowed else PermissionResult.DENIED
        return PermissionResult.NEUTRAL

    FakeBucket.get_permission = get_permission  # type: ignore[method-assign,assignment]

    def undo() -> None:
        FakeBucket.get_permission = original  # type: ignore[method-assign]

    return undo
