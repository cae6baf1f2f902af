"""Starting the crawlers of sources whose schema changed, and one verdict over their states."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from etl_lambdas.aws import error_code, throttling_as_retryable
from etl_lambdas.errors import CrawlerFailed

RUNNING, SUCCEEDED, FAILED, CANCELLED = "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"


def start(glue: Any, name: str) -> bool:
    """Start a crawler; returns False when it was already running (e.g. a retried step)."""
    try:
        with throttling_as_retryable():
            glue.start_crawler(Name=name)
    except ClientError as error:
        if error_code(error) == "CrawlerRunningException":
            return False
        if error_code(error) == "EntityNotFoundException":
            raise CrawlerFailed(f"crawler {name!r} does not exist") from error
        raise
    return True


def classify(name: str, state: str, last_crawl_status: str | None) -> str:
    """One verdict from Glue's crawler State and LastCrawl.Status (SUCCEEDED, FAILED,
    CANCELLED are Glue's values: "Crawler structure" / LastCrawlInfo in the Glue API)."""
    if state in ("RUNNING", "STOPPING"):
        return RUNNING
    if state != "READY":
        raise CrawlerFailed(f"crawler {name!r} is in unexpected state {state!r}")
    if last_crawl_status in (SUCCEEDED, FAILED, CANCELLED):
        return last_crawl_status
    raise CrawlerFailed(f"crawler {name!r} is READY with last crawl status {last_crawl_status!r}")


def states(glue: Any, names: list[str]) -> dict[str, Any]:
    """Every crawler's state and one verdict: FAILED beats CANCELLED beats RUNNING beats
    SUCCEEDED; the first crawler that did not succeed is named."""
    crawlers = []
    for name in names:
        with throttling_as_retryable():
            crawler = glue.get_crawler(Name=name)["Crawler"]
        last = crawler.get("LastCrawl", {})
        crawlers.append(
            {
                "crawler": name,
                "state": crawler["State"],
                "last_crawl_status": last.get("Status"),
                "error_message": last.get("ErrorMessage"),
                "status": classify(name, crawler["State"], last.get("Status")),
            }
        )
    for outcome in (FAILED, CANCELLED, RUNNING):
        for crawler in crawlers:
            if crawler["status"] == outcome:
                return {"status": outcome, "crawler": crawler["crawler"],
                        "reason": crawler["error_message"], "crawlers": crawlers}  # fmt: skip
    return {"status": SUCCEEDED, "crawler": None, "reason": None, "crawlers": crawlers}
