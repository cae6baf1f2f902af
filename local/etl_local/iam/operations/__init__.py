"""Request -> authorization: the IAM permissions each AWS API operation requires.

`required_permissions(call, lookups)` returns what AWS evaluates for one call: one or more
(action, resource ARN, condition keys). An operation without a rule raises
`UnmappedOperation`: the local runtime denies what it cannot check rather than allow it.
"""

from __future__ import annotations

from etl_local.iam.operations import (
    athena,
    cloudwatch,
    dynamodb,
    glue,
    identity,
    lambda_,
    logs,
    s3,
    sns,
    sqs,
    stepfunctions,
)
from etl_local.iam.operations.call import (
    ApiCall,
    Mapper,
    Permission,
    ServerLookups,
    UnmappedOperation,
)

__all__ = [
    "RULES",
    "ApiCall",
    "Permission",
    "ServerLookups",
    "UnmappedOperation",
    "required_permissions",
]

# botocore service name -> operation -> mapper.
RULES: dict[str, dict[str, Mapper]] = {
    "s3": s3.OPERATIONS,
    "glue": glue.OPERATIONS,
    "athena": athena.OPERATIONS,
    "stepfunctions": stepfunctions.OPERATIONS,
    "lambda": lambda_.OPERATIONS,
    "sns": sns.OPERATIONS,
    "sqs": sqs.OPERATIONS,
    "dynamodb": dynamodb.OPERATIONS,
    "logs": logs.OPERATIONS,
    "cloudwatch": cloudwatch.OPERATIONS,
    "sts": identity.STS_OPERATIONS,
    "iam": identity.IAM_OPERATIONS,
}


def required_permissions(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
    mapper = RULES.get(call.service, {}).get(call.operation)
    if mapper is None:
        raise UnmappedOperation(f"{call.service}:{call.operation}")
    return mapper(call, lookups)
