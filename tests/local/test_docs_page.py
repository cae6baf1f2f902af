"""`etl docs`' page in a real headless browser (Debian's chromium through chromium-driver,
tools/browser.py): it loads from a file with nothing fetched, shows every model in the
graph, and a click on one shows that model: its lineage, SQL, checks and recent runs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from etl_lambdas.catalog import Catalog, load_catalog
from etl_lambdas.fingerprints import fingerprints
from etl_local import backfill, docs_page
from etl_local.backfill import PublishedPartition
from etl_local.lineage import model_lineage
from tools.browser import headless_chromium

TIME_ZONE = "Europe/Brussels"


def _published(catalog: Catalog) -> dict[str, list[PublishedPartition]]:
    """Two days of every model, computed by the SQL in sql/ but one day of traffic_events,
    computed by older SQL (so the page has models to restate)."""
    hashes = fingerprints(catalog)
    published: dict[str, list[PublishedPartition]] = {}
    for model in catalog.models:
        hours = [f"{h:02d}" for h in range(24)] if model.granularity == "hour" else [""]
        current = hashes[model.name]
        partitions = []
        for day in ("27", "28"):
            older = (model.name, day) == ("traffic_events", "27")
            for hour in hours:
                values = tuple(v for v in ("2025", "11", day, hour) if v)
                model_hash = "0" * 16 if older else current.model_hash
                partitions.append(PublishedPartition(values, model_hash, current.fingerprint))
        published[model.name] = partitions
    return published


RUN = {
    "execution_arn": "arn:aws:states:eu-west-1:123456789012:execution:pipeline:r1",
    "name": "r1",
    "input": {"date": "2025-11-28"},
    "started": "2025-11-29T04:00:02+00:00",
    "ended": "2025-11-29T04:01:10+00:00",
    "status": "SUCCEEDED",
    "error": None,
    "models": [
        {
            "model": "sensor_hourly",
            "tier": "dws",
            "table": "lakepipe_local_dws.sensor_hourly",
            "rows_written": 7212,
            "partitions_written": 24,
            "bytes_read": 2_345_678,
            "audit": [
                {"check": "min_rows", "value": 7212, "passed": True, "detail": "min_rows"},
                {
                    "check": "reconcile(sum(events) = dwd.traffic_events count(*))",
                    "kind": "history",
                    "value": 0,
                    "passed": True,
                    "detail": "reconcile(sum(events) = dwd.traffic_events count(*)) passed on "
                    "1 day(s); 2025-11-28: 432,000 vs 432,000 in dwd.traffic_events",
                },
            ],
        }
    ],
    "restated": [{"date": "2025-11-27", "events": {"traffic": 120}}],
    "beyond_lookback": [],
}


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    catalog = load_catalog()
    published = _published(catalog)
    data = docs_page.DocsData(
        catalog=catalog,
        lineage=model_lineage(catalog, TIME_ZONE),
        fingerprints=fingerprints(catalog),
        generated=datetime(2025, 11, 29, 6, 0, tzinfo=UTC),
        time_zone=TIME_ZONE,
        published=published,
        changes=backfill.model_changes(catalog, published),
        runs=[RUN],
        tests={"sensor_hourly": "tests:\n  - name: one hour\n"},
    )
    path = tmp_path_factory.mktemp("docs") / "index.html"
    path.write_text(docs_page.render(data), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with headless_chromium(width=1280, height=900) as driver:
        yield driver


def test_the_page_needs_nothing_but_itself(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    # The SVG namespace is a name, not a fetch; nothing else may point outside the file.
    assert text.count("http") == text.count('xmlns="http://www.w3.org/2000/svg"')
    assert "<link" not in text and "src=" not in text


def test_every_model_is_in_the_graph_and_a_click_shows_it(page: Path, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    browser.get(page.as_uri())
    # Nothing was fetched: the page is the file.
    resources = browser.execute_script("return performance.getEntriesByType('resource').length")
    assert resources == 0
    catalog = load_catalog()
    shown = {
        node.get_attribute("data-node"): node.text
        for node in browser.find_elements(By.CSS_SELECTOR, "#graph a.node")
        if node.is_displayed()
    }
    for model in catalog.models:
        assert shown.get(f"{model.tier}.{model.name}") == model.name
    for source in catalog.sources:
        assert shown.get(f"ods.{source.name}") == source.name
    assert browser.find_element(By.ID, "overview").is_displayed()
    section = browser.find_element(By.ID, "model-sensor_hourly")
    assert not section.is_displayed()

    browser.find_element(By.CSS_SELECTOR, '#graph a.node[data-node="dws.sensor_hourly"]').click()

    assert section.is_displayed()
    assert not browser.find_element(By.ID, "overview").is_displayed()
    assert section.find_element(By.TAG_NAME, "h1").text.startswith("sensor_hourly")
    # The column lineage: avg_speed is computed from dwd.traffic_events.current_speed.
    row = section.find_element(By.ID, "col-sensor_hourly-avg_speed")
    assert "dwd.traffic_events.current_speed" in row.text
    assert "SELECT" in section.find_element(By.CSS_SELECTOR, "pre.sql").text
    assert "reconcile(sum(events) = dwd.traffic_events count(*))" in section.text
    assert "432,000 vs 432,000" in section.text  # the recorded run's audit
    assert "2025-11-27" in section.text  # the day it restated for late data
    assert "tests:" in section.find_element(By.CSS_SELECTOR, "pre.yaml").text
    # The clicked node and its edges are marked.
    node = browser.find_element(By.CSS_SELECTOR, '#graph a.node[data-node="dws.sensor_hourly"]')
    assert "active" in node.get_attribute("class")
    active = browser.find_elements(By.CSS_SELECTOR, "#graph path.edge.active")
    assert [edge.get_attribute("data-from") for edge in active] == ["dwd.traffic_events"]

    # Through the lineage to the upstream model, which is to be restated on one day.
    row.find_element(By.LINK_TEXT, "dwd.traffic_events").click()
    upstream = browser.find_element(By.ID, "model-traffic_events")
    assert upstream.is_displayed() and not section.is_displayed()
    assert "to restate" in upstream.text and "2025-11-27" in upstream.text
