"""Step `notify`: the run's outcome to the SNS topic (success summary or failure)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger

from etl_lambdas.aws import client, throttling_as_retryable
from etl_lambdas.config import read_environment
from etl_lambdas.errors import InvalidRunRequest

SNS_TOPIC_ARN = read_environment("SNS_TOPIC_ARN")["SNS_TOPIC_ARN"]

logger = Logger(service="etl")

SUBJECT_LIMIT = 100  # SNS rejects longer subjects


def subject(text: str) -> str:
    # SNS subjects: printable ASCII, no line breaks, at most 100 characters.
    flat = " ".join(text.split()).encode("ascii", "replace").decode("ascii")
    return flat if len(flat) <= SUBJECT_LIMIT else flat[: SUBJECT_LIMIT - 3] + "..."


def _models(results: object) -> list[dict[str, Any]]:
    """Flatten the tiers Map's output (a list per tier of model results)."""
    flat: list[dict[str, Any]] = []
    if isinstance(results, list):
        for item in results:
            if isinstance(item, list):
                flat.extend(_models(item))
            elif isinstance(item, dict):
                flat.append(item)
    return flat


def _cause(error: dict[str, Any]) -> str:
    """The Catch error's Cause; a Lambda's is JSON with errorMessage."""
    cause = error.get("Cause")
    if isinstance(cause, str):
        try:
            decoded = json.loads(cause)
        except ValueError:
            return cause
        if isinstance(decoded, dict) and "errorMessage" in decoded:
            return str(decoded["errorMessage"])
        return cause
    return "" if cause is None else json.dumps(cause)


def _innermost(state: str, error: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A model's failure inside the tiers Map arrives as ModelFailed whose Cause is a JSON
    {"failed_state", "model", "error"}: report that state, model and error instead."""
    try:
        inner = json.loads(error.get("Cause") or "")
    except (TypeError, ValueError):
        return state, error
    if isinstance(inner, dict) and isinstance(inner.get("error"), dict) and "failed_state" in inner:
        where = f"{state} > {inner['failed_state']}"
        if inner.get("model"):
            where += f" ({inner['model']})"
        return where, inner["error"]
    return state, error


def success_message(event: dict[str, Any]) -> tuple[str, str]:
    plan = event.get("plan") or {}
    models = _models(event.get("results"))
    run = plan.get("run_id", "?")
    window = f"{plan.get('start_date', '?')}..{plan.get('end_date', '?')}"
    lines = [f"Run {run} SUCCEEDED for {window}.", ""]
    for model in models:
        lines.append(
            f"- {model.get('table', model.get('model'))}: "
            f"{model.get('partitions', '?')} partition(s) published"
            + (f", {model['rows']} rows" if "rows" in model else "")
        )
    body = {
        "status": "SUCCEEDED",
        "run_id": run,
        "start_date": plan.get("start_date"),
        "end_date": plan.get("end_date"),
        "models": models,
    }
    text = "\n".join(lines) + "\n\n" + json.dumps(body, indent=2, sort_keys=True)
    return subject(f"ETL run {run} SUCCEEDED {window}"), text


def failure_message(event: dict[str, Any]) -> tuple[str, str]:
    error = event.get("error") or {}
    if not isinstance(error, dict):
        error = {"Cause": str(error)}
    state = str(event.get("failed_state") or "unknown state")
    execution = event.get("execution", "?")
    state, error = _innermost(state, error)
    name = str(error.get("Error", "Error"))
    cause = _cause(error)
    text = (
        f"Execution {execution} FAILED in {state}.\n\nError: {name}\nCause: {cause}\n\n"
        + json.dumps(
            {
                "status": "FAILED",
                "execution": execution,
                "failed_state": state,
                "error": name,
                "cause": cause,
                "input": event.get("input"),
            },
            indent=2,
            sort_keys=True,
            default=str,
        )
    )
    return subject(f"ETL FAILED in {state}: {name}"), text


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Event: {"status": "SUCCEEDED", "plan", "results"} or {"status": "FAILED", "error", ...}."""
    status = event.get("status")
    if status == "SUCCEEDED":
        title, text = success_message(event)
    elif status == "FAILED":
        title, text = failure_message(event)
    else:
        raise InvalidRunRequest(f"status {status!r} must be SUCCEEDED or FAILED")
    with throttling_as_retryable():
        message_id = client("sns").publish(TopicArn=SNS_TOPIC_ARN, Subject=title, Message=text)[
            "MessageId"
        ]
    logger.info("notified", extra={"status": status, "subject": title, "message_id": message_id})
    return {"status": status, "subject": title, "message_id": message_id}
