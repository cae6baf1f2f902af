"""An API call as the authorization layer sees it, and the permissions it requires.

Each service module maps (operation, parameters) to the IAM action(s), resource ARN(s) and
condition keys that AWS checks for it, as the "Service Authorization Reference" lists them.
Parameters are botocore's input shapes (what boto3 is called with; the server parses the
wire request into the same shape), so a mapping serves requests reaching the local
endpoint and calls authorized on a principal's behalf alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from etl_local.iam.conditions import ContextValue


@dataclass(frozen=True)
class ApiCall:
    service: str  # botocore's service name: s3, glue, athena, stepfunctions, lambda...
    operation: str  # botocore's operation name: GetObject, GetTable...
    params: Mapping[str, Any]
    region: str
    account: str
    partition: str = "aws"

    def arn(self, service: str, resource: str, *, region: str | None = None) -> str:
        """`arn:<partition>:<service>:<region>:<account>:<resource>` of this call's account."""
        where = self.region if region is None else region
        return f"arn:{self.partition}:{service}:{where}:{self.account}:{resource}"

    def param(self, name: str) -> Any:
        return self.params.get(name)


@dataclass(frozen=True)
class Permission:
    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)
    # Denied, it fails one item of a request the service still runs and answers per item
    # (S3 DeleteObjects reports AccessDenied for each key the caller may not delete).
    per_item: bool = False


class UnmappedOperation(LookupError):
    """The local runtime has no authorization rule for this operation."""


class ServerLookups(Protocol):
    """State some mappings need that the request itself does not carry."""

    def athena_query_workgroup(self, account: str, region: str, query_id: str) -> str | None:
        """The workgroup a query ran in (Get/Stop/GetQueryResults name only the query)."""

    def dynamodb_partition_key(self, account: str, region: str, table: str) -> str | None:
        """The name of a table's partition key (for dynamodb:LeadingKeys)."""


Mapper = Callable[[ApiCall, ServerLookups], list[Permission]]


def role_arn(call: ApiCall, role: str) -> str:
    """A role given by name or by ARN, as CreateFunction/CreateCrawler... accept it."""
    if role.startswith("arn:"):
        return role
    return f"arn:{call.partition}:iam::{call.account}:role/{role}"


def pass_role(call: ApiCall, role: str | None, service_principal: str) -> list[Permission]:
    """iam:PassRole, which every call handing a role to a service requires
    ("Granting a user permissions to pass a role to an AWS service")."""
    if not role:
        return []
    return [
        Permission("iam:PassRole", role_arn(call, role), {"iam:passedtoservice": service_principal})
    ]


def uniform(action: str, resource: Callable[[ApiCall], str]) -> Mapper:
    """A mapper for an operation that needs one action on one resource."""

    def mapper(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
        return [Permission(action, resource(call))]

    return mapper


def everything(call: ApiCall) -> str:
    """The resource of actions that support no resource type: "*"."""
    return "*"
