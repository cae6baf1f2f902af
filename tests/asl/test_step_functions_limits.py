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

from etl_lambdas.athena_states import verdict
from etl_lambdas.catalog import Catalog, Model, load_catalog
from etl_lambdas.checks import all_checks, evaluate
from etl_lambdas.ledger import MAX_REPORTED_FILES
from etl_lambdas.naming import staging_table
from etl_lambdas.planning import DateRange, chunks, parse_windows
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


def _backfill(
    tmp: Path,
) -> tuple[Catalog, list[dict[str, Any]], DateRange, dict[str, Any], list[date]]:
    """The 50 models' work list of a 92-day backfill with late days: (catalog, tiers, window,
    the run's item, the late days), as the restate step computes it."""
    catalog = _catalog(tmp)
    today = date(2026, 11, 22)
    window = DateRange(today - timedelta(days=BACKFILL_DAYS), today - timedelta(days=1))
    # Late data on every other day of the look-back before the window, for both sources.
    late = {window.start - timedelta(days=d): 100 for d in range(1, 8, 2)}
    counts = {day: {"source_0": 100, "source_1": 100} for day in late}
    late_days = restatement(counts, window, 7, today)
    item = {
        "run_id": "20261122t030000z_0123abcd",
        "arrival_end_limit": today.isoformat(),
        "lookback_days": 7,
    }
    work = tiers(catalog, None, window, late_days, item)
    return catalog, work, window, item, sorted(late)


def test_the_largest_state_of_a_92_day_backfill_with_late_days_fits_in_256_kb(
    tmp_path: Path,
) -> None:
    _, work, window, item, late = _backfill(tmp_path)
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
        "glue_arguments": {"--run_id": item["run_id"]},
        "lease": {
            "holder": f"arn:aws:states:eu-west-1:123456789012:execution:{'x' * 80}:{'y' * 80}"
        },
    }
    malformed = {"partition": "s3://" + "c" * 63 + "/ods/source_0/year=2026/month=11/day=20/"
                 "hour=05/", "file": "f" * 200, "lines": 10**6}  # fmt: skip
    intake = [
        {"source": f"source_{s}", "partitions_converted": 2208, "new_events": 10**9,
         "malformed_lines": 10**6, "malformed_files": [malformed] * MAX_REPORTED_FILES,
         "malformed_files_not_named": 10**4, "unparsable_event_times": 10}
        for s in (0, 1)
    ]  # fmt: skip
    state = {
        "run": {"Payload": run},
        "register": {"Payload": {"crawlers": [], "intake": intake, "waiting_for_data": []}},
        "restate": {
            "Payload": {
                "tiers": work,
                "restated": [{"date": d.isoformat()} for d in late],
                "settle": {
                    "window": window.as_dict(),
                    "days": {f"source_{s}": [d.isoformat() for d in late] for s in (0, 1)},
                },
            }
        },
        "results": [[summary] * len(tier["models"]) for tier in work],  # type: ignore[arg-type]
    }
    size = len(json.dumps(state).encode())
    assert size < PAYLOAD_LIMIT_BYTES / 4, f"the pipeline's largest state is {size} bytes"


# -- each model's child execution, from the payloads the steps produce --------------------------

QUERY_ID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"  # an Athena id: a UUID
EXECUTION_ARN = f"arn:aws:states:eu-west-1:123456789012:execution:{'m' * 80}:{'e' * 80}"


def _size(value: Any) -> int:
    """Bytes as Step Functions counts them: the JSON text in UTF-8 (compact)."""
    return len(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def _model_execution(model: Model, entry: dict[str, Any]) -> dict[str, Any]:
    """The payloads of one model's child execution, each as its step builds it: the child's
    input (RunModel's Parameters), the tasks' inputs after Parameters, the fullest state
    (every ResultPath filled, with loops at their maximum), its output, and RunModel's
    result (startExecution.sync:2 returns Input and Output as JSON strings)."""
    child_input = {**entry, "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": EXECUTION_ARN}
    planned = chunks(parse_windows(entry["windows"]), model.granularity)
    staging = [staging_table(model.name, entry["run_id"], c.index) for c in planned]
    write = {  # steps/write.py's result
        "run_id": entry["run_id"],
        "model": model.name,
        "tier": model.tier,
        "chunks": len(planned),
        "query_ids": [QUERY_ID] * len(planned),
        "staging_tables": staging,
    }
    states = {
        f"{QUERY_ID[:-4]}{n:04d}": {"state": "SUCCEEDED", "data_scanned_bytes": 10**12}
        for n in range(len(planned))
    }
    query = {**verdict(states), "queries": len(planned), "data_scanned_bytes": 10**14}
    checks = evaluate(model, {f"c{n}": str(10**12) for n in range(len(all_checks(model)))})
    audit_verdict = {"run_id": entry["run_id"], "model": model.name, "rows": 10**12}
    publish = {  # publishing.Publisher.publish's result
        "run_id": entry["run_id"],
        "model": model.name,
        "tier": model.tier,
        "table": f"lakepipe_prod_{model.tier}.{model.name}",
        "table_created": False,
        "schema_updated": False,
        "partitions_created": 2400,
        "partitions_updated": 2400,
        "partitions": 4800,
        "deleted_objects": 10**6,
    }
    fullest = {
        **child_input,
        "write": {"Payload": write, "polls": DEFAULTS["query_max_polls"]},
        "query": {"Payload": query},
        "audit_attempt": {"attempt": DEFAULTS["audit_max_attempts"]},
        "audit": {
            "Payload": {"query_execution_id": QUERY_ID, "attempt": 1},
            "polls": DEFAULTS["query_max_polls"],
        },
        "audit_query": {"Payload": query},
        "verdict": {"Payload": {**audit_verdict, "checks": checks}},
        "publish": {"Payload": publish},
    }
    summary = {  # the Summary state's Parameters
        "model": model.name,
        "tier": model.tier,
        "run_id": entry["run_id"],
        "windows": entry["windows"],
        "table": publish["table"],
        "partitions": publish["partitions"],
        "rows": audit_verdict["rows"],
        "data_scanned_bytes": query["data_scanned_bytes"],
    }
    task_inputs = {
        "Write": {k: entry[k] for k in ("run_id", "model", "windows", "arrival_end_limit")},
        "QueriesState": {"query_ids": write["query_ids"]},
        "AuditStart": {"run_id": entry["run_id"], "staging_tables": staging, "attempt": 1},
        "Publish": {"run_id": entry["run_id"], "model": model.name, "staging_tables": staging},
    }
    run_model_result = {
        "ExecutionArn": EXECUTION_ARN,
        "StateMachineArn": EXECUTION_ARN,
        "Name": "0" * 80,
        "Status": "SUCCEEDED",
        "StartDate": 1.7e12,
        "StopDate": 1.7e12,
        "Input": json.dumps(child_input),
        "InputDetails": {"Included": True},
        "Output": json.dumps(summary),
        "OutputDetails": {"Included": True},
    }
    return {
        "input": child_input,
        "tasks": task_inputs,
        "fullest": fullest,
        "summary": summary,
        "run_model_result": run_model_result,
        "chunks": len(planned),
    }


def test_the_model_machine_has_the_states_the_payloads_model() -> None:
    states = MACHINES["model"]["States"]
    assert [states[n]["ResultPath"] for n in ("Write", "QueriesState", "AuditStart")] == [
        "$.write",
        "$.query",
        "$.audit",
    ]
    assert [states[n]["ResultPath"] for n in ("AuditState", "AuditVerdict", "Publish")] == [
        "$.audit_query",
        "$.verdict",
        "$.publish",
    ]
    assert set(states["Summary"]["Parameters"]) == {
        f"{key}.$" for key in ("model", "tier", "run_id", "windows", "table", "partitions", "rows")
    } | {"data_scanned_bytes.$"}
    run_model = MACHINES["pipeline"]["States"]["Tiers"]["ItemProcessor"]["States"]["Models"][
        "ItemProcessor"
    ]["States"]["RunModel"]
    assert run_model["Resource"] == "arn:aws:states:::states:startExecution.sync:2"
    assert run_model["OutputPath"] == "$.Output"


def test_every_model_execution_of_a_92_day_backfill_keeps_its_payloads_under_256_kb(
    tmp_path: Path,
) -> None:
    catalog, work, _, _, _ = _backfill(tmp_path)
    models = {m.name: m for m in catalog.models}
    executions = [
        _model_execution(models[entry["model"]], entry) for tier in work for entry in tier["models"]
    ]
    assert len(executions) == MODELS
    # The window really is 92 days of work, split as the planner splits it.
    assert max(e["chunks"] for e in executions) >= BACKFILL_DAYS // 7
    sizes = {
        "child input": max(_size(e["input"]) for e in executions),
        "task input": max(_size(t) for e in executions for t in e["tasks"].values()),
        "fullest state": max(_size(e["fullest"]) for e in executions),
        "RunModel result": max(_size(e["run_model_result"]) for e in executions),
    }
    assert all(size < PAYLOAD_LIMIT_BYTES / 4 for size in sizes.values()), sizes
    # The pipeline's Tiers result holds every model's summary.
    results = [
        [e["summary"] for e in executions if e["summary"]["tier"] == t["tier"]] for t in work
    ]
    state = {"restate": {"Payload": {"tiers": work}}, "results": results}
    assert _size(state) < PAYLOAD_LIMIT_BYTES / 4, _size(state)


def oversized_model_execution() -> dict[str, Any]:
    """One hourly model's execution over 2,000 one-day windows (2,000 chunks)."""
    model = Model(
        name="m00",
        tier="dwd",
        description="",
        sources=("ods.source_0",),
        granularity="hour",
        keys=("k",),
        not_null=(),
    )
    today = date(2026, 11, 22)
    entry = {
        "run_id": "20261122t030000z_0123abcd",
        "arrival_end_limit": today.isoformat(),
        "lookback_days": 7,
        "model": "m00",
        "tier": "dwd",
        "windows": [
            DateRange(day, day).as_dict()
            for day in (today - timedelta(days=2 * n) for n in range(1, 2001))
        ],
    }
    return _model_execution(model, entry)


def test_a_model_execution_with_far_more_chunks_would_not_fit() -> None:
    """The measure bites: 2,000 one-day windows (2,000 chunks) exceed 256 KB."""
    execution = oversized_model_execution()
    assert _size(execution["fullest"]) > PAYLOAD_LIMIT_BYTES
