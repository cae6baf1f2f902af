"""How long the Glue job would take on AWS, from the local conversion's measured throughput.

Local Spark's wall time is no measure of Glue's: Glue runs the job on prod's workers, and
bills at least a minute whatever it takes, so a figure that is the one-minute minimum
whatever the local time says nothing. Instead:

1. throughput: the raw (gzipped) bytes the daily run's job converted, over the seconds its
   script ran (the JVM's start apart) times the local cores Spark used (`local[*]`): bytes
   per core-second. The machine is shared, so this understates a dedicated core.
2. Glue's cores: a DPU is 4 vCPUs and 16 GB ("AWS Glue worker types", AWS Glue Developer
   Guide: G.1X is 1 DPU, G.2X 2...); one worker is the Spark driver, the others run tasks,
   so the job has (workers - 1) x DPUs per worker x 4 task slots. Each vCPU is taken to
   convert as fast as a local core.
3. duration: the bytes spread over those slots, but never shorter than the largest raw
   object alone, since a gzipped object cannot be split: one task reads it whole.

DPU-seconds are that duration times every worker's DPUs (Glue bills the driver too); the
cost model applies the one-minute minimum. Glue's own start-up is not included.

The throughput is taken as proportional: the script's fixed costs (Spark's planning, the
per-file work, the event count after the conversion) count as conversion. At production
size they are a small part; at a small BENCH_SENSORS they are most of it, and the estimate
(and the capacity plan scaled from it) is far too long: measure the reference at
production size.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from etl_lambdas.prices import GLUE_DPUS_PER_WORKER

VCPUS_PER_DPU = 4
WORKER_DPUS = GLUE_DPUS_PER_WORKER


@dataclass(frozen=True)
class GlueThroughput:
    """What the local conversion measured."""

    raw_bytes: int
    largest_object_bytes: int
    script_seconds: float
    local_cores: int

    @property
    def bytes_per_core_second(self) -> float:
        return self.raw_bytes / max(self.script_seconds * self.local_cores, 1e-9)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "bytes_per_core_second": round(self.bytes_per_core_second)}


@dataclass(frozen=True)
class GlueEstimate:
    seconds: float
    dpus: float
    task_slots: int
    limited_by: str  # "slots" or "largest object"

    @property
    def dpu_seconds(self) -> float:
        return self.seconds * self.dpus

    def as_dict(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 1),
            "dpus": self.dpus,
            "task_slots": self.task_slots,
            "limited_by": self.limited_by,
            "dpu_seconds": round(self.dpu_seconds, 1),
        }


def task_slots(worker_type: str, workers: int) -> int:
    return int((workers - 1) * WORKER_DPUS[worker_type] * VCPUS_PER_DPU)


def estimate(
    throughput: GlueThroughput,
    worker_type: str,
    workers: int,
    *,
    raw_bytes: float | None = None,
    largest_object_bytes: float | None = None,
) -> GlueEstimate:
    """The job's duration on `workers` x `worker_type` for the measured input, or for
    `raw_bytes` (largest object `largest_object_bytes`) at the measured throughput."""
    total = throughput.raw_bytes if raw_bytes is None else raw_bytes
    largest = (
        throughput.largest_object_bytes if largest_object_bytes is None else largest_object_bytes
    )
    slots = task_slots(worker_type, workers)
    per_core = throughput.bytes_per_core_second
    spread, longest = total / (per_core * slots), largest / per_core
    return GlueEstimate(
        seconds=max(spread, longest),
        dpus=WORKER_DPUS[worker_type] * workers,
        task_slots=slots,
        limited_by="slots" if spread >= longest else "largest object",
    )


def workers_needed(
    throughput: GlueThroughput,
    worker_type: str,
    within_seconds: float,
    *,
    raw_bytes: float,
    largest_object_bytes: float,
    most: int = 299,
) -> int | None:
    """The fewest workers (2 or more) that convert `raw_bytes` within `within_seconds`;
    None when no number does (the largest object alone takes longer)."""
    for workers in range(2, most + 1):
        run = estimate(
            throughput,
            worker_type,
            workers,
            raw_bytes=raw_bytes,
            largest_object_bytes=largest_object_bytes,
        )
        if run.seconds <= within_seconds:
            return workers
        if run.limited_by == "largest object":
            return None
    return None
