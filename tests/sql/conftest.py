from __future__ import annotations

import pytest
from sql_warehouse import Warehouse


@pytest.fixture
def warehouse() -> Warehouse:
    return Warehouse()
