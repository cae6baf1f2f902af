"""The benchmark's floor computes what the pipeline run it is compared with computes: the run's
window and the late days that run restated, from the raw files in DuckDB."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from etl_lambdas.catalog import load_catalog
from etl_lambdas.events import Run
from etl_lambdas.restatement import Restatement
from etl_local.bench.floor import ConvertedOds, run_floor
from etl_local.generate import generate_events

DAY = date(2026, 11, 20)
TIME_ZONE = "Europe/Brussels"


@pytest.fixture(scope="module")
def raw_keys() -> list[str]:
    return [key for key, _ in generate_events(DAY - timedelta(days=2), DAY + timedelta(days=1), 2)]


@pytest.fixture(scope="module")
def raw_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two sensors' raw objects for the days around DAY, in the raw bucket's layout."""
    root = tmp_path_factory.mktemp("raw")
    for key, body in generate_events(DAY - timedelta(days=2), DAY + timedelta(days=1), 2):
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    return root


def _daily_run(day: date) -> Run:
    """The run the Begin step plans for `day` when the schedule starts it the next day."""
    return Run.parse(
        {
            "run_id": "20261121t030000z_00000000",
            "start_date": day.isoformat(), "end_date": day.isoformat(),
            "today": (day + timedelta(days=1)).isoformat(), "time_zone": TIME_ZONE,
            "lookback_days": 7,
            "arrival_start_date": (day - timedelta(days=1)).isoformat(),
            "arrival_end_date": (day + timedelta(days=1)).isoformat(),
            "models": None,
        }
    )  # fmt: skip


def _traffic_days(output: Path) -> set[str]:
    rows = duckdb.sql(
        f"SELECT DISTINCT concat(year, '-', month, '-', day) FROM read_parquet("
        f"'{output}/dwd/traffic_events/**/*.parquet', hive_partitioning = true, "
        "hive_types_autocast = false)"
    ).fetchall()
    return {str(row[0]) for row in rows}


def test_the_floor_computes_the_runs_day_and_the_days_it_restated(
    raw_root: Path, tmp_path: Path
) -> None:
    catalog = load_catalog()
    # Given a daily run that restated the day before for late traffic events
    restated = Restatement({DAY - timedelta(days=1): {"traffic": 12}})

    # When the floor runs it, and the same run without late data
    late = run_floor(catalog, raw_root, tmp_path / "late", _daily_run(DAY), restated)
    plain = run_floor(catalog, raw_root, tmp_path / "plain", _daily_run(DAY))

    # Then the traffic models hold both days, the app models only the run's day
    assert _traffic_days(tmp_path / "late") == {"2026-11-19", "2026-11-20"}
    assert _traffic_days(tmp_path / "plain") == {"2026-11-20"}
    assert late.rows_by_model["traffic_events"] > plain.rows_by_model["traffic_events"] > 0
    assert late.rows_by_model["app_events"] == plain.rows_by_model["app_events"] > 0
    assert set(late.rows_by_model) == {model.name for model in catalog.models}


def test_a_floor_on_earlier_conversions_converts_only_the_new_arrivals_and_gets_the_same_rows(
    raw_root: Path, raw_keys: list[str], tmp_path: Path
) -> None:
    catalog = load_catalog()
    # Given the ODS an earlier run converted (here: the floor's own conversion, from raw)
    from_raw = run_floor(catalog, raw_root, tmp_path / "lake", _daily_run(DAY))
    # and the raw objects that landed on DAY + 1 (UTC), new since that run
    new = frozenset(k for k in raw_keys if "/day=21/" in k)
    assert new

    # When the floor runs on the lake's ODS, converting only the partitions of the new objects
    incremental = run_floor(
        catalog, raw_root, tmp_path / "floor", _daily_run(DAY),
        converted=ConvertedOds(tmp_path / "lake", new),
    )  # fmt: skip

    # Then it converted those partitions alone, and computed the same rows
    converted = {
        p.relative_to(tmp_path / "floor" / "ods").parent.as_posix()
        for p in (tmp_path / "floor" / "ods").rglob("*.parquet")
    }
    touched = {k.split("/", 2)[2].rsplit("/", 1)[0] for k in new}
    assert {c.split("/", 1)[1] for c in converted} == touched
    assert incremental.rows_by_model == from_raw.rows_by_model
