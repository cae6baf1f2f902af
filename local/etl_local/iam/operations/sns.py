"""Amazon SNS: topic resources.

"Actions, resources, and condition keys for Amazon SNS": Publish (and PublishBatch, which
requires sns:Publish), Subscribe, topic attribute and deletion operations act on the topic,
`arn:aws:sns:<region>:<account>:<topic>`. Publish may name the topic as TopicArn or
TargetArn. The topic's access policy is a resource-based policy (see resource_policies).
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

# API operation -> IAM action, where they differ.
ACTION_NAMES = {"PublishBatch": "sns:Publish"}
TOPIC_OPERATIONS = (
    "Publish",
    "PublishBatch",
    "Subscribe",
    "GetTopicAttributes",
    "SetTopicAttributes",
    "DeleteTopic",
    "ListSubscriptionsByTopic",
)


def _topic_operation(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
    topic = call.param("TopicArn") or call.param("TargetArn")
    action = ACTION_NAMES.get(call.operation, f"sns:{call.operation}")
    return [Permission(action, str(topic))]


def _create_topic(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
    return [Permission("sns:CreateTopic", call.arn("sns", str(call.param("Name"))))]


def _unsubscribe(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
    # A subscription ARN is its topic's ARN followed by `:<subscription id>`.
    topic = str(call.param("SubscriptionArn")).rsplit(":", 1)[0]
    return [Permission("sns:Unsubscribe", topic)]


OPERATIONS: dict[str, Mapper] = {
    **{name: _topic_operation for name in TOPIC_OPERATIONS},
    "CreateTopic": _create_topic,
    "Unsubscribe": _unsubscribe,
    "ListTopics": uniform("sns:ListTopics", everything),
    "ListSubscriptions": uniform("sns:ListSubscriptions", everything),
}
