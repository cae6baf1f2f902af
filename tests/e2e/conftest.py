"""Shared pieces of the end-to-end tests: a tiny generated dataset and a started runtime.

Every e2e module shares one runtime (moto server, local Athena, Spark session) across its
tests: starting Spark is the slow part. Dates are in the past (the plan rejects future
days) and cross a month end.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from etl_local.generate import generate_events
from etl_local.runtime import LocalRuntime

SENSORS = 3
FIRST_DAY = date(2025, 11, 27)
LAST_DAY = date(2025, 12, 3)


def dataset(start: date = FIRST_DAY, end: date = LAST_DAY) -> list[tuple[str, bytes]]:
    return list(generate_events(start, end, sensors=SENSORS, seed=7))


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    home: Path = tmp_path_factory.mktemp("etl-home")
    with LocalRuntime(home=home) as started:
        started.put_raw_objects(dataset())
        yield started
