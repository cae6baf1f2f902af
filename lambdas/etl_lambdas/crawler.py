"""Steps `crawler-start` and `crawler-state`: run the ODS crawler and classify its outcome."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from etl_lambdas.aws import client, error_code, throttling_as_retryable
from etl_lambdas.config import read_environment
from etl_lambdas.errors import CrawlerFailed

CRAWLER_NAME = read_environment("CRAWLER_NAME")["CRAWLER_NAME"]

logger = Logger(service="etl")

RUNNING, SUCCEEDED, FAILED, CANCELLED = "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"


def start_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Start the crawler; one already running (e.g. a retried step) counts as started."""
    glue = client("glue")
    with throttling_as_retryable():
        try:
            glue.start_crawler(Name=CRAWLER_NAME)
            already_running = False
        except ClientError as error:
            if error_code(error) != "CrawlerRunningException":
                if error_code(error) == "EntityNotFoundException":
                    raise CrawlerFailed(f"crawler {CRAWLER_NAME!r} does not exist") from error
                raise
            already_running = True
    logger.info(
        "crawler started", extra={"crawler": CRAWLER_NAME, "already_running": already_running}
    )
    return {"crawler": CRAWLER_NAME, "already_running": already_running}


def classify(state: str, last_crawl_status: str | None) -> str:
    """One verdict from Glue's crawler State and LastCrawl.Status."""
    if state in ("RUNNING", "STOPPING"):
        return RUNNING
    if state != "READY":
        raise CrawlerFailed(f"crawler {CRAWLER_NAME!r} is in unexpected state {state!r}")
    if last_crawl_status in (SUCCEEDED, FAILED, CANCELLED):
        return last_crawl_status
    raise CrawlerFailed(
        f"crawler {CRAWLER_NAME!r} is READY with last crawl status {last_crawl_status!r}"
    )


def state_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    with throttling_as_retryable():
        crawler = client("glue").get_crawler(Name=CRAWLER_NAME)["Crawler"]
    last_crawl = crawler.get("LastCrawl", {})
    result = {
        "crawler": CRAWLER_NAME,
        "State": crawler["State"],
        "LastCrawlStatus": last_crawl.get("Status"),
        "LastCrawlErrorMessage": last_crawl.get("ErrorMessage"),
        "status": classify(crawler["State"], last_crawl.get("Status")),
    }
    logger.info("crawler state", extra=result)
    return result
