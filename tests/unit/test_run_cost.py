"""A run's cost from what AWS reports, on a hand-made history and hand-computed prices."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from etl_lambdas import prices, run_cost

MB = 1024 * 1024
REGION = "eu-west-1"
PARENT = f"arn:aws:states:{REGION}:123456789012:execution:lake-prod-pipeline:run-1"
CHILD = f"arn:aws:states:{REGION}:123456789012:execution:lake-prod-model:child-1"
T0 = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)


def _function(step: str) -> str:
    return f"arn:aws:lambda:{REGION}:123456789012:function:lake-prod-{step}"


class _History:
    """Builds an execution history as GetExecutionHistory returns it: ids counted from 1,
    each event chained to the one before it in its state (previousEventId)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def add(self, kind: str, previous: int | None, seconds: float, **details: Any) -> int:
        event_id = len(self.events) + 1
        event: dict[str, Any] = {
            "id": event_id,
            "previousEventId": event_id - 1 if previous is None else previous,
            "type": kind,
            "timestamp": T0 + timedelta(seconds=seconds),
        }
        if details:
            event[f"{kind[0].lower()}{kind[1:]}EventDetails"] = details
        self.events.append(event)
        return event_id

    def lambda_task(
        self, state: str, step: str, at: float, seconds: float, payload: Any, fail_first: bool
    ) -> None:
        entered = self.add("TaskStateEntered", None, at, name=state)
        parameters = json.dumps({"FunctionName": _function(step), "Payload": {}})
        previous = entered
        if fail_first:  # the first attempt fails after 0.5 s, then the Retry schedules again
            scheduled = self.add(
                "TaskScheduled", previous, at, resourceType="lambda", parameters=parameters
            )
            started = self.add("TaskStarted", scheduled, at, resourceType="lambda")
            previous = self.add("TaskFailed", started, at + 0.5, error="Lambda.ServiceException")
        scheduled = self.add(
            "TaskScheduled", previous, at + 1, resourceType="lambda", parameters=parameters
        )
        started = self.add("TaskStarted", scheduled, at + 1, resourceType="lambda")
        output = json.dumps({"StatusCode": 200, "Payload": payload})
        done = self.add("TaskSucceeded", started, at + 1 + seconds, output=output)
        self.add("TaskStateExited", done, at + 1 + seconds, name=state)

    def integration(
        self, state: str, resource: str, at: float, submitted: Mapping[str, Any]
    ) -> None:
        entered = self.add("TaskStateEntered", None, at, name=state)
        scheduled = self.add("TaskScheduled", entered, at, resourceType=resource)
        started = self.add("TaskStarted", scheduled, at, resourceType=resource)
        sent = self.add(
            "TaskSubmitted", started, at, resourceType=resource, output=json.dumps(submitted)
        )
        done = self.add("TaskSucceeded", sent, at + 60, resourceType=resource, output="{}")
        self.add("TaskStateExited", done, at + 60, name=state)


def _histories() -> dict[str, list[dict[str, Any]]]:
    parent = _History()
    parent.add("ExecutionStarted", 0, 0)
    parent.lambda_task("Begin", "begin", 0, 1.2345, {"run_id": "r"}, fail_first=True)
    parent.integration("ConvertRaw", "glue", 3, {"JobRunId": "jr_1", "JobName": "lake-prod-job"})
    # a crawl: started at 70 s, still running at 100 s, seen SUCCEEDED at 700 s
    parent.lambda_task("StartCrawlers", "crawler-start", 69, 0.25, {"crawlers": ["c1"]}, False)
    parent.lambda_task("CrawlersState", "crawler-state", 99, 0.25, {"status": "RUNNING"}, False)
    parent.lambda_task("CrawlersState", "crawler-state", 699, 0.25, {"status": "SUCCEEDED"}, False)
    parent.add("MapStateEntered", None, 710, name="Tiers")
    parent.integration("RunModel", "states", 711, {"ExecutionArn": CHILD})
    parent.add("SucceedStateEntered", None, 800, name="Succeeded")
    parent.add("ExecutionSucceeded", None, 800)

    child = _History()
    child.add("ExecutionStarted", 0, 711)
    child.lambda_task("Write", "write", 711, 2.0, {"query_ids": ["q1", "q2"]}, False)
    child.add("PassStateEntered", None, 714, name="CountQueriesPoll")
    child.add("ChoiceStateEntered", None, 714, name="QueriesDone")
    child.lambda_task("AuditStart", "audit-start", 715, 0.25, {"query_execution_id": "q3"}, False)
    child.add("ExecutionSucceeded", None, 720)
    return {PARENT: parent.events, CHILD: child.events}


class _Aws:
    """What AWS answers about the run's resources (the documented response shapes), one
    client object for every service."""

    def __init__(self, job_run: Mapping[str, Any]) -> None:
        self.histories = _histories()
        self.job_run = dict(job_run)
        self.queries = {
            "q1": _query("SUCCEEDED", "DML", 3 * MB),
            "q2": _query("SUCCEEDED", "DML", 25 * MB + MB // 2),
            "q3": _query("FAILED", "DML", 40 * MB),
        }

    def __call__(self, service: str) -> _Aws:
        return self

    def get_execution_history(self, executionArn: str, maxResults: int, nextToken: str = "0"):
        events = self.histories[executionArn]
        start = int(nextToken)
        page: dict[str, Any] = {"events": events[start : start + 5]}
        if start + 5 < len(events):
            page["nextToken"] = str(start + 5)  # pages of 5: the paging is exercised too
        return page

    def batch_get_query_execution(self, QueryExecutionIds: list[str]) -> dict[str, Any]:
        return {"QueryExecutions": [self.queries[q] for q in QueryExecutionIds]}

    def get_job_run(self, JobName: str, RunId: str) -> dict[str, Any]:
        assert (JobName, RunId) == ("lake-prod-job", "jr_1")
        return {"JobRun": {"Id": RunId, "JobName": JobName, **self.job_run}}

    def get_function_configuration(self, FunctionName: str) -> dict[str, Any]:
        assert FunctionName.startswith(f"arn:aws:lambda:{REGION}:")
        return {"FunctionArn": FunctionName, "MemorySize": 256, "Architectures": ["x86_64"]}


def _query(state: str, kind: str, scanned: int) -> dict[str, Any]:
    return {
        "Status": {"State": state},
        "StatementType": kind,
        "Statistics": {"DataScannedInBytes": scanned},
    }


FLEX_RUN = {
    "JobRunState": "SUCCEEDED",
    "ExecutionClass": "FLEX",
    "WorkerType": "G.1X",
    "NumberOfWorkers": 3,
    "ExecutionTime": 80,
    "DPUSeconds": 200.0,
}


def test_the_histories_give_transitions_retries_invocations_queries_and_children() -> None:
    usage = run_cost.read_usage(_Aws(FLEX_RUN)("stepfunctions"), PARENT)

    assert usage.executions == [PARENT, CHILD]
    # parent: Begin, ConvertRaw, StartCrawlers, CrawlersState x2, Tiers, RunModel, Succeeded,
    # and Begin's retry; child: Write, CountQueriesPoll, QueriesDone, AuditStart
    assert usage.state_transitions == 9 + 4
    assert [(run_cost.step_of(i.function), i.seconds) for i in usage.invocations] == [
        ("begin", 0.5),
        ("begin", 1.2345),
        ("crawler-start", 0.25),
        ("crawler-state", 0.25),
        ("crawler-state", 0.25),
        ("write", 2.0),
        ("audit-start", 0.25),
    ]
    assert usage.query_ids == ["q1", "q2", "q3"]
    assert usage.job_runs == [("lake-prod-job", "jr_1")]
    # from the end of StartCrawlers (70.25 s) to the poll that saw the crawl end (700.25 s)
    assert [(c.crawler, c.seconds) for c in usage.crawls] == [("c1", 630.0)]


def test_each_service_is_priced_by_its_billing_rule() -> None:
    price = prices.for_region(REGION)

    document = run_cost.measure(_Aws(FLEX_RUN), PARENT, transitions_after=2)

    services = document["services"]
    # Athena: 3 MB bills the 10 MB minimum, 25.5 MB rounds up to 26, the failed query is free
    assert services["athena"]["billed_bytes"] == 36 * MB
    assert services["athena"]["charged_queries"] == 2 and services["athena"]["queries"] == 3
    assert services["athena"]["usd"] == pytest.approx(36 * MB / 1024**4 * 5.0, abs=1e-6)
    # Glue Flex: the run's reported DPU-seconds at the Flex price
    (glue_run,) = services["glue_job"]["runs"]
    assert glue_run["dpu_seconds"] == 200.0 and glue_run["execution_class"] == "FLEX"
    assert services["glue_job"]["usd"] == pytest.approx(200 / 3600 * 0.29, abs=1e-6)
    # Step Functions: 13 transitions recorded + the 2 still to come
    assert services["step_functions"]["state_transitions"] == 15
    assert services["step_functions"]["usd"] == pytest.approx(15 * 0.025 / 1000, abs=1e-6)
    # Lambda: 7 requests, durations rounded up to the millisecond, at 256 MB
    billed = 0.5 + 1.235 + 0.25 * 4 + 2.0
    assert services["lambda"]["gb_seconds"] == pytest.approx(billed / 4, abs=1e-3)
    assert services["lambda"]["usd"] == pytest.approx(
        billed / 4 * 0.0000166667 + 7 * 0.20 / 1e6, abs=1e-6
    )
    # the crawl: 630 s on 2 DPUs (an estimate, said so)
    assert services["crawler"]["usd"] == pytest.approx(2 * 630 / 3600 * 0.44, abs=1e-6)
    assert "estimated" in services["crawler"]
    assert document["total_usd"] == pytest.approx(sum(s["usd"] for s in services.values()))
    assert (
        document["prices"] == price.describe() == ("eu-west-1 list prices (etl_lambdas/prices.py)")
    )
    assert "S3" in document["not_included"] and "unpriced" not in document


def test_a_standard_run_is_billed_its_execution_time_on_its_workers_with_the_minute_minimum() -> (
    None
):
    # given a standard run of 30 s on 2 x G.2X (4 DPUs): no DPUSeconds reported
    standard = {"ExecutionClass": "STANDARD", "WorkerType": "G.2X", "NumberOfWorkers": 2,
                "ExecutionTime": 30}  # fmt: skip
    # when it is priced
    document = run_cost.measure(_Aws(standard), PARENT)
    # then 4 DPUs are billed for the one-minute minimum
    (glue_run,) = document["services"]["glue_job"]["runs"]
    assert glue_run["dpu_seconds"] == 120.0
    assert document["services"]["glue_job"]["usd"] == pytest.approx(4 * 60 / 3600 * 0.44, abs=1e-6)


def test_a_worker_type_without_a_price_is_named_not_guessed() -> None:
    memory_optimized = {"WorkerType": "R.1X", "NumberOfWorkers": 2, "ExecutionTime": 600}

    document = run_cost.measure(_Aws(memory_optimized), PARENT)

    assert document["services"]["glue_job"] == {"usd": 0.0, "runs": []}
    assert document["unpriced"] == ["Glue job run jr_1: worker type 'R.1X'"]


def test_the_run_cost_step_adds_its_own_invocation_and_the_states_after_it(
    load_step: Any, monkeypatch: pytest.MonkeyPatch, context: Any
) -> None:
    step = load_step("run_cost")
    monkeypatch.setattr(step, "client", _Aws(FLEX_RUN))

    document = step.handler({"execution": PARENT, "transitions_after": 2}, context)

    assert document["services"]["step_functions"]["state_transitions"] == 15
    assert document["services"]["lambda"]["invocations"] == 8
    with pytest.raises(Exception, match="not an execution ARN"):
        step.handler({"execution": "run-1"}, context)


def test_athena_bills_a_ctas_and_frees_other_ddl() -> None:
    ctas = {**_query("SUCCEEDED", "DDL", 0), "SubstatementType": "CREATE_TABLE_AS_SELECT"}
    drop = {**_query("SUCCEEDED", "DDL", 0), "SubstatementType": "DROP_TABLE"}
    cancelled = _query("CANCELLED", "DML", 12 * MB)
    aws = _Aws(FLEX_RUN)
    aws.queries.update(q1=ctas, q2=drop, q3=cancelled)

    athena = run_cost.cost_document(
        run_cost.RunUsage(query_ids=["q1", "q2", "q3"]), aws, prices.for_region(REGION)
    )["services"]["athena"]

    assert athena["charged_queries"] == 2 and athena["billed_bytes"] == 10 * MB + 12 * MB


def test_prices_are_per_region_and_a_region_without_a_row_says_whose_it_uses() -> None:
    assert prices.for_region("eu-west-1").exact
    unknown = prices.for_region("ap-southeast-4")
    assert not unknown.exact and unknown.region == "ap-southeast-4"
    assert unknown.describe() == (
        "us-east-1 list prices: etl_lambdas/prices.py has no row for ap-southeast-4"
    )
    assert prices.athena_billed_bytes(0) == 10 * MB
    assert prices.athena_billed_bytes(10 * MB + 1) == 11 * MB
    assert prices.lambda_billed_seconds(1.2341) == 1.235
    assert prices.lambda_billed_seconds(2.0) == 2.0
    with pytest.raises(ValueError, match="FLEXIBLE"):
        prices.glue_dpu_hour_price(unknown, "FLEXIBLE")
