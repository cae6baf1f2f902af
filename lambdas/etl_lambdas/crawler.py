"""Steps `crawler-start` and `crawler-state`: run the ODS crawlers and classify their outcome.

`CRAWLER_NAME` names one crawler, or several separated by commas (one per declared source):
they are started together, and the state is the first unfinished or unsuccessful one's.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from etl_lambdas.aws import client, error_code, throttling_as_retryable
from etl_lambdas.config import read_environment
from etl_lambdas.errors import CrawlerFailed

CRAWLER_NAME = read_environment("CRAWLER_NAME")["CRAWLER_NAME"]
CRAWLER_NAMES = tuple(name.strip() for name in CRAWLER_NAME.split(",") if name.strip())

logger = Logger(service="etl")

RUNNING, SUCCEEDED, FAILED, CANCELLED = "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"
# Which crawler's state speaks for all of them: any still running, else any unsuccessful.
_PRECEDENCE = (RUNNING, FAILED, CANCELLED, SUCCEEDED)


def start_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Start the crawlers; one already running (e.g. a retried step) counts as started."""
    glue = client("glue")
    running = []
    with throttling_as_retryable():
        for name in CRAWLER_NAMES:
            try:
                glue.start_crawler(Name=name)
            except ClientError as error:
                if error_code(error) == "EntityNotFoundException":
                    raise CrawlerFailed(f"crawler {name!r} does not exist") from error
                if error_code(error) != "CrawlerRunningException":
                    raise
                running.append(name)
    logger.info("crawlers started", extra={"crawlers": CRAWLER_NAMES, "already_running": running})
    return {"crawler": ",".join(CRAWLER_NAMES), "already_running": bool(running)}


def classify(state: str, last_crawl_status: str | None, name: str = CRAWLER_NAME) -> str:
    """One verdict from Glue's crawler State and LastCrawl.Status."""
    if state in ("RUNNING", "STOPPING"):
        return RUNNING
    if state != "READY":
        raise CrawlerFailed(f"crawler {name!r} is in unexpected state {state!r}")
    if last_crawl_status in (SUCCEEDED, FAILED, CANCELLED):
        return last_crawl_status
    raise CrawlerFailed(f"crawler {name!r} is READY with last crawl status {last_crawl_status!r}")


def state_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    results = []
    for name in CRAWLER_NAMES:
        with throttling_as_retryable():
            crawler = client("glue").get_crawler(Name=name)["Crawler"]
        last_crawl = crawler.get("LastCrawl", {})
        results.append(
            {
                "crawler": name,
                "State": crawler["State"],
                "LastCrawlStatus": last_crawl.get("Status"),
                "LastCrawlErrorMessage": last_crawl.get("ErrorMessage"),
                "status": classify(crawler["State"], last_crawl.get("Status"), name),
            }
        )
    result = min(results, key=lambda r: _PRECEDENCE.index(r["status"]))
    logger.info("crawler state", extra={"crawlers": results})
    return result
