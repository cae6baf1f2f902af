"""Crawler start/state (moto Glue), write (moto Athena), query state (batched)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from etl_lambdas.errors import CrawlerFailed, InvalidRunRequest, Throttled

CRAWLER = "lake-dev-ods"
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


def test_crawler_start_is_idempotent(glue_crawler: Any, load_step: Any) -> None:
    crawler = load_step("crawler", CRAWLER_NAME=CRAWLER)
    assert crawler.start_handler({}, None)["already_running"] is False
    # A retried step finds it running: treated as started, not an error.
    assert crawler.start_handler({}, None)["already_running"] is True
    state = crawler.state_handler({}, None)
    assert (state["State"], state["status"]) == ("RUNNING", "RUNNING")


def test_crawler_start_of_a_missing_crawler_fails(glue_crawler: Any, load_step: Any) -> None:
    crawler = load_step("crawler", CRAWLER_NAME="absent")
    with pytest.raises(CrawlerFailed, match="'absent' does not exist"):
        crawler.start_handler({}, None)


def test_crawler_never_run_has_no_verdict(glue_crawler: Any, load_step: Any) -> None:
    crawler = load_step("crawler", CRAWLER_NAME=CRAWLER)
    with pytest.raises(CrawlerFailed, match="last crawl status None"):
        crawler.state_handler({}, None)


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
    load_step: Any, state: str, last: str | None, verdict: str
) -> None:
    crawler = load_step("crawler", CRAWLER_NAME=CRAWLER)
    assert crawler.classify(state, last) == verdict


def test_crawler_state_reports_glue_fields(load_step: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    crawler = load_step("crawler", CRAWLER_NAME=CRAWLER)
    glue = boto3.client("glue")
    stubber = Stubber(glue)
    stubber.add_response(
        "get_crawler",
        {
            "Crawler": {
                "Name": CRAWLER,
                "State": "READY",
                "LastCrawl": {"Status": "FAILED", "ErrorMessage": "Access denied"},
            }
        },
        {"Name": CRAWLER},
    )
    monkeypatch.setattr(crawler, "client", lambda service: glue)
    with stubber:
        result = crawler.state_handler({}, None)
    assert result == {
        "crawler": CRAWLER,
        "State": "READY",
        "LastCrawlStatus": "FAILED",
        "LastCrawlErrorMessage": "Access denied",
        "status": "FAILED",
    }


def test_crawler_throttling_surfaces_as_throttled(
    load_step: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    crawler = load_step("crawler", CRAWLER_NAME=CRAWLER)
    glue = boto3.client("glue")
    stubber = Stubber(glue)
    stubber.add_client_error("start_crawler", "ThrottlingException", "Rate exceeded")
    monkeypatch.setattr(crawler, "client", lambda service: glue)
    with stubber, pytest.raises(Throttled, match="ThrottlingException"):
        crawler.start_handler({}, None)


# -- write -------------------------------------------------------------------------------

WRITE_ENV = {
    "ATHENA_WORKGROUP": "lake-dev",
    "GLUE_DATABASE_PREFIX": "lake_dev",
    "CURATED_BUCKET": "lake-dev-curated",
    "PIPELINE_TIME_ZONE": "Europe/Brussels",
}


def _write_event(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"run_id": RUN, "model": "events", "tier": "dwd", "chunks": chunks}


CHUNKS = [
    {"index": 0, "start_date": "2026-12-29", "end_date": "2027-01-01"},
    {"index": 1, "start_date": "2027-01-02", "end_date": "2027-01-02"},
]


def test_write_starts_one_ctas_per_chunk_with_a_stable_token(
    load_step: Any, monkeypatch: pytest.MonkeyPatch
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
        monkeypatch.setattr(write, "client", lambda service: athena)
        result = write.handler(_write_event(CHUNKS), None)
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
    assert "BETWEEN '2026-12-28' AND '2027-01-02'" in first
    assert "zone = 'Europe/Brussels'" in first and not first.rstrip().endswith(";")
    assert "BETWEEN DATE '2027-01-02' AND DATE '2027-01-02'" in sent[1]["QueryString"]
    assert all(s["WorkGroup"] == "lake-dev" for s in sent)
    tokens = [s["ClientRequestToken"] for s in sent]
    assert len(set(tokens)) == 2 and all(32 <= len(t) <= 128 for t in tokens)
    # The same step retried sends the same tokens: Athena returns the earlier queries.
    assert tokens == [write.request_token(RUN, "events", k) for k in (0, 1)]
    assert write.request_token(RUN, "events", 0) != write.request_token(RUN, "hourly", 0)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"run_id": "x", "model": "events", "chunks": CHUNKS}, "run_id 'x'"),
        ({"run_id": RUN, "model": "nope", "chunks": CHUNKS}, "unknown model 'nope'"),
        ({"run_id": RUN, "model": "events", "chunks": []}, "non-empty list"),
    ],
)
def test_write_rejects_bad_items_before_starting_anything(
    load_step: Any, event: dict[str, Any], message: str
) -> None:
    write = load_step("write", **WRITE_ENV)
    with pytest.raises(InvalidRunRequest, match=message):
        write.handler(event, None)


# -- query state -------------------------------------------------------------------------


def _execution(query_id: str, state: str, reason: str | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"State": state}
    if reason:
        status["StateChangeReason"] = reason
        status["AthenaError"] = {"ErrorMessage": reason}
    return {
        "QueryExecutionId": query_id,
        "Status": status,
        "Statistics": {"DataScannedInBytes": 10},
    }


def _run_query_state(
    load_step: Any,
    monkeypatch: pytest.MonkeyPatch,
    ids: list[str],
    answer: Any,
) -> dict[str, Any]:
    """query_state.handler over a real client whose BatchGetQueryExecution answers are stubbed
    (moto 5.2.5 does not implement that API); Stubber checks each request and response shape."""
    query_state = load_step("query_state")
    athena = boto3.client("athena")
    stubber = Stubber(athena)
    for start in range(0, len(ids), 50):
        batch = ids[start : start + 50]
        stubber.add_response(
            "batch_get_query_execution", answer(batch), {"QueryExecutionIds": batch}
        )
    monkeypatch.setattr(query_state, "client", lambda service: athena)
    with stubber:
        result = query_state.handler({"query_ids": ids}, None)
        stubber.assert_no_pending_responses()
    return dict(result)


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


def test_query_state_rejects_an_empty_list(load_step: Any) -> None:
    query_state = load_step("query_state")
    with pytest.raises(InvalidRunRequest, match="query_ids"):
        query_state.handler({"query_ids": []}, None)
