"""The runtime the e2e modules share: started once per module (Spark's start is the slow
part), loaded with the small generated dataset of tests/e2e/sample.py. Every e2e runtime's
home shares one cache with the others of the test session (tests/e2e/homes.py): the first
Spark JVM writes its class-data archive there, the later ones start from it instead of each
writing its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from etl_local.runtime import LocalRuntime
from tests.e2e.homes import e2e_home
from tests.e2e.sample import dataset


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    home = e2e_home(tmp_path_factory)
    with LocalRuntime(home=home) as started:
        started.put_raw_objects(dataset())
        yield started
