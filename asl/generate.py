"""Writes the state machine templates, asl/pipeline.asl.json and asl/model.asl.json.

The two JSON files are what Terraform renders (templatefile) and what the local runtime
runs; this script is where they are written from, so that each retry policy and each task
shape is defined once instead of copied into every state. Edit this file, then run
`python asl/generate.py` (tests/asl check that the JSON files are its output).

Placeholders `${name}` are filled by Terraform: the functions' ARNs (one per step of
lambdas/etl_lambdas/steps/steps.yaml), the Glue job's name, the model machine's ARN, and
numbers (written unquoted, so the templates are JSON only once rendered).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TEMPLATES = {"pipeline": HERE / "pipeline.asl.json", "model": HERE / "model.asl.json"}

State = dict[str, Any]

# Errors no retry can fix: a bad input or configuration, a broken model catalogue.
NOT_RETRIED = ["InvalidRunRequest", "ConfigurationError", "CatalogError"]
# The Lambda service's transient errors, as AWS recommends retrying them for Lambda tasks
# ("Handle Lambda service exceptions", AWS Step Functions Developer Guide).
LAMBDA_SERVICE_ERRORS = [
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]


def number(name: str) -> str:
    """A numeric placeholder: rendered unquoted (see `render`)."""
    return f"@number:{name}@"


def lambda_retry(*also_not_retried: str) -> list[State]:
    """Specific errors first, throttling with backoff and jitter, States.ALL last."""
    return [
        {"ErrorEquals": [*NOT_RETRIED, *also_not_retried], "MaxAttempts": 0},
        {
            "ErrorEquals": LAMBDA_SERVICE_ERRORS,
            "IntervalSeconds": 2,
            "MaxAttempts": 6,
            "BackoffRate": 2.0,
            "MaxDelaySeconds": 60,
            "JitterStrategy": "FULL",
        },
        {
            "ErrorEquals": ["Throttled"],
            "IntervalSeconds": 2,
            "MaxAttempts": 8,
            "BackoffRate": 2.0,
            "MaxDelaySeconds": 120,
            "JitterStrategy": "FULL",
        },
        {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 5, "MaxAttempts": 2, "BackoffRate": 2.0},
    ]


def catch(next_state: str, result_path: str = "$.error") -> list[State]:
    return [{"ErrorEquals": ["States.ALL"], "ResultPath": result_path, "Next": next_state}]


def lambda_task(
    step: str,
    payload: State,
    *,
    result_path: str,
    next_state: str,
    caught: str,
    retry: list[State] | None = None,
    polls: bool = False,
) -> State:
    """A Lambda step: its payload, its result under `result_path` (with a poll counter when
    it starts something the machine polls), Retry, Catch and the Lambda's timeout."""
    selector: State = {"Payload.$": "$.Payload"}
    if polls:
        selector["polls"] = 0
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {
            "FunctionName": f"${{{step.replace('-', '_')}_function_arn}}",
            "Payload": payload,
        },
        "ResultSelector": selector,
        "ResultPath": result_path,
        "TimeoutSeconds": number("lambda_timeout_seconds"),
        "Retry": retry if retry is not None else lambda_retry(),
        "Catch": catch(caught),
        "Next": next_state,
    }


def poll_loop(
    *,
    prefix: str,
    started_path: str,
    state_task: State,
    state_path: str,
    poll_seconds: str,
    max_polls: str,
    on_success: str,
    on_unsuccessful: str,
    on_timeout: str,
    extra_choices: Sequence[State] = (),
) -> dict[str, State]:
    """Wait -> <prefix>State -> count -> Choice, bounded by `max_polls`: the one shape of
    every "start something, then poll it" in both machines. The task that starts something
    enters the loop at its Wait, or at its State when that State watches for a while first
    (Athena queries: `query_settle_seconds`), so a short query costs no Wait at all."""
    status = f"{state_path}.Payload.status"
    return {
        f"WaitFor{prefix}": {
            "Type": "Wait",
            "Seconds": number(poll_seconds),
            "Next": f"{prefix}State",
        },
        f"{prefix}State": {**state_task, "Next": f"Count{prefix}Poll"},
        f"Count{prefix}Poll": {
            "Type": "Pass",
            "Parameters": {
                "Payload.$": f"{started_path}.Payload",
                "polls.$": f"States.MathAdd({started_path}.polls, 1)",
            },
            "ResultPath": started_path,
            "Next": f"{prefix}Done",
        },
        f"{prefix}Done": {
            "Type": "Choice",
            "Choices": [
                {"Variable": status, "StringEquals": "SUCCEEDED", "Next": on_success},
                *extra_choices,
                {"Variable": status, "StringEquals": "FAILED", "Next": on_unsuccessful},
                {"Variable": status, "StringEquals": "CANCELLED", "Next": on_unsuccessful},
                {
                    "And": [
                        {"Variable": status, "StringEquals": "RUNNING"},
                        {"Variable": f"{started_path}.polls", "NumericLessThan": number(max_polls)},
                    ],
                    "Next": f"WaitFor{prefix}",
                },
            ],
            "Default": on_timeout,
        },
    }


def states_until_end(states: dict[str, State], first: str) -> list[str]:
    """The states entered from `first` to the end, following each state's Next."""
    names: list[str] = []
    current: str | None = first
    while current is not None:
        names.append(current)
        current = states[current].get("Next")
    return names


def failure(state: str, error: State | str, *, next_state: str, **extra: str) -> State:
    """A Pass that records where and why the run failed under $.failure."""
    parameters: State = {"failed_state": state, **extra}
    if isinstance(error, str):
        parameters["error.$"] = error
    else:
        parameters["error"] = error
    return {"Type": "Pass", "Parameters": parameters, "ResultPath": "$.failure", "Next": next_state}


# -- the pipeline machine ---------------------------------------------------------------------

RUN = "$.run.Payload"


def pipeline() -> State:
    states: dict[str, State] = {}
    begin_retry = lambda_retry()
    # Another execution holds the lease: wait for it (bounded), then fail naming it.
    begin_retry.insert(
        1,
        {
            "ErrorEquals": ["PipelineBusy"],
            "IntervalSeconds": number("lease_retry_seconds"),
            "MaxAttempts": number("lease_max_attempts"),
            "BackoffRate": 2.0,
            "MaxDelaySeconds": 900,
        },
    )
    states["Begin"] = lambda_task(
        "begin",
        {
            "input.$": "$",
            "execution": {
                "name.$": "$$.Execution.Name",
                "id.$": "$$.Execution.Id",
                "start_time.$": "$$.Execution.StartTime",
            },
        },
        result_path="$.run",
        next_state="ConversionNeeded",
        caught="BeginCaught",
        retry=begin_retry,
    )
    # A run with a selection whose sources the ODS already holds skips the Glue job (Begin
    # decides from the ODS partitions' records: etl_lambdas.ods_state).
    states["ConversionNeeded"] = {
        "Type": "Choice",
        "Choices": [
            {"Variable": f"{RUN}.convert_raw", "BooleanEquals": False, "Next": "ConversionSkipped"}
        ],
        "Default": "ConvertRaw",
    }
    # The same `$.convert` as a job run, naming none: the states after it read one shape.
    states["ConversionSkipped"] = {
        "Type": "Pass",
        "Result": {"JobRunId": None, "JobRunState": "SKIPPED"},
        "ResultPath": "$.convert",
        "Next": "Register",
    }
    states["ConvertRaw"] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::glue:startJobRun.sync",
        "Parameters": {"JobName": "${glue_job_name}", "Arguments.$": f"{RUN}.glue_arguments"},
        "ResultSelector": {"JobRunId.$": "$.Id", "JobRunState.$": "$.JobRunState"},
        "ResultPath": "$.convert",
        "TimeoutSeconds": number("glue_job_timeout_seconds"),
        "Retry": [
            {
                "ErrorEquals": [
                    "Glue.ConcurrentRunsExceededException",
                    "Glue.ThrottlingException",
                    "Glue.InternalServiceException",
                ],
                "IntervalSeconds": 30,
                "MaxAttempts": 5,
                "BackoffRate": 2.0,
                "MaxDelaySeconds": 600,
                "JitterStrategy": "FULL",
            },
            # Any other failure, once more with the same run id: the job converges from what
            # the first attempt left in the lake (its ledger entries and records).
            {
                "ErrorEquals": ["States.ALL"],
                "IntervalSeconds": number("glue_retry_seconds"),
                "MaxAttempts": 1,
                "BackoffRate": 2.0,
            },
        ],
        "Catch": catch("ConvertRawCaught"),
        "Next": "Register",
    }
    register_retry = lambda_retry("SchemaNotSettled")
    states["Register"] = lambda_task(
        "register",
        {"run_id.$": f"{RUN}.run_id", "crawl_allowed": True},
        result_path="$.register",
        next_state="SchemaChanged",
        caught="RegisterCaught",
        retry=register_retry,
    )
    states["SchemaChanged"] = {
        "Type": "Choice",
        "Choices": [
            {
                "Variable": "$.register.Payload.crawlers[0]",
                "IsPresent": True,
                "Next": "StartCrawlers",
            }
        ],
        "Default": "Restate",
    }
    states["StartCrawlers"] = lambda_task(
        "crawler-start",
        {"crawlers.$": "$.register.Payload.crawlers"},
        result_path="$.crawl",
        next_state="WaitForCrawlers",
        caught="StartCrawlersCaught",
        polls=True,
    )
    states.update(
        poll_loop(
            prefix="Crawlers",
            started_path="$.crawl",
            state_task=lambda_task(
                "crawler-state",
                {"crawlers.$": "$.crawl.Payload.crawlers"},
                result_path="$.crawler_state",
                next_state="",
                caught="CrawlersStateCaught",
            ),
            state_path="$.crawler_state",
            poll_seconds="crawler_poll_seconds",
            max_polls="crawler_max_polls",
            on_success="RegisterAfterCrawl",
            on_unsuccessful="CrawlersUnsuccessful",
            on_timeout="CrawlersTimedOut",
        )
    )
    states["RegisterAfterCrawl"] = lambda_task(
        "register",
        {"run_id.$": f"{RUN}.run_id", "crawl_allowed": False},
        result_path="$.register",
        next_state="Restate",
        caught="RegisterCaught",
        retry=register_retry,
    )
    states["Restate"] = lambda_task(
        "restate",
        {"run.$": RUN},
        result_path="$.restate",
        next_state="Tiers",
        caught="RestateCaught",
    )
    states["Tiers"] = {
        "Type": "Map",
        "ItemsPath": "$.restate.Payload.tiers",
        # Tiers in order: a tier reads only the tiers before it.
        "MaxConcurrency": 1,
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "INLINE"},
            "StartAt": "Models",
            "States": {
                "Models": {
                    "Type": "Map",
                    "ItemsPath": "$.models",
                    "MaxConcurrency": number("max_concurrency"),
                    "ItemProcessor": {
                        "ProcessorConfig": {"Mode": "INLINE"},
                        "StartAt": "RunModel",
                        "States": run_model_states(),
                    },
                    "End": True,
                }
            },
        },
        "ResultPath": "$.results",
        "Catch": catch("TiersCaught"),
        "Next": "Finish",
    }
    states["Finish"] = lambda_task(
        "finish",
        {
            "status": "SUCCEEDED",
            "execution.$": "$$.Execution.Id",
            "run_id.$": f"{RUN}.run_id",
            "settle.$": "$.restate.Payload.settle",
        },
        result_path="$.finish",
        next_state="MeasureCost",
        caught="FinishCaught",
    )
    states["NotifySuccess"] = lambda_task(
        "notify",
        {
            "status": "SUCCEEDED",
            "plan.$": RUN,
            "results.$": "$.results",
            "register.$": "$.register.Payload",
            "restated.$": "$.restate.Payload.restated",
            "beyond_lookback.$": "$.restate.Payload.beyond_lookback",
            "future_events.$": "$.restate.Payload.future_events",
            "cost.$": "$.cost.Payload",
            # Its DPU-seconds become the run's GlueDPUSeconds metric.
            "glue_job_run_id.$": "$.convert.JobRunId",
        },
        result_path="$.notify",
        next_state="Succeeded",
        caught="NotifySuccessCaught",
    )
    states["Succeeded"] = {"Type": "Succeed"}
    # The run's cost, once the lease is back; a run that succeeded stays a success when its
    # cost cannot be read (the notification then says why).
    states["MeasureCost"] = lambda_task(
        "run-cost",
        {
            "execution.$": "$$.Execution.Id",
            # The history cannot hold the states still to come: they are counted from here.
            "transitions_after": len(states_until_end(states, "NotifySuccess")),
        },
        result_path="$.cost",
        next_state="NotifySuccess",
        caught="CostUnavailable",
    )
    states["MeasureCost"]["Catch"] = catch("CostUnavailable", "$.cost_error")
    states["CostUnavailable"] = {
        "Type": "Pass",
        "Parameters": {"Payload": {"unavailable.$": "$.cost_error"}},
        "ResultPath": "$.cost",
        "Next": "NotifySuccess",
    }
    for task, reason in (
        ("Begin", "BeginCaught"),
        ("ConvertRaw", "ConvertRawCaught"),
        ("Register", "RegisterCaught"),
        ("StartCrawlers", "StartCrawlersCaught"),
        ("CrawlersState", "CrawlersStateCaught"),
        ("Restate", "RestateCaught"),
        ("Tiers", "TiersCaught"),
        ("Finish", "FinishCaught"),
        ("NotifySuccess", "NotifySuccessCaught"),
    ):
        states[reason] = failure(task, "$.error", next_state="ReleaseLease")
    states["CrawlersUnsuccessful"] = failure(
        "CrawlersState",
        {
            "Error": "CrawlerFailed",
            "Cause.$": "States.Format('crawler {} ended {}: {}', $.crawler_state.Payload.crawler, "
            "$.crawler_state.Payload.status, $.crawler_state.Payload.reason)",
        },
        next_state="ReleaseLease",
    )
    states["CrawlersTimedOut"] = failure(
        "CrawlersState",
        {
            "Error": "CrawlerFailed",
            "Cause.$": "States.Format('crawler {} still {} after {} polls', "
            "$.crawler_state.Payload.crawler, $.crawler_state.Payload.status, $.crawl.polls)",
        },
        next_state="ReleaseLease",
    )
    # The lease goes back on every failure; a lease this execution does not hold stays.
    states["ReleaseLease"] = lambda_task(
        "finish",
        {"status": "FAILED", "execution.$": "$$.Execution.Id"},
        result_path="$.finish",
        next_state="FailureIntake",
        caught="FailureIntake",
    )
    states["ReleaseLease"]["Catch"] = catch("FailureIntake", "$.finish_error")
    # What the run's conversion took in (malformed lines per source...), when Register ran.
    states["FailureIntake"] = {
        "Type": "Choice",
        "Choices": [
            {"Variable": "$.register.Payload.intake", "IsPresent": True, "Next": "IntakeKnown"}
        ],
        "Default": "IntakeUnknown",
    }
    states["IntakeKnown"] = {
        "Type": "Pass",
        "Parameters": {
            "intake.$": "$.register.Payload.intake",
            "waiting_for_data.$": "$.register.Payload.waiting_for_data",
        },
        "ResultPath": "$.intake",
        "Next": "NotifyFailure",
    }
    states["IntakeUnknown"] = {
        "Type": "Pass",
        "Result": {"intake": [], "waiting_for_data": []},
        "ResultPath": "$.intake",
        "Next": "NotifyFailure",
    }
    states["NotifyFailure"] = lambda_task(
        "notify",
        {
            "status": "FAILED",
            "execution.$": "$$.Execution.Name",
            "input.$": "$$.Execution.Input",
            "failed_state.$": "$.failure.failed_state",
            "error.$": "$.failure.error",
            "intake.$": "$.intake.intake",
            "waiting_for_data.$": "$.intake.waiting_for_data",
        },
        result_path="$.notify",
        next_state="Failed",
        caught="Failed",
    )
    states["NotifyFailure"]["Catch"] = catch("Failed", "$.notify_error")
    states["Failed"] = {
        "Type": "Fail",
        "Error": "PipelineFailed",
        "CausePath": "States.JsonToString($.failure)",
    }
    return {
        "Comment": "Incremental ETL: begin (lease) -> Glue job -> register ODS partitions (crawl "
        "on schema change) -> restate late days -> tiers, each model in a child execution of "
        "the model machine -> finish (release) -> notify. Generated by asl/generate.py.",
        "StartAt": "Begin",
        "TimeoutSeconds": number("state_machine_timeout_seconds"),
        "States": states,
    }


def run_model_states() -> dict[str, State]:
    """One Map iteration: the model's work in a child execution of the model machine, so a
    model's polls count against the child's history, not the pipeline's (25,000 events)."""
    return {
        "RunModel": {
            "Type": "Task",
            "Resource": "arn:aws:states:::states:startExecution.sync:2",
            "Parameters": {
                "StateMachineArn": "${model_state_machine_arn}",
                "Input": {
                    "run_id.$": "$.run_id",
                    "model.$": "$.model",
                    "tier.$": "$.tier",
                    "windows.$": "$.windows",
                    "arrival_end_limit.$": "$.arrival_end_limit",
                    "lookback_days.$": "$.lookback_days",
                    "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id",
                },
            },
            "OutputPath": "$.Output",
            "TimeoutSeconds": number("model_timeout_seconds"),
            "Retry": [
                {
                    "ErrorEquals": [
                        "StepFunctions.ExecutionLimitExceededException",
                        "StepFunctions.ThrottlingException",
                        "StepFunctions.SdkClientException",
                    ],
                    "IntervalSeconds": 5,
                    "MaxAttempts": 6,
                    "BackoffRate": 2.0,
                    "MaxDelaySeconds": 300,
                    "JitterStrategy": "FULL",
                },
                # The child failed or ran out of time: its own states retried what could be
                # retried, so running the model again would repeat the failure.
                {"ErrorEquals": ["States.TaskFailed", "States.Timeout"], "MaxAttempts": 0},
                {
                    "ErrorEquals": ["States.ALL"],
                    "IntervalSeconds": 5,
                    "MaxAttempts": 2,
                    "BackoffRate": 2.0,
                },
            ],
            "Catch": catch("RunModelCaught"),
            "End": True,
        },
        "RunModelCaught": failure(
            "RunModel", "$.error", next_state="ModelFailed", **{"model.$": "$.model"}
        ),
        "ModelFailed": {
            "Type": "Fail",
            "Error": "ModelFailed",
            "CausePath": "States.JsonToString($.failure)",
        },
    }


# -- the model machine ---------------------------------------------------------------------------


def give_up_on_queries(prefix: str, path: str, query_ids: str) -> dict[str, State]:
    """Before a model fails on its queries (one failed, or they still run after the last
    poll), the ones still running are stopped: Athena would otherwise run them to their end
    and bill the data they scan. Then the model fails with the queries' own reason, even if
    stopping them failed."""
    stop = lambda_task(
        "query-state",
        {"query_ids.$": query_ids, "stop_running": True},
        result_path="$.stopped",
        next_state=f"{prefix}GaveUp",
        caught=f"{prefix}GaveUp",
    )
    stop["Catch"] = catch(f"{prefix}GaveUp", result_path="$.stop_error")
    status = f"{path}.Payload.status"
    return {
        f"Stop{prefix}": stop,
        f"{prefix}GaveUp": {
            "Type": "Choice",
            "Choices": [
                {"Variable": status, "StringEquals": "FAILED", "Next": f"{prefix}Unsuccessful"},
                {"Variable": status, "StringEquals": "CANCELLED", "Next": f"{prefix}Unsuccessful"},
            ],
            "Default": f"{prefix}TimedOut",
        },
    }


def model() -> State:
    states: dict[str, State] = {}
    ids = {"run_id.$": "$.run_id", "model.$": "$.model"}
    states["Write"] = lambda_task(
        "write",
        {
            **ids,
            "windows.$": "$.windows",
            "arrival_end_limit.$": "$.arrival_end_limit",
            "lookback_days.$": "$.lookback_days",
        },
        result_path="$.write",
        next_state="WriteSkipped",
        caught="WriteCaught",
        polls=True,
    )
    # A model whose sources have no rows in its days: nothing to write, audit or publish.
    states["WriteSkipped"] = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.write.Payload.skipped", "IsPresent": True, "Next": "Skipped"}],
        "Default": "QueriesState",
    }
    states["Skipped"] = {
        "Type": "Pass",
        "Parameters": {
            "model.$": "$.model",
            "tier.$": "$.tier",
            "run_id.$": "$.run_id",
            "windows.$": "$.windows",
            "table.$": "$.write.Payload.table",
            "partitions": 0,
            "rows": 0,
            "data_scanned_bytes": 0,
            "skipped.$": "$.write.Payload.skipped",
        },
        "End": True,
    }
    states.update(
        poll_loop(
            prefix="Queries",
            started_path="$.write",
            state_task=lambda_task(
                "query-state",
                {
                    "query_ids.$": "$.write.Payload.query_ids",
                    "settle_seconds": number("query_settle_seconds"),
                },
                result_path="$.query",
                next_state="",
                caught="QueriesStateCaught",
            ),
            state_path="$.query",
            poll_seconds="query_poll_seconds",
            max_polls="query_max_polls",
            on_success="FirstAudit",
            on_unsuccessful="StopQueries",
            on_timeout="StopQueries",
        )
    )
    states["FirstAudit"] = {
        "Type": "Pass",
        "Result": {"attempt": 1},
        "ResultPath": "$.audit_attempt",
        "Next": "AuditStart",
    }
    states["AuditStart"] = lambda_task(
        "audit-start",
        {
            **ids,
            "staging_tables.$": "$.write.Payload.staging_tables",
            "attempt.$": "$.audit_attempt.attempt",
            # The days the history checks judge.
            "windows.$": "$.windows",
        },
        result_path="$.audit",
        next_state="AuditState",
        caught="AuditStartCaught",
        polls=True,
    )
    retry_audit = {
        # A transient Athena failure (AthenaError.Retryable): a new query, bounded.
        "And": [
            {"Variable": "$.audit_query.Payload.status", "StringEquals": "FAILED"},
            {"Variable": "$.audit_query.Payload.retryable", "BooleanEquals": True},
            {
                "Variable": "$.audit_attempt.attempt",
                "NumericLessThan": number("audit_max_attempts"),
            },
        ],
        "Next": "NextAuditAttempt",
    }
    states.update(
        poll_loop(
            prefix="Audit",
            started_path="$.audit",
            state_task=lambda_task(
                "query-state",
                {
                    "query_ids.$": "States.Array($.audit.Payload.query_execution_id)",
                    "settle_seconds": number("query_settle_seconds"),
                },
                result_path="$.audit_query",
                next_state="",
                caught="AuditStateCaught",
            ),
            state_path="$.audit_query",
            poll_seconds="query_poll_seconds",
            max_polls="query_max_polls",
            on_success="AuditVerdict",
            on_unsuccessful="StopAudit",
            on_timeout="StopAudit",
            extra_choices=[retry_audit],
        )
    )
    states["NextAuditAttempt"] = {
        "Type": "Pass",
        "Parameters": {"attempt.$": "States.MathAdd($.audit_attempt.attempt, 1)"},
        "ResultPath": "$.audit_attempt",
        "Next": "AuditStart",
    }
    states["AuditVerdict"] = lambda_task(
        "audit-verdict",
        {**ids, "query_execution_id.$": "$.audit.Payload.query_execution_id"},
        result_path="$.verdict",
        next_state="Publish",
        caught="AuditVerdictCaught",
        retry=lambda_retry("AuditFailed", "QueryFailed"),
    )
    states["Publish"] = lambda_task(
        "publish",
        {
            **ids,
            "staging_tables.$": "$.write.Payload.staging_tables",
            # What computed the rows (Write's), recorded on every partition published.
            "fingerprints.$": "$.write.Payload.fingerprints",
        },
        result_path="$.publish",
        next_state="Summary",
        caught="PublishCaught",
    )
    states["Summary"] = {
        "Type": "Pass",
        "Parameters": {
            "model.$": "$.model",
            "tier.$": "$.tier",
            "run_id.$": "$.run_id",
            "windows.$": "$.windows",
            "table.$": "$.publish.Payload.table",
            "partitions.$": "$.publish.Payload.partitions",
            "rows.$": "$.verdict.Payload.rows",
            "data_scanned_bytes.$": "$.query.Payload.data_scanned_bytes",
        },
        "End": True,
    }
    for task, caught in (
        ("Write", "WriteCaught"),
        ("QueriesState", "QueriesStateCaught"),
        ("AuditStart", "AuditStartCaught"),
        ("AuditState", "AuditStateCaught"),
        ("AuditVerdict", "AuditVerdictCaught"),
        ("Publish", "PublishCaught"),
    ):
        states[caught] = failure(task, "$.error", next_state="ModelFailed", **ids)
    for prefix, path, started, label, query_ids in (
        ("Queries", "$.query", "$.write", "query", "$.write.Payload.query_ids"),
        (
            "Audit",
            "$.audit_query",
            "$.audit",
            "audit query",
            "States.Array($.audit.Payload.query_execution_id)",
        ),
    ):
        states.update(give_up_on_queries(prefix, path, query_ids))
        states[f"{prefix}Unsuccessful"] = failure(
            f"{prefix}State",
            {
                "Error": "QueryFailed",
                "Cause.$": f"States.Format('{label} {{}} {{}}: {{}}', "
                f"{path}.Payload.failed_query_id, {path}.Payload.status, {path}.Payload.reason)",
            },
            next_state="ModelFailed",
            **ids,
        )
        states[f"{prefix}TimedOut"] = failure(
            f"{prefix}State",
            {
                "Error": "QueryFailed",
                "Cause.$": f"States.Format('{label} still {{}} after {{}} polls', "
                f"{path}.Payload.status, {started}.polls)",
            },
            next_state="ModelFailed",
            **ids,
        )
    states["ModelFailed"] = {
        "Type": "Fail",
        "Error": "ModelFailed",
        "CausePath": "States.JsonToString($.failure)",
    }
    return {
        "Comment": "One model's work in a run: write (CTAS per chunk; skipped when its sources "
        "have no rows) -> poll -> audit -> poll -> verdict -> publish. Started by the pipeline "
        "machine. Generated by asl/generate.py.",
        "StartAt": "Write",
        "TimeoutSeconds": number("model_timeout_seconds"),
        "States": states,
    }


def render(machine: State) -> str:
    text = json.dumps(machine, indent=2) + "\n"
    return re.sub(r'"@number:([a-z_]+)@"', r"${\1}", text)


MACHINES = {"pipeline": pipeline, "model": model}


def main() -> int:
    for name, build in MACHINES.items():
        TEMPLATES[name].write_text(render(build()), encoding="utf-8")
        print(f"wrote {TEMPLATES[name].relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
