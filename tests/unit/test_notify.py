"""Notify on moto SNS, read back through an SQS subscription."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from etl_lambdas.errors import InvalidRunRequest
from etl_lambdas.metrics import glue_dpu_seconds
from tests.unit.conftest import FakeLambdaContext

NAMESPACE = "lake-dev"
JOB = "lake-dev-convert-raw"


@pytest.fixture
def topic(load_step: Any) -> Any:
    with mock_aws():
        sns, sqs = boto3.client("sns"), boto3.client("sqs")
        arn = sns.create_topic(Name="lake-dev-alerts")["TopicArn"]
        queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
        notify = load_step(
            "notify", SNS_TOPIC_ARN=arn, METRICS_NAMESPACE=NAMESPACE, GLUE_JOB_NAME=JOB
        )

        def receive() -> dict[str, Any]:
            messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
            assert len(messages) == 1
            return dict(json.loads(messages[0]["Body"]))

        yield notify, receive


def test_success_summary(topic: Any) -> None:
    notify, receive = topic
    plan = {
        "run_id": "20261121t020000z_0123abcd",
        "start_date": "2026-11-20",
        "end_date": "2026-11-20",
    }
    results = [
        [{"model": "events", "table": "lake_dwd.events", "partitions": 24, "rows": 900}],
        [{"model": "daily", "table": "lake_dws.daily", "partitions": 1, "rows": 3}],
    ]
    notify.handler({"status": "SUCCEEDED", "plan": plan, "results": results}, FakeLambdaContext())
    message = receive()
    assert (
        message["Subject"] == "ETL run 20261121t020000z_0123abcd SUCCEEDED 2026-11-20..2026-11-20"
    )
    assert "- lake_dwd.events: 24 partition(s) published, 900 rows" in message["Message"]
    assert "lake_dws.daily: 1 partition(s)" in message["Message"]


def test_failure_inside_a_model_names_state_model_and_cause(topic: Any) -> None:
    notify, receive = topic
    inner = {
        "failed_state": "Audit",
        "model": "events",
        "run_id": "r",
        "error": {
            "Error": "AuditFailed",
            "Cause": json.dumps(
                {"errorType": "AuditFailed", "errorMessage": "min_rows: 0 rows, at least 1"}
            ),
        },
    }
    notify.handler(
        {
            "status": "FAILED",
            "execution": "exec-1",
            "failed_state": "Tiers",
            "error": {"Error": "ModelFailed", "Cause": json.dumps(inner)},
        },
        FakeLambdaContext(),
    )
    message = receive()
    assert message["Subject"] == "ETL FAILED in Tiers > Audit (events): AuditFailed"
    assert "Cause: min_rows: 0 rows, at least 1" in message["Message"]


def test_failure_of_a_models_child_execution_is_followed_to_its_step(topic: Any) -> None:
    notify, receive = topic
    in_child = {
        "failed_state": "AuditVerdict",
        "model": "events",
        "run_id": "r",
        "error": {
            "Error": "AuditFailed",
            "Cause": json.dumps({"errorMessage": "min_rows: 0 rows"}),
        },
    }
    child = {"Status": "FAILED", "Error": "ModelFailed", "Cause": json.dumps(in_child)}
    iteration = {
        "failed_state": "RunModel",
        "model": "events",
        "error": {"Error": "States.TaskFailed", "Cause": json.dumps(child)},
    }
    notify.handler(
        {
            "status": "FAILED",
            "execution": "exec-2",
            "failed_state": "Tiers",
            "error": {"Error": "ModelFailed", "Cause": json.dumps(iteration)},
        },
        FakeLambdaContext(),
    )
    message = receive()
    assert message["Subject"] == (
        "ETL FAILED in Tiers > RunModel (events) > AuditVerdict (events): AuditFailed"
    )
    assert "Cause: min_rows: 0 rows" in message["Message"]


def test_subject_stays_within_the_sns_limit(topic: Any) -> None:
    notify, receive = topic
    notify.handler(
        {
            "status": "FAILED",
            "failed_state": "Plan" * 40,
            "error": {"Error": "InvalidRunRequest", "Cause": "bad\ndate"},
        },
        FakeLambdaContext(),
    )
    subject = receive()["Subject"]
    assert len(subject) == 100 and subject.endswith("...")


def test_unknown_status_is_rejected(topic: Any) -> None:
    notify, _ = topic
    with pytest.raises(InvalidRunRequest, match="status 'DONE'"):
        notify.handler({"status": "DONE"}, FakeLambdaContext())


def test_success_names_skipped_models_sources_without_data_and_malformed_lines(topic: Any) -> None:
    notify, receive = topic
    plan = {"run_id": "20261121t020000z_0123abcd", "start_date": "2026-11-20",
            "end_date": "2026-11-20", "caught_up": {"start_date": "2026-11-18",
                                                     "end_date": "2026-11-19"}}  # fmt: skip
    results = [
        [
            {"model": "events", "table": "lake_dwd.events", "partitions": 24, "rows": 900},
            {"model": "app_events", "table": "lake_dwd.app_events", "partitions": 0, "rows": 0,
             "skipped": "no rows in its sources: lake_ods.app_activity 2026-11-19..2026-11-21"},
        ]
    ]  # fmt: skip
    bad = {"partition": "s3://c/ods/traffic/year=2026/month=11/day=20/hour=05/",
           "file": "part-1.json.gz", "lines": 12}  # fmt: skip
    register = {
        "intake": [
            {"source": "traffic", "partitions_converted": 72, "new_events": 6_600_000,
             "malformed_lines": 12, "malformed_files": [bad], "malformed_files_not_named": 0,
             "unparsable_event_times": 0},
            {"source": "app_activity", "partitions_converted": 0, "new_events": 0,
             "malformed_lines": 0, "malformed_files": [], "malformed_files_not_named": 0,
             "unparsable_event_times": 0},
        ],
        "waiting_for_data": ["app_activity"],
    }  # fmt: skip
    event = {"status": "SUCCEEDED", "plan": plan, "results": results, "register": register}

    notify.handler(event, FakeLambdaContext())

    text = receive()["Message"]
    assert "Caught up 2026-11-18..2026-11-19" in text
    assert "- lake_dwd.app_events: SKIPPED, no rows in its sources" in text
    assert "- source app_activity: no data yet" in text
    assert (
        "- source traffic: 6,600,000 new events in 72 partition(s) converted, 12 MALFORMED lines "
        "dropped (in s3://c/ods/traffic/year=2026/month=11/day=20/hour=05/part-1.json.gz (12))"
    ) in text
    body = json.loads(text[text.index("\n{") :])
    assert body["sources"][0]["malformed_lines"] == 12
    assert body["models"][1]["skipped"].startswith("no rows")


def test_a_failure_also_says_what_the_conversion_dropped(topic: Any) -> None:
    notify, receive = topic
    intake = [{"source": "app_activity", "partitions_converted": 1, "new_events": 9,
               "malformed_lines": 3, "malformed_files": [], "malformed_files_not_named": 0,
               "unparsable_event_times": 0}]  # fmt: skip
    event = {
        "status": "FAILED", "execution": "e1", "input": {}, "failed_state": "Tiers",
        "error": {"Error": "ModelFailed", "Cause": "x"}, "intake": intake,
        "waiting_for_data": [],
    }  # fmt: skip
    notify.handler(event, FakeLambdaContext())
    text = receive()["Message"]
    assert "- source app_activity: 9 new events in 1 partition(s) converted, 3 MALFORMED" in text


def test_success_carries_the_runs_cost_or_why_it_is_missing(topic: Any) -> None:
    # given a run whose cost was measured, and one whose measurement failed
    notify, receive = topic
    plan = {"run_id": "20261121t020000z_0123abcd", "start_date": "2026-11-20"}
    cost = {
        "total_usd": 0.0123,
        "prices": "eu-west-1 list prices (etl_lambdas/prices.py)",
        "services": {
            "athena": {"usd": 0.0004, "queries": 9, "scanned_bytes": 80 * 1024**2},
            "glue_job": {
                "usd": 0.0116,
                "runs": [
                    {
                        "dpu_seconds": 144.0,
                        "execution_class": "FLEX",
                        "workers": 3,
                        "worker_type": "G.1X",
                    }
                ],
            },
            "step_functions": {"usd": 0.0002, "state_transitions": 90, "executions": 8},
            "lambda": {"usd": 0.0001, "invocations": 40, "gb_seconds": 5.2},
            "crawler": {"usd": 0.0, "crawls": 0},
        },
        "not_included": "S3 requests",
    }
    unavailable = {"unavailable": {"Error": "States.Timeout", "Cause": "no answer"}}
    # when each is notified
    notify.handler({"status": "SUCCEEDED", "plan": plan, "cost": cost}, FakeLambdaContext())
    measured = receive()["Message"]
    notify.handler({"status": "SUCCEEDED", "plan": plan, "cost": unavailable}, FakeLambdaContext())
    missing = receive()["Message"]
    # then the message gives the total, each service's figure and share, and what is left out
    assert "Cost: $0.0123 at eu-west-1 list prices (etl_lambdas/prices.py):" in measured
    assert "- athena: $0.0004 (9 queries, 80.0 MiB scanned)" in measured
    assert "- glue_job: $0.0116 (144.0 DPU-s FLEX (3 x G.1X))" in measured
    assert "- step_functions: $0.0002 (90 state transitions in 8 executions)" in measured
    assert "Not included: S3 requests" in measured
    assert json.loads(measured[measured.index("{") :])["cost"]["total_usd"] == 0.0123
    # or why there is no figure
    assert "Cost: not measured (States.Timeout: no answer)." in missing


def _metric_sums(namespace: str) -> dict[tuple[str, str], float]:
    """Every metric of the namespace (name, Source dimension or "") -> its sum, last hour."""
    cloudwatch = boto3.client("cloudwatch")
    now = datetime.now(UTC)
    sums = {}
    for metric in cloudwatch.list_metrics(Namespace=namespace)["Metrics"]:
        points = cloudwatch.get_metric_statistics(
            Namespace=namespace,
            MetricName=metric["MetricName"],
            Dimensions=metric.get("Dimensions", []),
            StartTime=now - timedelta(hours=1),
            EndTime=now + timedelta(minutes=1),
            Period=3600,
            Statistics=["Sum"],
        )["Datapoints"]
        source = next((d["Value"] for d in metric.get("Dimensions", [])), "")
        sums[(metric["MetricName"], source)] = sum(p["Sum"] for p in points)
    return sums


def test_a_success_sends_the_runs_metrics_before_its_message(topic: Any) -> None:
    notify, receive = topic
    glue = boto3.client("glue")
    glue.create_job(
        Name=JOB,
        Role="arn:aws:iam::123456789012:role/glue",
        Command={"Name": "glueetl", "ScriptLocation": "s3://artifacts/convert_raw.py"},
        WorkerType="G.1X",
        NumberOfWorkers=3,
    )
    run_id = glue.start_job_run(JobName=JOB)["JobRunId"]
    job_run = glue.get_job_run(JobName=JOB, RunId=run_id)["JobRun"]
    event = {
        "status": "SUCCEEDED",
        "plan": {"run_id": "r1", "start_date": "2026-11-20", "end_date": "2026-11-20"},
        "results": [],
        "restated": [
            {"date": "2026-11-18", "events": {"traffic": 10}},
            {"date": "2026-11-19", "events": {"traffic": 3}},
        ],
        "beyond_lookback": [],
        "register": {
            "intake": [
                {"source": "traffic", "new_events": 100, "malformed_lines": 7},
                {"source": "app_activity", "new_events": 20, "malformed_lines": 0},
            ]
        },
        "glue_job_run_id": run_id,
    }

    result = notify.handler(event, FakeLambdaContext())

    assert result["metrics"] == 4
    assert _metric_sums(NAMESPACE) == {
        ("RestatedDays", ""): 2,
        ("MalformedLines", "traffic"): 7,
        ("MalformedLines", "app_activity"): 0,
        ("GlueDPUSeconds", ""): glue_dpu_seconds(job_run),
    }
    assert "SUCCEEDED" in receive()["Subject"]


def test_a_failure_sends_no_metrics(topic: Any) -> None:
    notify, receive = topic
    notify.handler(
        {"status": "FAILED", "failed_state": "Begin", "error": {"Error": "PipelineBusy"}},
        FakeLambdaContext(),
    )
    receive()
    assert boto3.client("cloudwatch").list_metrics(Namespace=NAMESPACE)["Metrics"] == []


@pytest.mark.parametrize(
    ("job_run", "dpu_seconds"),
    [
        # FLEX (and Auto Scaling): Glue reports the executors' DPU-seconds itself.
        (
            {"DPUSeconds": 95.5, "ExecutionTime": 60, "WorkerType": "G.1X", "NumberOfWorkers": 3},
            95.5,
        ),
        ({"ExecutionTime": 40, "WorkerType": "G.1X", "NumberOfWorkers": 3}, 120),
        ({"ExecutionTime": 40, "WorkerType": "G.2X", "NumberOfWorkers": 5}, 400),
        ({"ExecutionTime": 40, "MaxCapacity": 10.0}, 400),
        ({}, 0),
    ],
)
def test_glue_dpu_seconds_are_what_glue_reports(
    job_run: dict[str, Any], dpu_seconds: float
) -> None:
    assert glue_dpu_seconds(job_run) == dpu_seconds
