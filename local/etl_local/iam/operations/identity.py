"""AWS STS and IAM: the calls the runtime's deployment and a role assumption make.

STS GetCallerIdentity needs no permission ("No permissions are required to perform this
operation", its API reference). AssumeRole is sts:AssumeRole on the role, evaluated with the
role's trust policy as the resource-based policy. IAM's own operations act on the role,
user or policy they name ("Actions, resources, and condition keys for AWS Identity and
Access Management"); listing supports no resource type.
"""

from __future__ import annotations

from etl_local.iam.operations.call import ApiCall, Mapper, Permission, ServerLookups, role_arn


def _no_permission(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
    return []


def _assume_role(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
    return [Permission("sts:AssumeRole", str(call.param("RoleArn")))]


def _iam_resource(call: ApiCall) -> str:
    if call.param("RoleName"):
        return role_arn(call, str(call.param("RoleName")))
    if call.param("UserName"):
        return f"arn:{call.partition}:iam::{call.account}:user/{call.param('UserName')}"
    if call.param("PolicyArn"):
        return str(call.param("PolicyArn"))
    if call.param("PolicyName"):
        return f"arn:{call.partition}:iam::{call.account}:policy/{call.param('PolicyName')}"
    return "*"


def _iam_operation(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
    return [Permission(f"iam:{call.operation}", _iam_resource(call))]


STS_OPERATIONS: dict[str, Mapper] = {
    "GetCallerIdentity": _no_permission,
    "AssumeRole": _assume_role,
}
IAM_OPERATIONS: dict[str, Mapper] = {
    name: _iam_operation
    for name in (
        "GetRole",
        "CreateRole",
        "DeleteRole",
        "UpdateAssumeRolePolicy",
        "PutRolePolicy",
        "GetRolePolicy",
        "DeleteRolePolicy",
        "ListRolePolicies",
        "AttachRolePolicy",
        "DetachRolePolicy",
        "ListAttachedRolePolicies",
        "CreatePolicy",
        "GetPolicy",
        "DeletePolicy",
        "ListRoles",
        "ListPolicies",
    )
}
