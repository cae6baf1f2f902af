"""Fixtures for the Lambda steps: a small model catalog and fresh step imports."""

from __future__ import annotations

import importlib
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from etl_lambdas.catalog import Catalog, default_sql_root, load_catalog
from etl_lambdas.sources import SOURCES_FILE

# Two hourly models and a daily one across the three tiers, with every kind of check.
MODELS_TOML = """
[[models]]
name = "events"
tier = "dwd"
sources = ["ods.traffic"]
granularity = "hour"
keys = ["sensor_id", "event_time"]
not_null = ["speed"]
ranges = { speed = [0, 250], occupancy = [0, "*"] }

[[models]]
name = "hourly"
tier = "dws"
sources = ["dwd.events"]
granularity = "hour"
keys = ["sensor_id"]
not_null = ["events"]

[[models]]
name = "daily"
tier = "dws"
sources = ["dwd.events"]
granularity = "day"
keys = ["sensor_id"]
not_null = []
min_rows = 2

[[models]]
name = "monthly"
tier = "ads"
sources = ["dws.daily"]
granularity = "month"
keys = ["segment"]
not_null = []
"""

SQL = {
    "dwd/events.sql": (
        "SELECT sensor_id, event_time, speed, occupancy, year, month, day, hour\n"
        "FROM ${ods_database}.traffic\n"
        "WHERE event_date BETWEEN DATE '${start_date}' AND DATE '${end_date}'\n"
        "  AND arrival_day BETWEEN '${arrival_start_date}' AND '${arrival_end_date}'\n"
        "  AND zone = '${time_zone}';\n"
    ),
    "dws/hourly.sql": "SELECT sensor_id, count(*) AS events, year, month, day, hour "
    "FROM ${dwd_database}.events GROUP BY 1, 3, 4, 5, 6",
    "dws/daily.sql": "SELECT sensor_id, year, month, day FROM ${dwd_database}.events",
    "ads/monthly.sql": "SELECT segment, year, month FROM ${dws_database}.daily",
}


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    root = tmp_path / "sql"
    root.mkdir()
    (root / "models.toml").write_text(MODELS_TOML, encoding="utf-8")
    # The models read ods.traffic: the repository's declared sources.
    shutil.copy(default_sql_root() / SOURCES_FILE, root / SOURCES_FILE)
    for relative, text in SQL.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    return load_catalog(root)


StepLoader = Callable[..., ModuleType]


@pytest.fixture
def load_step(monkeypatch: pytest.MonkeyPatch, catalog: Catalog) -> StepLoader:
    """Import a step module afresh (its cold start) with the given environment,
    its catalog replaced by the test catalog."""

    def load(module: str, **environment: str) -> ModuleType:
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        qualified = f"etl_lambdas.steps.{module}"
        monkeypatch.delitem(sys.modules, qualified, raising=False)
        step = importlib.import_module(qualified)
        if hasattr(step, "load_catalog"):
            monkeypatch.setattr(step, "load_catalog", lambda: catalog)
        return step

    return load


@dataclass
class FakeLambdaContext:
    """What Powertools' inject_lambda_context reads of the Lambda context object."""

    function_name: str = "lake-dev-step"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:lake-dev-step"
    memory_limit_in_mb: int = 256
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    log_group_name: str = "/aws/lambda/lake-dev-step"
    log_stream_name: str = "2026/11/21/[$LATEST]0"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@pytest.fixture
def context() -> FakeLambdaContext:
    return FakeLambdaContext()
