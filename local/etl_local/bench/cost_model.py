"""What one daily run costs on AWS, from quantities measured by a local run.

Priced from the project's one price table, etl_lambdas.prices (the same table the run's own
cost, `etl runs` and the success notification use), at the prices of PRICES_REGION, with its
billing rules: Glue's one-minute minimum per job run, the crawler's ten-minute minimum per
crawl, Athena's 10 MB minimum per query.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

from etl_lambdas import prices

# The benchmark prices a production run where prod deploys (envs/prod.tfvars' region).
PRICES_REGION = "eu-west-1"
PRICES = prices.for_region(PRICES_REGION)
athena_billed_bytes = prices.athena_billed_bytes


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


def glue_job_cost(seconds: float, dpus: float, execution_class: str = "STANDARD") -> float:
    return prices.glue_job_cost(PRICES, seconds * dpus, dpus, execution_class)


def crawler_cost(runs: int, seconds_per_run: float) -> float:
    return prices.crawler_cost(PRICES, runs, seconds_per_run)


def cost_of(quantities: RunQuantities) -> CostBreakdown:
    athena = sum(prices.athena_query_cost(PRICES, b) for b in quantities.athena_bytes_per_query)
    return CostBreakdown(
        step_functions=quantities.state_transitions * PRICES.step_functions_per_transition,
        lambda_=quantities.lambda_invocations * PRICES.lambda_per_request
        + quantities.lambda_gb_seconds * prices.lambda_gb_second_price(PRICES, "x86_64"),
        glue_job=glue_job_cost(
            quantities.glue_job_seconds, quantities.glue_job_dpus, quantities.glue_execution_class
        )
        if quantities.glue_job_seconds > 0
        else 0.0,
        crawler=crawler_cost(quantities.crawler_runs, quantities.crawler_seconds_per_run),
        athena=athena,
        s3=(quantities.s3_puts + quantities.s3_lists) * PRICES.s3_per_put_or_list
        + quantities.s3_gets * PRICES.s3_per_get,
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
