"""The runtime the e2e modules share: started once per module (Spark's start is the slow
part), loaded with the small generated dataset of tests/e2e/sample.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from etl_local.runtime import LocalRuntime
from tests.e2e.sample import dataset


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    home: Path = tmp_path_factory.mktemp("etl-home")
    with LocalRuntime(home=home) as started:
        started.put_raw_objects(dataset())
        yield started
