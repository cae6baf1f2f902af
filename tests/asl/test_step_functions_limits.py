"""Step Functions' limits hold at scale: 25,000 history events per execution and 256 KB per
state's input or output ("Step Functions service quotas"), for 50 models and a 92-day window.

The history bound is counted from the templates themselves: every loop at its maximum number
of polls (the production defaults of variables.tf), every task succeeding at its first
attempt; each model's polls count against its own child execution, not the pipeline's.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import hcl2

from etl_lambdas.catalog import Catalog, Model, load_catalog
from etl_lambdas.changes import ChangeReport
from etl_lambdas.planning import DateRange
from etl_lambdas.restatement import restatement, tiers
from tests.asl.test_state_machines import MACHINES

ROOT = Path(__file__).resolve().parents[2]
HISTORY_EVENTS_LIMIT = 25_000
PAYLOAD_LIMIT_BYTES = 256 * 1024
MODELS = 50
BACKFILL_DAYS = 92


def production_defaults() -> dict[str, Any]:
    document = hcl2.loads((ROOT / "variables.tf").read_text(encoding="utf-8"))
    return {
        name.strip('"'): spec["default"]
        for block in document["variable"]
        for name, spec in block.items()
        if "default" in spec
    }


DEFAULTS = production_defaults()
# History events of one pass through a state, by type (Entered + Exited, plus a task's
# Scheduled/Started/Succeeded, plus Submitted for .sync integrations).
EVENTS = {"Task": 5, "SyncTask": 6, "Pass": 2, "Choice": 2, "Wait": 2, "Succeed": 2}


def poll_loop_events() -> int:
    return EVENTS["Wait"] + EVENTS["Task"] + EVENTS["Pass"] + EVENTS["Choice"]


def model_machine_events() -> int:
    polls = DEFAULTS["query_max_polls"]
    attempts = DEFAULTS["audit_max_attempts"]
    write = EVENTS["Task"] + polls * poll_loop_events() + EVENTS["Pass"]
    audit = attempts * (EVENTS["Task"] + polls * poll_loop_events() + EVENTS["Pass"])
    return 2 + write + audit + 3 * EVENTS["Task"] + EVENTS["Pass"]


def pipeline_machine_events(models: int) -> int:
    crawl = EVENTS["Task"] + DEFAULTS["crawler_max_polls"] * poll_loop_events()
    tasks = 6 * EVENTS["Task"] + EVENTS["SyncTask"] + EVENTS["Choice"]
    tier_maps = 4 + 3 * (2 + 4)  # Map entered/started/succeeded/exited; each tier's iteration
    per_model = 2 + EVENTS["SyncTask"]  # iteration started/succeeded and its RunModel task
    return 2 + tasks + crawl + tier_maps + models * per_model + EVENTS["Succeed"]


def test_the_templates_have_the_loops_the_bound_counts() -> None:
    model_waits = [n for n, s in MACHINES["model"]["States"].items() if s["Type"] == "Wait"]
    pipeline_waits = [n for n, s in MACHINES["pipeline"]["States"].items() if s["Type"] == "Wait"]
    assert sorted(model_waits) == ["WaitForAudit", "WaitForQueries"]
    assert pipeline_waits == ["WaitForCrawlers"]


def test_history_stays_under_the_limit_with_every_loop_at_its_maximum() -> None:
    assert model_machine_events() < HISTORY_EVENTS_LIMIT
    assert pipeline_machine_events(MODELS) < HISTORY_EVENTS_LIMIT


def _catalog(tmp: Path) -> Catalog:
    """50 models: 20 detail models on two sources, 20 summaries, 10 reports."""
    models = []
    for n in range(MODELS):
        tier = "dwd" if n < 20 else "dws" if n < 40 else "ads"
        sources = (
            (f"ods.source_{n % 2}",)
            if tier == "dwd"
            else (f"dwd.m{n % 20:02d}",)
            if tier == "dws"
            else (f"dws.m{20 + n % 20:02d}",)
        )
        models.append(
            Model(
                name=f"m{n:02d}",
                tier=tier,
                description="",
                sources=sources,
                granularity=("hour", "day", "month")[n % 3],
                keys=("k",),
                not_null=(),
            )
        )
    return Catalog(root=tmp, models=tuple(models), sources=load_catalog().sources)


def test_the_largest_state_of_a_92_day_backfill_with_late_days_fits_in_256_kb(
    tmp_path: Path,
) -> None:
    catalog = _catalog(tmp_path)
    today = date(2026, 11, 22)
    window = DateRange(today - timedelta(days=BACKFILL_DAYS), today - timedelta(days=1))
    # Late data on every other day of the look-back before the window, for both sources.
    late = {window.start - timedelta(days=d): 100 for d in range(1, 8, 2)}
    reports = [
        ChangeReport(
            key=f"changes/r/source_{s}.json",
            source=f"source_{s}",
            run_id="r",
            ods_table=f"source_{s}",
            partition_keys=("year", "month", "day", "hour"),
            partitions=(),
            columns=(),
            event_days=late,
            events=400,
            malformed_lines=0,
            unparsable_event_times=0,
        )
        for s in (0, 1)
    ]
    late_days = restatement(reports, window, 7, today)
    item = {
        "run_id": "20261122t030000z_0123abcd",
        "arrival_end_limit": today.isoformat(),
        "lookback_days": 7,
    }
    work = tiers(catalog, None, window, late_days, today, item)
    summary = {
        "model": "m00",
        "tier": "dwd",
        "run_id": item["run_id"],
        "windows": work[0]["models"][0]["windows"],  # type: ignore[index]
        "table": "lakepipe_prod_dwd.m00",
        "partitions": 2400,
        "rows": 10**9,
        "data_scanned_bytes": 10**12,
    }
    run = {
        "run_id": item["run_id"],
        "start_date": window.start.isoformat(),
        "end_date": window.end.isoformat(),
        "glue_arguments": {
            "--changes_path": "s3://" + "b" * 63 + "/changes/" + item["run_id"] + "/"
        },
        "lease": {
            "holder": f"arn:aws:states:eu-west-1:123456789012:execution:{'x' * 80}:{'y' * 80}"
        },
    }
    state = {
        "run": {"Payload": run},
        "restate": {
            "Payload": {"tiers": work, "restated": [{"date": d.isoformat()} for d in late]}
        },
        "results": [[summary] * len(tier["models"]) for tier in work],  # type: ignore[arg-type]
    }
    size = len(json.dumps(state).encode())
    assert size < PAYLOAD_LIMIT_BYTES / 4, f"the pipeline's largest state is {size} bytes"
