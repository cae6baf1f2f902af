"""AWS list prices and billing rules: the one table every cost in the project is priced from.

Read by the run's own cost (etl_lambdas.run_cost: the success notification and `etl runs`)
and by the benchmark's cost model (etl_local.bench.cost_model: the benchmark report and the
capacity plan). On-demand list prices in USD, without free tiers, savings plans or taxes, as
AWS publishes them on its pricing pages (aws.amazon.com/<service>/pricing/):

- Step Functions, Standard workflows: per state transition; "Step Functions counts a state
  transition each time a step of your workflow is executed ... including retries". The page
  prices each region separately (US West (N. California) $0.0279, Europe (Paris) $0.0297 per
  1,000; most regions $0.025).
- Lambda: per request ($0.20 per million) and per GB-second of duration by architecture
  (x86 $0.0000166667, Arm $0.0000133334, the first tier), duration "rounded up to the
  nearest 1 ms"; it includes the initialization code outside the handler.
- Glue ETL jobs: per DPU-hour by execution class (standard $0.44, Flex $0.29), billed per
  second with a 1-minute minimum (Glue 2.0 and later); crawlers $0.44 per DPU-hour, billed per
  second with a 10-minute minimum per crawl.
- Athena (SQL queries): $5 per TB scanned, "rounded up to the nearest megabyte, with a 10 MB
  minimum per query"; no charge for DDL statements (CREATE TABLE AS SELECT scans, and is
  charged) nor for failed queries; a cancelled query is charged for what it scanned.
- S3 Standard requests: $0.005 per 1,000 PUT, COPY, POST or LIST, $0.0004 per 1,000 GET.

A region missing from REGIONS is priced at DEFAULT_REGION's prices, and says so
(`Prices.region` / `Prices.priced_as`): add the region's row from the pricing pages.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

# -- billing rules, the same in every region --------------------------------------------------
GLUE_JOB_MINIMUM_SECONDS = 60
CRAWLER_MINIMUM_SECONDS = 600
# A crawl's DPUs are not configurable and GetCrawlerMetrics reports no DPU figure; AWS's
# pricing example bills a crawler at 2 DPUs, so a crawl's cost is an estimate.
CRAWLER_DPUS = 2
ATHENA_MINIMUM_BYTES_PER_QUERY = 10 * 1024 * 1024
ATHENA_BYTES_PER_TB = 1024**4
MEGABYTE = 1024 * 1024
# DPUs per worker ("AWS Glue worker types", AWS Glue Developer Guide). R.* workers are
# billed in M-DPUs at another price, not in this table.
GLUE_DPUS_PER_WORKER: Mapping[str, float] = {
    "G.025X": 0.25,
    "G.1X": 1,
    "G.2X": 2,
    "G.4X": 4,
    "G.8X": 8,
    "G.12X": 12,
    "G.16X": 16,
}
GLUE_EXECUTION_CLASSES = ("STANDARD", "FLEX")
LAMBDA_ARCHITECTURES = ("x86_64", "arm64")


@dataclass(frozen=True)
class Prices:
    """One region's list prices (USD)."""

    region: str
    step_functions_per_transition: float
    lambda_per_request: float
    lambda_per_gb_second: Mapping[str, float]
    glue_per_dpu_hour: Mapping[str, float]
    crawler_per_dpu_hour: float
    athena_per_tb: float
    s3_per_put_or_list: float
    s3_per_get: float
    # The region whose prices these are, when `region` has no row of its own.
    priced_as: str = field(default="")

    @property
    def exact(self) -> bool:
        return not self.priced_as or self.priced_as == self.region

    def describe(self) -> str:
        """Where the prices come from, in a line (for reports and notifications)."""
        if self.exact:
            return f"{self.region} list prices (etl_lambdas/prices.py)"
        return f"{self.priced_as} list prices: etl_lambdas/prices.py has no row for {self.region}"


def _row(region: str, *, step_functions_per_thousand: float) -> Prices:
    # Lambda, Glue, Athena and S3 cost the same in the regions of REGIONS; only Step
    # Functions' table differs by region.
    return Prices(
        region=region,
        step_functions_per_transition=step_functions_per_thousand / 1000,
        lambda_per_request=0.20 / 1_000_000,
        lambda_per_gb_second={"x86_64": 0.0000166667, "arm64": 0.0000133334},
        glue_per_dpu_hour={"STANDARD": 0.44, "FLEX": 0.29},
        crawler_per_dpu_hour=0.44,
        athena_per_tb=5.0,
        s3_per_put_or_list=0.005 / 1000,
        s3_per_get=0.0004 / 1000,
    )


REGIONS: Mapping[str, Prices] = {
    "us-east-1": _row("us-east-1", step_functions_per_thousand=0.025),
    "eu-west-1": _row("eu-west-1", step_functions_per_thousand=0.025),
}
DEFAULT_REGION = "us-east-1"


def for_region(region: str) -> Prices:
    """The region's prices; another region's, marked `priced_as`, when it has no row."""
    known = REGIONS.get(region)
    if known is not None:
        return known
    return replace(REGIONS[DEFAULT_REGION], region=region, priced_as=DEFAULT_REGION)


# -- billing rules as functions -------------------------------------------------------------


def athena_billed_bytes(scanned: int) -> int:
    """Athena rounds each query up to the next megabyte, with a 10 MB minimum."""
    megabytes = math.ceil(max(scanned, 0) / MEGABYTE) * MEGABYTE
    return max(megabytes, ATHENA_MINIMUM_BYTES_PER_QUERY)


def athena_query_cost(prices: Prices, scanned: int) -> float:
    return athena_billed_bytes(scanned) / ATHENA_BYTES_PER_TB * prices.athena_per_tb


def glue_dpu_hour_price(prices: Prices, execution_class: str) -> float:
    price = prices.glue_per_dpu_hour.get(execution_class)
    if price is None:
        raise ValueError(
            f"unknown Glue execution class {execution_class!r}; one of "
            f"{', '.join(GLUE_EXECUTION_CLASSES)}"
        )
    return price


def glue_job_cost(
    prices: Prices, dpu_seconds: float, dpus: float, execution_class: str = "STANDARD"
) -> float:
    """A job run of `dpu_seconds` DPU-seconds on `dpus` DPUs: the one-minute minimum applies
    to the run's duration, so a run's DPU-seconds are at least `dpus` x 60."""
    billed = max(dpu_seconds, dpus * GLUE_JOB_MINIMUM_SECONDS)
    return billed / 3600 * glue_dpu_hour_price(prices, execution_class)


def crawler_cost(prices: Prices, runs: int, seconds_per_run: float) -> float:
    billed_seconds = max(seconds_per_run, CRAWLER_MINIMUM_SECONDS)
    return runs * CRAWLER_DPUS * billed_seconds / 3600 * prices.crawler_per_dpu_hour


def lambda_gb_second_price(prices: Prices, architecture: str) -> float:
    price = prices.lambda_per_gb_second.get(architecture)
    if price is None:
        raise ValueError(
            f"unknown Lambda architecture {architecture!r}; one of "
            f"{', '.join(LAMBDA_ARCHITECTURES)}"
        )
    return price


def lambda_billed_seconds(seconds: float) -> float:
    """Lambda bills duration rounded up to the millisecond."""
    return math.ceil(max(seconds, 0) * 1000 - 1e-6) / 1000
