"""The models' unit tests, `sql/<tier>/<model>.test.yaml` (etl_local.model_tests), as pytest
items: one per test, failing with the differing rows, as `etl test` shows them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from etl_lambdas.catalog import load_catalog
from etl_local.model_tests import LocalEngine, ModelTest, load_tests

CATALOG = load_catalog()
TESTS, ERRORS = load_tests(CATALOG)
ENGINE = LocalEngine(CATALOG)


def test_every_test_file_reads() -> None:
    assert [str(error) for error in ERRORS] == []


def test_every_model_has_a_test() -> None:
    tested = {test.model.name for test in TESTS}
    assert [name for name in CATALOG.names() if name not in tested] == []


def _changes_clocks(day: date, zone: str) -> bool:
    start = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone))
    return start.utcoffset() != (start + timedelta(days=1)).utcoffset()


def test_every_model_is_tested_on_a_day_the_clocks_change() -> None:
    # every sample model partitions by local time: a DST day has 23 or 25 hours
    on_dst_day = {
        test.model.name
        for test in TESTS
        if any(_changes_clocks(day, test.time_zone) for day in test.window.days())
    }
    assert [name for name in CATALOG.names() if name not in on_dst_day] == []


@pytest.mark.parametrize("test", TESTS, ids=lambda test: test.id)
def test_model(test: ModelTest) -> None:
    outcome = ENGINE.run(test)
    if outcome.status != "pass":
        pytest.fail(outcome.report(), pytrace=False)
