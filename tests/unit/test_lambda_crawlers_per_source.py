"""One crawler per source: the crawler steps start them all and report the one that matters."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber


def crawler_response(name: str, state: str, last: str | None, message: str | None = None) -> Any:
    last_crawl = (
        {} if last is None else {"Status": last, **({"ErrorMessage": message} if message else {})}
    )
    return {"Crawler": {"Name": name, "State": state, "LastCrawl": last_crawl}}


@pytest.mark.parametrize(
    ("states", "reported"),
    [
        ([("READY", "SUCCEEDED"), ("RUNNING", None)], ("b", "RUNNING")),
        ([("READY", "SUCCEEDED"), ("READY", "FAILED")], ("b", "FAILED")),
        ([("READY", "CANCELLED"), ("READY", "FAILED")], ("b", "FAILED")),
        ([("READY", "SUCCEEDED"), ("READY", "SUCCEEDED")], ("a", "SUCCEEDED")),
    ],
)
def test_the_state_is_the_first_unfinished_or_unsuccessful_crawlers(
    load_step: Any,
    monkeypatch: pytest.MonkeyPatch,
    states: list[tuple[str, str | None]],
    reported: tuple[str, str],
) -> None:
    crawler = load_step("crawler", CRAWLER_NAME="a, b")
    glue = boto3.client("glue", region_name="eu-west-1")
    stubber = Stubber(glue)
    for name, (state, last) in zip(("a", "b"), states, strict=True):
        stubber.add_response("get_crawler", crawler_response(name, state, last), {"Name": name})
    monkeypatch.setattr(crawler, "client", lambda service: glue)

    with stubber:
        result = crawler.state_handler({}, None)

    assert (result["crawler"], result["status"]) == reported


def test_start_starts_every_crawler(load_step: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    crawler = load_step("crawler", CRAWLER_NAME="a,b")
    glue = boto3.client("glue", region_name="eu-west-1")
    stubber = Stubber(glue)
    stubber.add_response("start_crawler", {}, {"Name": "a"})
    stubber.add_client_error("start_crawler", "CrawlerRunningException", "running", 400)
    monkeypatch.setattr(crawler, "client", lambda service: glue)

    with stubber:
        result = crawler.start_handler({}, None)

    assert result == {"crawler": "a,b", "already_running": True}
    stubber.assert_no_pending_responses()
