"""Fixtures for the Terraform tests."""

from __future__ import annotations

from typing import Any

import pytest
from plan_json import load_plan


@pytest.fixture(scope="session")
def prod_plan(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return load_plan("prod", tmp_path_factory.mktemp("prod-plan"))
