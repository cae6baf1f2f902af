"""The local execution history: a record per run, newest first, bounded, with each model's
audit taken from the audit-verdict results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from etl_local import run_records
from etl_local.execution import ModelSummary, RunResult

CHECKS = [{"check": "min_rows", "value": 12, "passed": True, "detail": "min_rows: 12 rows"}]


def _result(status: str, name: str) -> RunResult:
    model = ModelSummary("sensor_hourly", "dws", "lakepipe_local_dws.sensor_hourly", 12, 1, 99)
    return RunResult(
        status,
        "AuditFailed" if status == "FAILED" else None,
        None,
        f"arn:aws:states:eu-west-1:123456789012:execution:pipeline:{name}",
        models=[model] if status == "SUCCEEDED" else [],
    )


def test_each_run_is_recorded_with_its_models_audits_newest_first(tmp_path: Path) -> None:
    started = datetime(2025, 11, 29, 4, tzinfo=UTC)
    results = [
        ("write", {"model": "sensor_hourly"}),
        ("audit-verdict", {"model": "sensor_hourly", "checks": CHECKS}),
    ]
    run_records.write(
        tmp_path,
        execution_input={"date": "2025-11-28"},
        started=started,
        result=_result("SUCCEEDED", "first"),
        error_text=None,
        audits=run_records.audits_from(results),
    )
    run_records.write(
        tmp_path,
        execution_input={"date": "2025-11-29"},
        started=started + timedelta(days=1),
        result=_result("FAILED", "second"),
        error_text="in Tiers: AuditFailed: model sensor_hourly run x: ...",
        audits={},
    )

    newest, oldest = run_records.recent(tmp_path)

    assert (newest["name"], newest["status"], newest["models"]) == ("second", "FAILED", [])
    assert newest["error"].startswith("in Tiers: AuditFailed")
    assert oldest["input"] == {"date": "2025-11-28"}
    assert oldest["models"][0]["rows_written"] == 12
    assert oldest["models"][0]["audit"] == CHECKS


def test_records_beyond_the_bound_are_deleted_oldest_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_records, "KEEP", 2)
    start = datetime(2025, 11, 29, 4, tzinfo=UTC)
    for n in range(3):
        run_records.write(
            tmp_path,
            execution_input={},
            started=start + timedelta(minutes=n),
            result=_result("SUCCEEDED", f"run{n}"),
            error_text=None,
            audits={},
        )
    assert [r["name"] for r in run_records.recent(tmp_path)] == ["run2", "run1"]
    (run_records.runs_directory(tmp_path) / "zz_torn.json").write_text("{", encoding="utf-8")
    assert len(run_records.recent(tmp_path)) == 2  # an unreadable record is skipped
