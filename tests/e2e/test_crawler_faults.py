"""The crawler runs only when a source's table is missing (or its schema changed): in a fresh
lake, a failed or cancelled crawl fails the run with nothing published, and the next run
registers everything the failed runs converted (the ledger names it)."""

from __future__ import annotations

import pytest

from etl_local.faults import parse_fault
from etl_local.runtime import LocalRuntime
from tests.e2e.test_faults import fingerprint

pytestmark = pytest.mark.e2e

DAY = "2025-11-28"


@pytest.mark.parametrize("fault", ["crawler-failed", "crawler-cancelled"])
def test_a_failed_crawl_fails_the_run_and_publishes_nothing(
    runtime: LocalRuntime, fault: str
) -> None:
    result = runtime.run({"date": DAY}, faults=[parse_fault(fault)])

    assert result.status == "FAILED"
    assert result.cause and "CrawlersState" in result.cause
    assert fault.removeprefix("crawler-").upper() in result.cause
    failed = [n for n in result.notifications if "FAILED" in str(n["subject"])]
    assert len(failed) == 1
    assert fingerprint(runtime) == {}


def test_the_next_run_crawls_registers_and_publishes(runtime: LocalRuntime) -> None:
    result = runtime.run({"date": DAY})

    assert result.status == "SUCCEEDED", f"{result.error}: {result.cause}"
    assert "CrawlersState" in {e.name for e in result.events}
    rows = runtime.query("SELECT count(*) FROM lakepipe_local_dwd.traffic_events").rows
    assert rows[0][0] > 0
    # the crawl is not repeated once the tables exist
    again = runtime.run({"date": DAY})
    assert again.status == "SUCCEEDED"
    assert "CrawlersState" not in {e.name for e in again.events}
