"""The pipeline's own CloudWatch metrics: names, dimensions and how they are sent.

The names are a contract (docs/contracts.md, "Metrics"): the dashboard and the alarms of
modules/monitoring read them. Each deployment writes into its own namespace
(`METRICS_NAMESPACE`, `<name_prefix>`), the only one its functions' roles may write to
(`cloudwatch:namespace` condition).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from etl_lambdas.aws import throttling_as_retryable

# After a successful run (the notify step).
RESTATED_DAYS = "RestatedDays"  # earlier days the run restated for late data
MALFORMED_LINES = "MalformedLines"  # per Source: lines dropped as malformed by the run
GLUE_DPU_SECONDS = "GlueDPUSeconds"  # the run's Glue job run, as Glue reports it
# Every hour (the freshness check).
MISSING_ARRIVAL_PARTITIONS = "MissingArrivalPartitions"  # per Source, of its last due day

SOURCE = "Source"

# PutMetricData takes at most 1,000 metrics per request ("PutMetricData", CloudWatch API
# Reference).
_PER_REQUEST = 1000


@dataclass(frozen=True)
class Datum:
    name: str
    value: float
    unit: str = "Count"
    dimensions: Mapping[str, str] | None = None

    def as_metric_datum(self, timestamp: datetime) -> dict[str, Any]:
        datum: dict[str, Any] = {
            "MetricName": self.name,
            "Value": float(self.value),
            "Unit": self.unit,
            "Timestamp": timestamp,
        }
        if self.dimensions:
            datum["Dimensions"] = [{"Name": k, "Value": v} for k, v in self.dimensions.items()]
        return datum


def put(cloudwatch: Any, namespace: str, data: Sequence[Datum], timestamp: datetime) -> int:
    """Sends `data` (throttling surfaces as Throttled, which the callers' Retry handles);
    returns how many data were sent."""
    entries = [datum.as_metric_datum(timestamp) for datum in data]
    for start in range(0, len(entries), _PER_REQUEST):
        with throttling_as_retryable():
            cloudwatch.put_metric_data(
                Namespace=namespace, MetricData=entries[start : start + _PER_REQUEST]
            )
    return len(entries)


def per_source(name: str, counts: Mapping[str, int]) -> Iterable[Datum]:
    return (Datum(name, count, dimensions={SOURCE: source}) for source, count in counts.items())


# DPUs of one worker ("Defining job properties for Spark jobs", AWS Glue Developer Guide).
WORKER_DPUS = {"G.025X": 0.25, "G.1X": 1, "G.2X": 2, "G.4X": 4, "G.8X": 8, "Z.2X": 2}


def glue_dpu_seconds(job_run: Mapping[str, Any]) -> float:
    """DPU-seconds of a Glue job run as Glue reports it (GetJobRun's JobRun): `DPUSeconds`
    where Glue sets it (FLEX runs and Auto Scaling: the executors' actual time), otherwise
    `ExecutionTime` (seconds) times the run's DPUs ("JobRun", AWS Glue API). The billing
    minimum (one minute) is the cost's business, not this measure's."""
    if job_run.get("DPUSeconds") is not None:
        return float(job_run["DPUSeconds"])
    seconds = float(job_run.get("ExecutionTime") or 0)
    worker_type, workers = job_run.get("WorkerType"), job_run.get("NumberOfWorkers")
    if worker_type in WORKER_DPUS and workers:
        return seconds * WORKER_DPUS[worker_type] * int(workers)
    return seconds * float(job_run.get("MaxCapacity") or 0)


def malformed_lines(event: Mapping[str, Any]) -> dict[str, int]:
    """Per source, the lines the run's conversion dropped as malformed: the register step's
    `intake` rows (`{"source", "malformed_lines", ...}`), which the notify event carries as
    `register`."""
    register = event.get("register")
    intake = register.get("intake") if isinstance(register, Mapping) else None
    counts: dict[str, int] = {}
    for row in intake if isinstance(intake, list) else []:
        if isinstance(row, Mapping) and isinstance(row.get("source"), str):
            counts[row["source"]] = counts.get(row["source"], 0) + int(
                row.get("malformed_lines") or 0
            )
    return counts


def success_metrics(event: Mapping[str, Any], job_run: Mapping[str, Any] | None) -> list[Datum]:
    """What a successful run reports (the notify step's event, docs/contracts.md "Metrics"):
    the earlier days it restated, the malformed lines per source, the Glue DPU-seconds."""
    data = [Datum(RESTATED_DAYS, len(event.get("restated") or []))]
    data.extend(per_source(MALFORMED_LINES, malformed_lines(event)))
    if job_run is not None:
        data.append(Datum(GLUE_DPU_SECONDS, glue_dpu_seconds(job_run), unit="None"))
    return data
