"""The AWS cost model's billing rules (minimums and rounding), on hand-computed figures."""

from __future__ import annotations

import subprocess
import sys

import pytest

from etl_local.bench import cost_model
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
