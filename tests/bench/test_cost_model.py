"""The AWS cost model's billing rules (minimums and rounding), on hand-computed figures."""

from __future__ import annotations

import subprocess
import sys

import pytest

from etl_local.bench import cost_model
from etl_local.bench import run as bench
from etl_local.bench.cost_model import RunQuantities, cost_of
from etl_local.bench.process_tree import PeakTreeRss, tree_rss_bytes

MB = 1024 * 1024


def test_athena_bills_ten_megabytes_minimum_and_rounds_up_to_the_megabyte() -> None:
    assert cost_model.athena_billed_bytes(0) == 10 * MB
    assert cost_model.athena_billed_bytes(3 * MB) == 10 * MB
    assert cost_model.athena_billed_bytes(10 * MB + 1) == 11 * MB
    assert cost_model.athena_billed_bytes(50 * MB) == 50 * MB


def test_glue_job_bills_one_minute_minimum_per_dpu() -> None:
    # 2 DPUs x 60 s minimum = 120 DPU-seconds = 1/30 DPU-hour.
    assert cost_model.glue_job_cost(12, 2) == pytest.approx(0.44 / 30)
    assert cost_model.glue_job_cost(180, 2) == pytest.approx(0.44 * 2 * 180 / 3600)


def test_crawler_bills_ten_minutes_minimum_per_run() -> None:
    assert cost_model.crawler_cost(1, 45) == pytest.approx(2 * 600 / 3600 * 0.44)
    assert cost_model.crawler_cost(2, 900) == pytest.approx(2 * 2 * 900 / 3600 * 0.44)


def test_cost_of_a_run_adds_every_service() -> None:
    # given a run with known quantities
    quantities = RunQuantities(
        state_transitions=1000,
        lambda_invocations=1_000_000,
        lambda_gb_seconds=10_000,
        glue_job_seconds=0,
        glue_job_dpus=2,
        crawler_runs=0,
        crawler_seconds_per_run=0,
        athena_bytes_per_query=(1024**4,),
        s3_puts=1000,
        s3_gets=10_000,
    )
    # when it is priced
    cost = cost_of(quantities)
    # then each service is priced by its own rule and the total is their sum
    assert cost.step_functions == pytest.approx(0.025)
    assert cost.lambda_ == pytest.approx(0.20 + 10_000 * 0.0000166667)
    assert cost.glue_job == 0
    assert cost.crawler == 0
    assert cost.athena == pytest.approx(5.0)
    assert cost.s3 == pytest.approx(0.005 + 0.004)
    assert cost.total == pytest.approx(
        sum(v for k, v in cost.as_dict().items() if k != "total"), abs=1e-5
    )


def test_flex_bills_its_own_price_with_the_same_minimum() -> None:
    assert cost_model.glue_job_cost(30, 3, "FLEX") == pytest.approx(3 * 60 / 3600 * 0.29)
    assert cost_model.glue_job_cost(120, 3, "FLEX") == pytest.approx(3 * 120 / 3600 * 0.29)
    with pytest.raises(ValueError, match="FLEXIBLE"):
        cost_model.glue_job_cost(60, 3, "FLEXIBLE")


# A production daily run as the reference size bills it: the job within its first minute on
# 3 x G.1X Flex, the seven models' queries, no crawl (the schema did not change).
DAILY_RUN = RunQuantities(
    state_transitions=150,
    lambda_invocations=40,
    lambda_gb_seconds=20,
    glue_job_seconds=55,
    glue_job_dpus=3,
    glue_execution_class="FLEX",
    crawler_runs=0,
    crawler_seconds_per_run=0,
    athena_bytes_per_query=(400 * MB, 60 * MB, 5 * MB, 5 * MB, 2 * MB, MB, MB),
    s3_puts=600,
    s3_gets=400,
)


def test_a_daily_run_without_a_crawl_costs_at_most_the_target() -> None:
    # given the reference daily run, and the same run in the design before (a crawl every
    # run, the job on 10 standard DPUs)
    before = cost_of(cost_model.previous_design(DAILY_RUN))
    # when both are priced
    after = cost_of(DAILY_RUN)
    # then the run costs at most the target, and the crawl was most of the cost before
    assert after.total <= cost_model.DAILY_RUN_TARGET_USD
    assert after.crawler == 0 and after.shares()["crawler"] == 0
    assert before.crawler == pytest.approx(2 * 600 / 3600 * 0.44)
    assert before.glue_job == pytest.approx(10 * 60 / 3600 * 0.44)
    assert before.shares()["crawler"] > 0.6
    assert sum(after.shares().values()) == pytest.approx(1)


def test_cost_lines_give_each_service_with_its_share() -> None:
    cost = cost_of(cost_model.previous_design(DAILY_RUN))

    lines = dict(cost_model.cost_lines("run", cost.as_dict()))

    assert lines["run (USD)"] == f"{cost.total:.4f}"
    share = round(100 * cost.crawler / cost.total)
    assert lines["  crawler"] == f"{cost.crawler:.4f} ({share}%)"
    assert set(lines) == {"run (USD)", *(f"  {k}" for k in cost.as_dict() if k != "total")}


def test_the_bench_report_prints_the_daily_cost_with_the_crawlers_share(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given a bench report (its measures made up) whose day-N run did not crawl
    cost = cost_of(DAILY_RUN)
    previous = cost_of(cost_model.previous_design(DAILY_RUN))
    report = {
        "sensors": 4600, "days": 3, "events": 6_600_000, "pipeline_seconds": 90.0,
        "pipeline_seconds_runs": [90.0], "stage_seconds": {"ConvertRaw": 50.0},
        "athena_engine_seconds": 20.0, "events_per_second": 73_333, "first_run_seconds": 120.0,
        "restated_days": {"2026-09-07": [], "2026-09-09": ["2026-09-05", "2026-09-06"]},
        "restated_days_daily_runs": [["2026-09-05", "2026-09-06"], ["2026-09-06"]],
        "prod": {"glue_worker_type": "G.1X", "glue_number_of_workers": 3},
        "glue": {"aws_estimate": {"seconds": 25.0, "dpu_seconds": 75.0},
                 "local_wall_seconds_dayN": 40.0},
        "s3_requests_dayN": {"put_copy_post_list": 900, "get_and_other": 3000, "delete_free": 5},
        "floor_seconds": 60.0, "floor_seconds_runs": [60.0], "pipeline_to_floor": 1.5,
        "pipeline_to_floor_runs": [1.5], "peak_rss_mb": 3000, "bytes_read_day1": 1,
        "bytes_read_dayN": 1, "cost_per_run_usd": round(cost.total, 4),
        "cost_breakdown_usd": cost.as_dict(), "crawler_runs_dayN": 0,
        "crawl_usd": round(cost_model.crawler_cost(1, 0), 4),
        "previous_design_cost_per_run_usd": round(previous.total, 4),
        "previous_design_breakdown_usd": previous.as_dict(),
        "seed_design_cost_per_run_usd": 0.3, "startup": {},
        "targets": {"daily_run_at_most_0.05_usd": True},
    }  # fmt: skip

    # when it is printed
    bench.print_report(report)

    # then the table shows the daily run's cost, each service's share, and the design before
    printed = capsys.readouterr().out
    assert "AWS cost per daily run, day 3 (0 crawl(s)) (USD)" in printed
    assert f"{cost.total:.4f}" in printed
    assert "crawler" in printed and "0.0000 (0%)" in printed
    assert "previous design" in printed and f"{previous.total:.4f}" in printed
    assert f"{previous.crawler:.4f} ({previous.crawler / previous.total:.0%})" in printed
    assert "a day with a schema change adds, per crawl" in printed and "0.1467" in printed
    assert "daily_run_at_most_0.05_usd" in printed
    assert "2026-09-09: restated (late data)" in printed and "2026-09-05, 2026-09-06" in printed
    # each repeat of the daily run with its own restated days
    assert "daily run 2: restated" in printed
    assert "Glue on AWS, est. (G.1X x 3)" in printed and "25.0 s, 75.0 DPU-s" in printed
    assert "900 / 3,000 / 5" in printed


def test_tree_rss_counts_a_child_process() -> None:
    # given a child that holds ~200 MB
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys,time; b = bytearray(200*1024*1024); "
            "b[::4096] = b'x' * len(b[::4096]); print('ready', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == b"ready"
        # when the tree's memory is measured, then the child's memory is in it
        alone = tree_rss_bytes(child.pid)
        assert alone > 190 * MB
        with PeakTreeRss(child.pid, interval_seconds=0.05) as peak:
            pass
        assert peak.peak_bytes >= alone
        assert peak.peak_by_process[child.pid][1] >= alone
    finally:
        child.kill()
        child.wait()
