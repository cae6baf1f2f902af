"""Step `notify`: the run's outcome to the alerts topic (success summary or failure) and,
after a success, the run's metrics (etl_lambdas.metrics) for the dashboard."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from etl_lambdas import metrics
from etl_lambdas.aws import client, throttling_as_retryable
from etl_lambdas.config import step_environment
from etl_lambdas.notifications import message

_ENV = step_environment("notify")
SNS_TOPIC_ARN = _ENV["SNS_TOPIC_ARN"]

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    title, text = message(event)
    sent = 0
    if event.get("status") == "SUCCEEDED":
        # Before the message: a retry after a failed put sends no second message.
        sent = metrics.put(
            client("cloudwatch"),
            _ENV["METRICS_NAMESPACE"],
            metrics.success_metrics(event, _glue_job_run(event.get("glue_job_run_id"))),
            datetime.now(UTC),
        )
    with throttling_as_retryable():
        message_id = client("sns").publish(TopicArn=SNS_TOPIC_ARN, Subject=title, Message=text)[
            "MessageId"
        ]
    result = {
        "status": event.get("status"),
        "subject": title,
        "message_id": message_id,
        "metrics": sent,
    }
    logger.info("notified", extra=result)
    return result


def _glue_job_run(run_id: object) -> dict[str, Any] | None:
    """The run's Glue job run as Glue reports it (None when the event names none)."""
    if not isinstance(run_id, str) or not run_id:
        return None
    with throttling_as_retryable():
        job_run: dict[str, Any] = client("glue").get_job_run(
            JobName=_ENV["GLUE_JOB_NAME"], RunId=run_id
        )["JobRun"]
    return job_run
