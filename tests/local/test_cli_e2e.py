"""The `etl` contract through the installed command and the real local runtime, on a tiny
dataset: `generate`, `run --json` (one JSON object on stdout, exit code by status), `query`
with tier aliases, `--if-absent`, `run --select`, `load`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from etl_lambdas.catalog import load_catalog
from etl_local.settings import LocalSettings

pytestmark = pytest.mark.e2e

ETL = str(Path(sys.executable).parent / "etl")
DAY = "2026-03-02"
MODEL_KEYS = {
    "model", "tier", "table", "rows_written", "partitions_written", "bytes_read", "skipped"
}  # fmt: skip


def _etl(home: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "ETL_HOME": str(home)}
    return subprocess.run(
        [ETL, *args], capture_output=True, text=True, env=environment, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("etl_home")
    generated = _etl(path, "generate", "--start", DAY, "--end", DAY, "--sensors", "4")
    assert generated.returncode == 0, generated.stderr
    yield path


def _document(completed: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    lines = completed.stdout.splitlines()
    assert len(lines) == 1, completed.stdout
    document: dict[str, Any] = json.loads(lines[0])
    return document


def test_generate_if_absent_keeps_existing_data(home: Path) -> None:
    again = _etl(home, "generate", "--if-absent")
    assert again.returncode == 0, again.stderr
    assert "nothing generated" in again.stdout


def test_run_json_contract_and_query_aliases(home: Path) -> None:
    completed = _etl(home, "run", "--date", DAY, "--json")
    document = _document(completed)
    assert document["status"] == "SUCCEEDED", (document, completed.stderr[-3000:])
    assert completed.returncode == 0
    assert set(document) == {
        "status", "error", "cause", "caught_up", "missed", "models", "sources",
        "waiting_for_data", "schema_changes", "restated", "beyond_lookback", "future_events",
        "cost",
    }  # fmt: skip
    assert document["error"] is None
    # the run's cost, measured by its run-cost step from what the local services reported
    assert document["cost"]["total_usd"] > 0
    assert document["cost"]["services"]["glue_job"]["runs"][0]["worker_type"] == "G.1X"
    settings = LocalSettings()
    expected = {m.name: m.tier for m in load_catalog().models}
    assert {m["model"]: m["tier"] for m in document["models"]} == expected
    for model in document["models"]:
        assert set(model) == MODEL_KEYS
        assert model["table"] == f"{settings.database(model['tier'])}.{model['model']}"
        for count in ("rows_written", "partitions_written", "bytes_read"):
            assert isinstance(model[count], int) and model[count] >= 0
    events = next(m for m in document["models"] if m["model"] == "traffic_events")
    assert events["partitions_written"] == 24
    assert events["rows_written"] > 0

    queried = _etl(
        home, "query", "SELECT count(*) AS n FROM dwd.traffic_events", "--format", "json"
    )
    assert queried.returncode == 0, queried.stderr
    assert json.loads(queried.stdout) == [{"n": events["rows_written"]}]


def test_a_selected_run_runs_only_the_selection(home: Path) -> None:
    completed = _etl(home, "run", "--date", DAY, "--json", "--select", "app_events+")
    document = _document(completed)
    assert document["status"] == "SUCCEEDED", (document, completed.stderr[-3000:])
    assert [m["model"] for m in document["models"]] == [
        "app_events", "daily_active_users", "app_version_adoption_daily"
    ]  # fmt: skip


def test_load_copies_a_users_files_under_the_declared_layout_once(
    home: Path, tmp_path: Path
) -> None:
    record = {"uniqueId": "9001", "recordTimestamp": f"{DAY}T10:00:00+01:00", "currentSpeed": 80}
    (tmp_path / "mine.json").write_text(json.dumps(record) + "\n", encoding="utf-8")
    (tmp_path / "broken.json").write_text("uniqueId;currentSpeed\n", encoding="utf-8")

    refused = _etl(home, "load", "traffic", str(tmp_path), "--arrival", f"{DAY}T09")
    loaded = _etl(home, "load", "traffic", str(tmp_path / "mine.json"), "--arrival", f"{DAY}T09")
    again = _etl(home, "load", "traffic", str(tmp_path / "mine.json"), "--arrival", f"{DAY}T09")

    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr.splitlines() == [
        f"etl load: {tmp_path / 'broken.json'}: its first line is not JSON: "
        "'uniqueId;currentSpeed' (the source is declared as JSON lines) (nothing loaded)"
    ]
    assert loaded.returncode == 0, loaded.stderr
    assert "raw/traffic/year=2026/month=03/day=02/hour=09/" in loaded.stdout
    assert again.returncode == 0 and "(1 loaded before)" in again.stdout


def test_failed_run_exits_1_with_the_json_document(home: Path) -> None:
    completed = _etl(
        home, "run", "--date", DAY, "--json", "--fault", "query-failed:segment_congestion_daily"
    )
    document = _document(completed)
    assert completed.returncode == 1
    assert document["status"] == "FAILED"
    assert document["error"]
    assert isinstance(document["models"], list)


def test_failed_query_names_athena_error(home: Path) -> None:
    completed = _etl(home, "query", "SELECT no_such_column FROM ads.segment_congestion_daily")
    assert completed.returncode == 1
    assert completed.stdout == ""
    assert "no_such_column" in completed.stderr
