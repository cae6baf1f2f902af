"""Amazon SQS: queue resources.

"Actions, resources, and condition keys for Amazon SQS": queue operations act on
`arn:aws:sqs:<region>:<account>:<queue>`; a request names the queue by its URL
(`<endpoint>/<account>/<queue>`), CreateQueue and GetQueueUrl by name. The batch
operations require the single-message action (SendMessageBatch: sqs:SendMessage...).
ListQueues supports no resource type.
"""

from __future__ import annotations

from urllib.parse import urlparse

from etl_local.iam.operations.call import (
    ApiCall,
    Mapper,
    Permission,
    ServerLookups,
    everything,
    uniform,
)

# API operation -> IAM action, where they differ.
ACTION_NAMES = {
    "SendMessageBatch": "sqs:SendMessage",
    "DeleteMessageBatch": "sqs:DeleteMessage",
    "ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}
QUEUE_URL_OPERATIONS = (
    "SendMessage",
    "SendMessageBatch",
    "ReceiveMessage",
    "DeleteMessage",
    "DeleteMessageBatch",
    "ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch",
    "GetQueueAttributes",
    "SetQueueAttributes",
    "PurgeQueue",
    "DeleteQueue",
)


def queue_arn_from_url(call: ApiCall, url: str) -> str:
    account, _, name = urlparse(url).path.strip("/").partition("/")
    return f"arn:{call.partition}:sqs:{call.region}:{account}:{name}"


def _by_url(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
    action = ACTION_NAMES.get(call.operation, f"sqs:{call.operation}")
    return [Permission(action, queue_arn_from_url(call, str(call.param("QueueUrl"))))]


def _by_name(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
    account = call.param("QueueOwnerAWSAccountId") or call.account
    arn = f"arn:{call.partition}:sqs:{call.region}:{account}:{call.param('QueueName')}"
    return [Permission(f"sqs:{call.operation}", arn)]


OPERATIONS: dict[str, Mapper] = {
    **{name: _by_url for name in QUEUE_URL_OPERATIONS},
    "CreateQueue": _by_name,
    "GetQueueUrl": _by_name,
    "ListQueues": uniform("sqs:ListQueues", everything),
}
