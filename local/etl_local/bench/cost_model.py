"""What one daily run costs on AWS, from quantities measured by a local run.

List prices of eu-west-1 (Ireland), on-demand, as published by AWS in 2025-2026;
they are constants here so the benchmark report says exactly what it assumed.
Billing rules that matter at this scale are modelled: Glue's one-minute minimum per
job run, the crawler's ten-minute minimum per run, Athena's 10 MB minimum per query.

Sources (aws.amazon.com/<service>/pricing/): Glue ETL jobs $0.44 per DPU-hour, Flex
execution $0.29, billed per second with a 1-minute minimum; crawlers $0.44 per DPU-hour,
billed per second with a 10-minute minimum per crawl. Athena $5 per TB scanned, rounded up
to the megabyte with a 10 MB minimum per query; DDL and failed queries are free. Step
Functions standard workflows $0.025 per 1,000 state transitions. Lambda (x86) $0.20 per
million requests and $0.0000166667 per GB-second. S3 Standard $0.005 per 1,000 PUT, COPY,
POST or LIST requests and $0.0004 per 1,000 GET requests.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

STEP_FUNCTIONS_PER_TRANSITION = 0.025 / 1000
LAMBDA_PER_REQUEST = 0.20 / 1_000_000
LAMBDA_PER_GB_SECOND = 0.0000166667
GLUE_PER_DPU_HOUR = 0.44
# The Flex execution class: spare capacity, started after a variable delay.
GLUE_FLEX_PER_DPU_HOUR = 0.29
GLUE_EXECUTION_CLASSES = {"STANDARD": GLUE_PER_DPU_HOUR, "FLEX": GLUE_FLEX_PER_DPU_HOUR}
GLUE_JOB_MINIMUM_SECONDS = 60
CRAWLER_PER_DPU_HOUR = 0.44
CRAWLER_MINIMUM_SECONDS = 600
# AWS's own pricing example bills a crawler at 2 DPUs; the DPUs of a crawl are not configurable.
CRAWLER_DPUS = 2
ATHENA_PER_TB = 5.0
ATHENA_MINIMUM_BYTES_PER_QUERY = 10 * 1024 * 1024
ATHENA_BYTES_PER_TB = 1024**4
S3_PER_PUT_OR_LIST = 0.005 / 1000
S3_PER_GET = 0.0004 / 1000


@dataclass(frozen=True)
class RunQuantities:
    """What a run used, as measured (or, where noted, estimated) by the benchmark."""

    state_transitions: int
    lambda_invocations: int
    lambda_gb_seconds: float
    glue_job_seconds: float
    glue_job_dpus: float
    crawler_runs: int
    crawler_seconds_per_run: float
    athena_bytes_per_query: tuple[int, ...]
    s3_puts: int
    s3_gets: int
    s3_lists: int = 0
    glue_execution_class: str = "STANDARD"


@dataclass(frozen=True)
class CostBreakdown:
    step_functions: float
    lambda_: float
    glue_job: float
    crawler: float
    athena: float
    s3: float
    total: float = field(init=False)

    def __post_init__(self) -> None:
        parts = (
            self.step_functions,
            self.lambda_,
            self.glue_job,
            self.crawler,
            self.athena,
            self.s3,
        )
        object.__setattr__(self, "total", sum(parts))

    def as_dict(self) -> dict[str, float]:
        return {k.rstrip("_"): round(v, 6) for k, v in asdict(self).items()}

    def shares(self) -> dict[str, float]:
        """Each service's part of the total, 0..1 (all 0 for a free run)."""
        parts = {k.rstrip("_"): v for k, v in asdict(self).items() if k != "total"}
        return {k: (v / self.total if self.total else 0.0) for k, v in parts.items()}


def athena_billed_bytes(scanned: int) -> int:
    """Athena rounds each query up to the next megabyte, with a 10 MB minimum."""
    megabytes = math.ceil(max(scanned, 0) / (1024 * 1024)) * 1024 * 1024
    return max(megabytes, ATHENA_MINIMUM_BYTES_PER_QUERY)


def glue_job_cost(seconds: float, dpus: float, execution_class: str = "STANDARD") -> float:
    price = GLUE_EXECUTION_CLASSES.get(execution_class)
    if price is None:
        raise ValueError(
            f"unknown Glue execution class {execution_class!r}; one of "
            f"{', '.join(GLUE_EXECUTION_CLASSES)}"
        )
    billed_seconds = max(seconds, GLUE_JOB_MINIMUM_SECONDS)
    return dpus * billed_seconds / 3600 * price


def crawler_cost(runs: int, seconds_per_run: float) -> float:
    billed_seconds = max(seconds_per_run, CRAWLER_MINIMUM_SECONDS)
    return runs * CRAWLER_DPUS * billed_seconds / 3600 * CRAWLER_PER_DPU_HOUR


def cost_of(quantities: RunQuantities) -> CostBreakdown:
    athena_bytes = sum(athena_billed_bytes(b) for b in quantities.athena_bytes_per_query)
    return CostBreakdown(
        step_functions=quantities.state_transitions * STEP_FUNCTIONS_PER_TRANSITION,
        lambda_=quantities.lambda_invocations * LAMBDA_PER_REQUEST
        + quantities.lambda_gb_seconds * LAMBDA_PER_GB_SECOND,
        glue_job=glue_job_cost(
            quantities.glue_job_seconds, quantities.glue_job_dpus, quantities.glue_execution_class
        )
        if quantities.glue_job_seconds > 0
        else 0.0,
        crawler=crawler_cost(quantities.crawler_runs, quantities.crawler_seconds_per_run),
        athena=athena_bytes / ATHENA_BYTES_PER_TB * ATHENA_PER_TB,
        s3=(quantities.s3_puts + quantities.s3_lists) * S3_PER_PUT_OR_LIST
        + quantities.s3_gets * S3_PER_GET,
    )


# The daily run's target: what a production day may cost now that the crawler runs only on a
# schema change (it was $0.228, 64% of it the crawl).
DAILY_RUN_TARGET_USD = 0.05


def previous_design(quantities: RunQuantities) -> RunQuantities:
    """The same run as the design before: a crawl every run, the job on 5 x G.2X (10 DPUs)
    in the standard execution class."""
    return RunQuantities(
        **{
            **quantities.__dict__,
            "crawler_runs": max(quantities.crawler_runs, 1),
            "glue_job_dpus": 10,
            "glue_execution_class": "STANDARD",
        }
    )


def cost_lines(label: str, breakdown: Mapping[str, float]) -> list[tuple[str, str]]:
    """(measure, value) rows of a run's cost (CostBreakdown.as_dict()): the total, then each
    service with its share of the total."""
    total = breakdown["total"]
    rows = [(f"{label} (USD)", f"{total:.4f}")]
    for service, amount in breakdown.items():
        if service != "total":
            share = amount / total if total else 0.0
            rows.append((f"  {service}", f"{amount:.4f} ({share:.0%})"))
    return rows
