"""Crawler start/state (moto Glue), write (moto Athena), query state (batched)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from etl_lambdas import athena_states, crawling
from etl_lambdas.errors import CrawlerFailed, InvalidRunRequest, Throttled
from etl_lambdas.staging import request_token
from tests.unit.conftest import FakeLambdaContext

CRAWLER = "lake-dev-ods-traffic"
CRAWLERS_ENV = {"SOURCE_CRAWLERS": json.dumps({"traffic": CRAWLER, "app": "lake-dev-ods-app"})}
RUN = "20261121t020000z_0123abcd"


@pytest.fixture
def glue_crawler() -> Any:
    with mock_aws():
        glue = boto3.client("glue")
        glue.create_database(DatabaseInput={"Name": "lake_dev_ods"})
        glue.create_crawler(
            Name=CRAWLER,
            Role="arn:aws:iam::123456789012:role/crawler",
            DatabaseName="lake_dev_ods",
            Targets={"S3Targets": [{"Path": "s3://c/ods/traffic/"}]},
        )
        yield glue


def test_crawler_start_is_idempotent(glue_crawler: Any, load_step: Any, context: Any) -> None:
    start = load_step("crawler_start", **CRAWLERS_ENV)
    event = {"crawlers": [CRAWLER]}
    assert start.handler(event, context)["already_running"] == []
    # A retried step finds it running: treated as started, not an error.
    assert start.handler(event, context)["already_running"] == [CRAWLER]
    state = load_step("crawler_state", **CRAWLERS_ENV).handler(event, context)
    assert (state["status"], state["crawlers"][0]["state"]) == ("RUNNING", "RUNNING")


def test_only_crawlers_of_declared_sources_start(
    glue_crawler: Any, load_step: Any, context: Any
) -> None:
    start = load_step("crawler_start", **CRAWLERS_ENV)
    with pytest.raises(InvalidRunRequest, match="not crawlers of declared sources"):
        start.handler({"crawlers": ["someone-elses"]}, context)
    with pytest.raises(CrawlerFailed, match="'lake-dev-ods-app' does not exist"):
        start.handler({"crawlers": ["lake-dev-ods-app"]}, context)


def test_crawler_never_run_has_no_verdict(glue_crawler: Any, load_step: Any, context: Any) -> None:
    state = load_step("crawler_state", **CRAWLERS_ENV)
    with pytest.raises(CrawlerFailed, match="last crawl status None"):
        state.handler({"crawlers": [CRAWLER]}, context)


@pytest.mark.parametrize(
    ("state", "last", "verdict"),
    [
        ("RUNNING", None, "RUNNING"),
        ("STOPPING", "SUCCEEDED", "RUNNING"),
        ("READY", "SUCCEEDED", "SUCCEEDED"),
        ("READY", "FAILED", "FAILED"),
        ("READY", "CANCELLED", "CANCELLED"),
    ],
)
def test_crawler_classification_uses_glue_values(
    state: str, last: str | None, verdict: str
) -> None:
    assert crawling.classify(CRAWLER, state, last) == verdict


def _stubbed_glue(answers: dict[str, tuple[str, str | None, str | None]]) -> Any:
    glue = boto3.client("glue")
    stubber = Stubber(glue)
    for name, (state, status, message) in answers.items():
        last = (
            {"Status": status, **({"ErrorMessage": message} if message else {})} if status else {}
        )
        stubber.add_response(
            "get_crawler",
            {"Crawler": {"Name": name, "State": state, **({"LastCrawl": last} if last else {})}},
            {"Name": name},
        )
    stubber.activate()
    return glue


def test_one_verdict_over_several_crawlers_names_the_failed_one() -> None:
    glue = _stubbed_glue(
        {
            "a": ("READY", "SUCCEEDED", None),
            "b": ("RUNNING", None, None),
            "c": ("READY", "FAILED", "Access denied"),
        }
    )
    result = crawling.states(glue, ["a", "b", "c"])
    assert (result["status"], result["crawler"], result["reason"]) == (
        "FAILED",
        "c",
        "Access denied",
    )
    glue = _stubbed_glue({"a": ("READY", "SUCCEEDED", None), "b": ("RUNNING", None, None)})
    assert crawling.states(glue, ["a", "b"])["status"] == "RUNNING"
    glue = _stubbed_glue({"a": ("READY", "SUCCEEDED", None)})
    assert crawling.states(glue, ["a"])["status"] == "SUCCEEDED"


def test_crawler_throttling_surfaces_as_throttled() -> None:
    glue = boto3.client("glue")
    stubber = Stubber(glue)
    stubber.add_client_error("start_crawler", "ThrottlingException", "Rate exceeded")
    with stubber, pytest.raises(Throttled, match="ThrottlingException"):
        crawling.start(glue, CRAWLER)


# -- write -------------------------------------------------------------------------------

WRITE_ENV = {
    "ATHENA_WORKGROUP": "lake-dev",
    "ATHENA_ENGINE_VERSION": "Athena engine version 3",
    "GLUE_DATABASE_PREFIX": "lake_dev",
    "CURATED_BUCKET": "lake-dev-curated",
    "PIPELINE_TIME_ZONE": "Europe/Brussels",
}


def _write_event(windows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "run_id": RUN,
        "model": "events",
        "tier": "dwd",
        "windows": windows,
        "arrival_end_limit": "2027-01-04",
        "lookback_days": 7,
    }


WINDOWS = [{"start_date": "2026-12-29", "end_date": "2027-01-02"}]


def _ods_traffic(glue: Any, hours: list[tuple[str, ...]]) -> None:
    """The ODS table with partitions (arrival year/month/day/hour) that hold rows."""
    glue.create_database(DatabaseInput={"Name": "lake_dev_ods"})
    keys = ["year", "month", "day", "hour"]
    glue.create_table(
        DatabaseName="lake_dev_ods",
        TableInput={
            "Name": "traffic",
            "PartitionKeys": [{"Name": k, "Type": "string"} for k in keys],
        },
    )
    for values in hours:
        glue.create_partition(
            DatabaseName="lake_dev_ods", TableName="traffic",
            PartitionInput={"Values": list(values)},
        )  # fmt: skip


def test_write_starts_one_ctas_per_chunk_with_a_stable_token(
    load_step: Any, monkeypatch: pytest.MonkeyPatch, context: Any
) -> None:
    write = load_step("write", **WRITE_ENV)
    sent: list[dict[str, Any]] = []
    with mock_aws():
        athena = boto3.client("athena")
        athena.create_work_group(Name="lake-dev", Configuration={})
        athena.meta.events.register(
            "provide-client-params.athena.StartQueryExecution",
            lambda params, **_: sent.append(dict(params)),
        )
        glue = boto3.client("glue")
        _ods_traffic(glue, [("2027", "01", "03", "05")])  # in the second chunk's arrival days
        clients = {"athena": athena, "glue": glue}
        monkeypatch.setattr(write, "client", lambda service: clients[service])
        result = write.handler(_write_event(WINDOWS), context)
        stored = athena.get_query_execution(QueryExecutionId=result["query_ids"][0])
    assert result["staging_tables"] == [f"events__{RUN}__c0", f"events__{RUN}__c1"]
    assert stored["QueryExecution"]["Query"] == sent[0]["QueryString"]
    first = sent[0]["QueryString"]
    assert first.startswith(
        f"CREATE TABLE lake_dev_staging.events__{RUN}__c0\n"
        f"WITH (external_location = 's3://lake-dev-curated/dwd/events/_runs/{RUN}/chunk=0/', "
        "format = 'PARQUET', write_compression = 'SNAPPY', "
        "partitioned_by = ARRAY['year', 'month', 'day', 'hour'])\nAS\nSELECT "
    )
    assert "FROM lake_dev_ods.traffic" in first
    assert "BETWEEN DATE '2026-12-29' AND DATE '2027-01-01'" in first
    # The arrival window: a day early, and the look-back after, but never past the limit.
    assert "BETWEEN '2026-12-28' AND '2027-01-04'" in first
    assert "zone = 'Europe/Brussels'" in first and not first.rstrip().endswith(";")
    assert "BETWEEN DATE '2027-01-02' AND DATE '2027-01-02'" in sent[1]["QueryString"]
    assert all(s["WorkGroup"] == "lake-dev" for s in sent)
    tokens = [s["ClientRequestToken"] for s in sent]
    assert len(set(tokens)) == 2 and all(32 <= len(t) <= 128 for t in tokens)
    # The same step retried sends the same tokens: Athena returns the earlier queries.
    assert tokens == [request_token("write", RUN, "events", k) for k in (0, 1)]
    assert result["chunks"] == 2


@pytest.mark.parametrize("source_state", ["no table", "no partition in its days"])
def test_a_model_whose_sources_have_no_rows_in_its_days_is_skipped_without_a_query(
    load_step: Any, monkeypatch: pytest.MonkeyPatch, context: Any, source_state: str
) -> None:
    write = load_step("write", **WRITE_ENV)
    with mock_aws():
        glue = boto3.client("glue")
        if source_state == "no table":  # a source declared before its first file
            glue.create_database(DatabaseInput={"Name": "lake_dev_ods"})
        else:  # data of other days only
            _ods_traffic(glue, [("2026", "11", "03", "05"), ("2027", "01", "05", "00")])
        athena = boto3.client("athena")
        monkeypatch.setattr(
            write, "client", lambda service: {"athena": athena, "glue": glue}[service]
        )
        result = write.handler(_write_event(WINDOWS), context)
        assert athena.list_query_executions()["QueryExecutionIds"] == []
    assert result["skipped"] == (
        "no rows in its sources: lake_dev_ods.traffic 2026-12-28..2027-01-04"
    )
    assert (result["query_ids"], result["staging_tables"], result["chunks"]) == ([], [], 0)
    assert result["table"] == "lake_dev_dwd.events"


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({**_write_event(WINDOWS), "run_id": "x"}, "run_id 'x'"),
        ({**_write_event(WINDOWS), "model": "nope"}, "unknown model 'nope'"),
        (_write_event([]), "non-empty list"),
        (_write_event([{"start_date": "2026-12-02", "end_date": "2026-12-01"}]), "ends before"),
    ],
)
def test_write_rejects_bad_items_before_starting_anything(
    load_step: Any, event: dict[str, Any], message: str, context: Any
) -> None:
    write = load_step("write", **WRITE_ENV)
    with pytest.raises(InvalidRunRequest, match=message):
        write.handler(event, context)


# -- query state -------------------------------------------------------------------------


def _execution(
    query_id: str, state: str, reason: str | None = None, retryable: bool = False
) -> dict[str, Any]:
    status: dict[str, Any] = {"State": state}
    if reason:
        status["StateChangeReason"] = reason
        status["AthenaError"] = {"ErrorMessage": reason, "Retryable": retryable}
    return {
        "QueryExecutionId": query_id,
        "Status": status,
        "Statistics": {"DataScannedInBytes": 10},
    }


def _run_query_state(
    load_step: Any,
    monkeypatch: pytest.MonkeyPatch,
    ids: list[str],
    *answers: Any,
    settle_seconds: float | None = None,
    context: Any = None,
) -> dict[str, Any]:
    """query_state.handler over a real client whose BatchGetQueryExecution answers are stubbed
    (moto 5.2.5 does not implement that API); Stubber checks each request and response shape.
    One answer per look at the queries; every answer must be used."""
    query_state = load_step("query_state")
    athena = boto3.client("athena")
    stubber = Stubber(athena)
    for answer in answers:
        for start in range(0, len(ids), 50):
            batch = ids[start : start + 50]
            stubber.add_response(
                "batch_get_query_execution", answer(batch), {"QueryExecutionIds": batch}
            )
    monkeypatch.setattr(query_state, "client", lambda service: athena)
    event: dict[str, Any] = {"query_ids": ids}
    if settle_seconds is not None:
        event["settle_seconds"] = settle_seconds
    with stubber:
        result = query_state.handler(event, context or FakeLambdaContext())
        stubber.assert_no_pending_responses()
    return dict(result)


def _all(state: str) -> Any:
    return lambda batch: {"QueryExecutions": [_execution(q, state) for q in batch]}


IDS = [f"q{n:03d}" for n in range(120)]


def test_query_state_batches_by_50_and_succeeds_when_all_succeed(
    load_step: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _run_query_state(
        load_step,
        monkeypatch,
        IDS,
        lambda batch: {"QueryExecutions": [_execution(q, "SUCCEEDED") for q in batch]},
    )
    assert result["status"] == "SUCCEEDED" and result["queries"] == 120
    assert result["data_scanned_bytes"] == 1200


def test_query_state_running_until_all_end(load_step: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _run_query_state(
        load_step,
        monkeypatch,
        IDS,
        lambda batch: {
            "QueryExecutions": [
                _execution(q, "QUEUED" if q == "q077" else "SUCCEEDED") for q in batch
            ]
        },
    )
    assert result["status"] == "RUNNING"


def test_query_state_names_the_failed_query(
    load_step: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def answer(batch: list[str]) -> dict[str, Any]:
        states = {
            "q030": ("CANCELLED", "stopped by user"),
            "q101": ("FAILED", "COLUMN_NOT_FOUND: line 3:8"),
        }
        return {
            "QueryExecutions": [_execution(q, *states.get(q, ("RUNNING", None))) for q in batch]
        }

    result = _run_query_state(load_step, monkeypatch, IDS, answer)
    assert (result["status"], result["failed_query_id"], result["reason"]) == (
        "FAILED",
        "q101",
        "COLUMN_NOT_FOUND: line 3:8",
    )
    assert result["retryable"] is False


def test_query_state_stops_the_queries_still_running_when_the_model_gives_up(
    load_step: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    query_state = load_step("query_state")
    athena = boto3.client("athena")
    stubber = Stubber(athena)
    states = {"a": "SUCCEEDED", "b": "RUNNING", "c": "QUEUED", "d": "FAILED"}
    stubber.add_response(
        "batch_get_query_execution",
        {"QueryExecutions": [_execution(q, state) for q, state in states.items()]},
        {"QueryExecutionIds": list(states)},
    )
    # only those still queued or running are stopped, each once
    for query_id in ("b", "c"):
        stubber.add_response("stop_query_execution", {}, {"QueryExecutionId": query_id})
    monkeypatch.setattr(query_state, "client", lambda service: athena)

    with stubber:
        result = query_state.handler(
            {"query_ids": list(states), "stop_running": True}, FakeLambdaContext()
        )
        stubber.assert_no_pending_responses()

    assert result["stopped"] == ["b", "c"]
    assert (result["status"], result["failed_query_id"]) == ("FAILED", "d")


def test_query_state_says_when_athena_calls_a_failure_retryable(
    load_step: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _run_query_state(
        load_step,
        monkeypatch,
        ["a"],
        lambda batch: {"QueryExecutions": [_execution("a", "FAILED", "slow down", retryable=True)]},
    )
    assert (result["status"], result["retryable"]) == ("FAILED", True)


def test_query_state_unprocessed_ids(load_step: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _run_query_state(
        load_step,
        monkeypatch,
        ["a", "b"],
        lambda batch: {
            "QueryExecutions": [_execution("a", "SUCCEEDED")],
            "UnprocessedQueryExecutionIds": [
                {
                    "QueryExecutionId": "b",
                    "ErrorCode": "InvalidRequestException",
                    "ErrorMessage": "unknown id",
                }
            ],
        },
    )
    assert (result["status"], result["failed_query_id"]) == ("FAILED", "b")
    assert "unknown id" in result["reason"]
    with pytest.raises(Throttled):
        _run_query_state(
            load_step,
            monkeypatch,
            ["a"],
            lambda batch: {
                "QueryExecutions": [],
                "UnprocessedQueryExecutionIds": [
                    {"QueryExecutionId": "a", "ErrorCode": "TooManyRequestsException"}
                ],
            },
        )


def test_a_poll_that_may_settle_sees_a_short_query_end_without_another_poll(
    load_step: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given queries that are running at the first look and ended at the second (0.25 s later)
    # when the machine's poll may watch them for 5 s
    result = _run_query_state(
        load_step, monkeypatch, IDS, _all("RUNNING"), _all("SUCCEEDED"), settle_seconds=5
    )
    # then this one poll reports them ended
    assert (result["status"], result["looks"]) == ("SUCCEEDED", 2)


def test_a_poll_never_watches_into_the_functions_last_seconds(
    load_step: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a function with 2 s left, which it keeps for its reply
    class AlmostTimedOut(FakeLambdaContext):
        def get_remaining_time_in_millis(self) -> int:
            return 2_000

    # when the poll may watch running queries for 5 s, it looks once (one stubbed answer)
    result = _run_query_state(
        load_step, monkeypatch, ["a"], _all("RUNNING"), settle_seconds=5, context=AlmostTimedOut()
    )
    assert (result["status"], result["looks"]) == ("RUNNING", 1)


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_settling_looks_soon_then_less_often_and_stops_at_its_bound() -> None:
    clock = _Clock()
    running = {"q": {"state": "RUNNING", "reason": None}}
    states, looks = athena_states.settled_states(
        lambda: running, 3.0, clock=clock, sleep=clock.sleep
    )
    assert clock.slept == [0.25, 0.5, 1.0, 1.0, 0.25]  # 3 s in all, the last look at the bound
    assert (states, looks) == (running, 6)
    # no time to settle: one look
    assert athena_states.settled_states(lambda: running, 0, clock=clock, sleep=clock.sleep)[1] == 1


def test_settling_stops_at_the_first_failure_or_when_all_ended() -> None:
    clock = _Clock()
    answers = iter(
        [
            {"a": {"state": "RUNNING"}, "b": {"state": "QUEUED"}},
            {"a": {"state": "FAILED", "reason": "boom"}, "b": {"state": "RUNNING"}},
        ]
    )
    states, looks = athena_states.settled_states(
        lambda: next(answers), 60, clock=clock, sleep=clock.sleep
    )
    assert looks == 2 and states["a"]["state"] == "FAILED"
    done = {"a": {"state": "SUCCEEDED"}}
    assert athena_states.settled_states(lambda: done, 60, clock=clock, sleep=clock.sleep)[1] == 1


@pytest.mark.parametrize("settle", [-1, True, "5", None, float("nan")])
def test_query_state_rejects_a_settle_that_is_not_a_duration(load_step: Any, settle: Any) -> None:
    query_state = load_step("query_state")
    with pytest.raises(InvalidRunRequest, match="settle_seconds"):
        query_state.handler({"query_ids": ["a"], "settle_seconds": settle}, FakeLambdaContext())


def test_query_state_rejects_an_empty_list(load_step: Any) -> None:
    query_state = load_step("query_state")
    with pytest.raises(InvalidRunRequest, match="query_ids"):
        query_state.handler({"query_ids": []}, FakeLambdaContext())
