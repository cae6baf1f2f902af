"""Step `notify`: the run's outcome to the alerts topic (success summary or failure)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from etl_lambdas.aws import client, throttling_as_retryable
from etl_lambdas.config import step_environment
from etl_lambdas.notifications import message

SNS_TOPIC_ARN = step_environment("notify")["SNS_TOPIC_ARN"]

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    title, text = message(event)
    with throttling_as_retryable():
        message_id = client("sns").publish(TopicArn=SNS_TOPIC_ARN, Subject=title, Message=text)[
            "MessageId"
        ]
    result = {"status": event.get("status"), "subject": title, "message_id": message_id}
    logger.info("notified", extra=result)
    return result
