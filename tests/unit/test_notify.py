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
