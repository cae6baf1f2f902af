"""The benchmark's Glue estimate, its S3 request counts, and its reading of prod."""

from __future__ import annotations

from dataclasses import dataclass

import hcl2
import pytest

from etl_local.bench import glue_estimate, s3_requests
from etl_local.bench.glue_estimate import GlueThroughput, estimate, task_slots, workers_needed
from etl_local.bench.run import ROOT, prod_sizes

MB = 1024 * 1024
# 300 MB of gzipped JSON converted in 100 script-seconds on 2 cores: 1.5 MB per core-second.
MEASURED = GlueThroughput(
    raw_bytes=300 * MB, largest_object_bytes=3 * MB, script_seconds=100, local_cores=2
)


def test_glue_runs_tasks_on_every_worker_but_the_driver() -> None:
    # A DPU is 4 vCPUs; G.1X is 1 DPU, G.2X 2 ("AWS Glue worker types").
    assert task_slots("G.1X", 3) == 8
    assert task_slots("G.2X", 5) == 32
    assert task_slots("G.1X", 2) == 4


def test_the_estimate_spreads_the_bytes_over_the_slots_at_the_measured_speed() -> None:
    run = estimate(MEASURED, "G.1X", 3)

    # 300 MB / (1.5 MB/s x 8 slots) = 25 s, on 3 DPUs.
    assert run.seconds == pytest.approx(25)
    assert run.dpus == 3 and run.dpu_seconds == pytest.approx(75)
    assert run.limited_by == "slots"


def test_a_gzipped_object_is_one_task_however_many_workers() -> None:
    run = estimate(MEASURED, "G.2X", 50, raw_bytes=300 * MB, largest_object_bytes=150 * MB)

    # 150 MB at 1.5 MB per second: 100 s, whatever the other 392 slots do.
    assert run.seconds == pytest.approx(100)
    assert run.limited_by == "largest object"
    assert (
        workers_needed(MEASURED, "G.2X", 60, raw_bytes=300 * MB, largest_object_bytes=150 * MB)
        is None
    )


def test_workers_needed_are_the_fewest_that_finish_in_time() -> None:
    # 30,000 MB at 1.5 MB/s per slot within 1,800 s: 11.1 slots, so 3 executors of 4 slots.
    needed = workers_needed(
        MEASURED, "G.1X", 1800, raw_bytes=30_000 * MB, largest_object_bytes=300 * MB
    )

    assert needed == 4
    assert estimate(MEASURED, "G.1X", 4, raw_bytes=30_000 * MB).seconds <= 1800
    assert estimate(MEASURED, "G.1X", 3, raw_bytes=30_000 * MB).seconds > 1800


def test_the_benchmark_prices_the_sizes_prod_declares() -> None:
    with (ROOT / "envs" / "prod.tfvars").open() as handle:
        prod = hcl2.load(handle)
    sizes = prod_sizes()

    assert sizes["glue_worker_type"] == prod["glue_worker_type"].strip('"')
    assert sizes["glue_workers"] == prod["glue_number_of_workers"]
    assert sizes["glue_execution_class"] == prod["glue_execution_class"].strip('"')
    assert (
        sizes["glue_dpus"]
        == glue_estimate.WORKER_DPUS[sizes["glue_worker_type"]] * (sizes["glue_workers"])
    )


@dataclass(frozen=True)
class _Decision:
    identity: str
    action: str


ROLE = "arn:aws:iam::123456789012:role/lakepipe-local-write-lambda"
ADMIN = "arn:aws:iam::123456789012:user/local-administrator"


def test_requests_are_counted_by_the_tier_s3_bills() -> None:
    before = {_Decision(ROLE, "s3:PutObject"): 5, _Decision(ROLE, "s3:GetObject"): 7}
    after = {
        _Decision(ROLE, "s3:PutObject"): 9,  # 4 PUTs (or multipart POSTs and parts)
        _Decision(ROLE, "s3:GetObject"): 10,  # 3 GETs or HEADs
        _Decision(ROLE, "s3:ListBucket"): 2,  # 2 LISTs: the PUT tier
        _Decision(ROLE, "s3:DeleteObject"): 6,  # free, and counted apart
        _Decision(ROLE, "s3:AbortMultipartUpload"): 1,  # CANCEL: free
        _Decision(ROLE, "glue:GetTable"): 3,  # not S3
        _Decision(ADMIN, "s3:PutObject"): 8,  # the runtime's own set-up, not the run's
    }

    assert s3_requests.by_tier(before, after) == {
        s3_requests.PUT_TIER: 6,
        s3_requests.GET_TIER: 3,
        s3_requests.FREE: 7,
    }
