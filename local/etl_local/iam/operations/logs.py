"""Amazon CloudWatch Logs: log group and log stream resources.

"Actions, resources, and condition keys for Amazon CloudWatch Logs": log-group actions act
on `arn:aws:logs:<region>:<account>:log-group:<name>`, which IAM evaluates in the `:*` form
the service reports for a log group (AWSLambdaBasicExecutionRole grants CreateLogStream on
`log-group:/aws/lambda/<function>:*`); PutLogEvents and GetLogEvents act on the stream,
`...:log-group:<name>:log-stream:<stream>`. Describe operations support no resource type.
"""

from __future__ import annotations

from etl_local.iam.operations.call import (
    ApiCall,
    Mapper,
    Permission,
    ServerLookups,
    everything,
    uniform,
)

GROUP_OPERATIONS = (
    "CreateLogGroup",
    "DeleteLogGroup",
    "CreateLogStream",
    "DescribeLogStreams",
    "PutRetentionPolicy",
    "AssociateKmsKey",
    "FilterLogEvents",
)
STREAM_OPERATIONS = ("PutLogEvents", "GetLogEvents")


def _group(call: ApiCall) -> str:
    return call.arn("logs", f"log-group:{call.param('logGroupName')}:*")


def _stream(call: ApiCall) -> str:
    stream = f"log-group:{call.param('logGroupName')}:log-stream:{call.param('logStreamName')}"
    return call.arn("logs", stream)


def _group_operation(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
    return [Permission(f"logs:{call.operation}", _group(call))]


def _stream_operation(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
    return [Permission(f"logs:{call.operation}", _stream(call))]


OPERATIONS: dict[str, Mapper] = {
    **{name: _group_operation for name in GROUP_OPERATIONS},
    **{name: _stream_operation for name in STREAM_OPERATIONS},
    "DescribeLogGroups": uniform("logs:DescribeLogGroups", everything),
}
