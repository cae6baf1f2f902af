"""Names and configuration of the local deployment: what Terraform plans for env "local".

The orchestration (functions and their environments, state machines, roles, the Glue job,
the crawlers, the topic) is read from the local environment's Terraform plan
(etl_local.plan, build/plan-local.json); the lake's own layout (buckets, databases, the
workgroup), which queries need without a plan, follows docs/contracts.md as the storage,
catalog and athena modules name it: `name_prefix = "<project>-<env>"`, `glue_prefix =
name_prefix with "_" for "-"`. `check_lake_names` (etl_local.deploy) verifies that the
plan names the same lake before anything is deployed from it.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from etl_lambdas.catalog import DATABASE_TIERS, default_sql_root
from etl_lambdas.sources import SOURCES_FILE, Sources, load_sources
from etl_local.plan import LOCAL_PLAN, LocalPlan, PlannedFunction

# moto's default account: every ARN moto returns carries it (and the local plan's account).
LOCAL_ACCOUNT_ID = "123456789012"


@dataclass(frozen=True)
class LocalSettings:
    project: str = "lakepipe"
    env: str = "local"
    region: str = "eu-west-1"
    account_id: str = LOCAL_ACCOUNT_ID
    # The source declaration Terraform reads too (root variable sources_path).
    sources_path: Path = field(default_factory=lambda: default_sql_root() / SOURCES_FILE)
    # The local environment's Terraform plan (etl_local.plan).
    plan_path: Path = LOCAL_PLAN

    @cached_property
    def plan(self) -> LocalPlan:
        """The local plan, read once; PlanMissing says how to make it."""
        return LocalPlan.load(self.plan_path)

    # -- the local environment's variables, as planned ------------------------------------
    @property
    def time_zone(self) -> str:
        return str(self.plan.variable("pipeline_time_zone"))

    @property
    def max_backfill_days(self) -> int:
        return int(self.plan.variable("max_backfill_days"))

    @property
    def state_machine_timeout_seconds(self) -> int:
        """Beyond the machine's own TimeoutSeconds the runtime stops waiting (runtime.run)."""
        return int(self.plan.variable("state_machine_timeout_seconds"))

    @property
    def name_prefix(self) -> str:
        return f"{self.project}-{self.env}"

    @property
    def glue_prefix(self) -> str:
        return self.name_prefix.replace("-", "_")

    # -- S3 -------------------------------------------------------------------------------
    @property
    def raw_bucket(self) -> str:
        return self._bucket("raw")

    @property
    def curated_bucket(self) -> str:
        return self._bucket("curated")

    @property
    def athena_results_bucket(self) -> str:
        return self._bucket("athena-results")

    @property
    def artifacts_bucket(self) -> str:
        return self._bucket("artifacts")

    def _bucket(self, role: str) -> str:
        # As modules/storage: bucket names are global, the account and region make them unique.
        return f"{self.name_prefix}-{role}-{self.account_id}-{self.region}"

    @property
    def bucket_roles(self) -> dict[str, str]:
        """Each bucket by its role, as the storage module's `bucket_names` output keys them."""
        roles = ("raw", "curated", "athena-results", "artifacts")
        return {role: self._bucket(role) for role in roles}

    @property
    def buckets(self) -> tuple[str, ...]:
        return tuple(self.bucket_roles.values())

    @cached_property
    def sources(self) -> Sources:
        return load_sources(self.sources_path)

    @property
    def raw_prefix(self) -> str:
        """The prefix every declared source's raw data lies under (their common folder)."""
        common = posixpath.commonpath([source.raw_prefix for source in self.sources])
        return f"{common}/" if common else ""

    # -- Glue -----------------------------------------------------------------------------
    def database(self, tier: str) -> str:
        """Glue database of a tier (`ods`, `dwd`, `dws`, `ads`) or of `staging`."""
        if tier not in DATABASE_TIERS:
            raise ValueError(f"unknown tier {tier!r}")
        return f"{self.glue_prefix}_{tier}"

    @property
    def databases(self) -> tuple[str, ...]:
        return tuple(self.database(t) for t in DATABASE_TIERS)

    def crawler_name(self, source: str) -> str:
        """One crawler per source, named after it (modules/catalog)."""
        return self.plan.crawlers[source].name

    @property
    def crawler_names(self) -> dict[str, str]:
        return {source: crawler.name for source, crawler in self.plan.crawlers.items()}

    @property
    def glue_job_name(self) -> str:
        return self.plan.glue_job.name

    # -- Athena, SNS, SQS, Step Functions ---------------------------------------------------
    @property
    def athena_engine_version(self) -> str:
        """The workgroup's engine as planned (variables.tf: athena_engine_version)."""
        return str(self.plan.variable("athena_engine_version") or "Athena engine version 3")

    @property
    def workgroup(self) -> str:
        return self.name_prefix

    @property
    def topic_arn(self) -> str:
        return self.plan.topic_arn

    @property
    def topic_name(self) -> str:
        return self.topic_arn.rsplit(":", 1)[1]

    @property
    def notification_queue_name(self) -> str:
        # Local only: lets the runtime read what the pipeline published to the topic.
        return f"{self.name_prefix}-notifications-inbox"

    @property
    def state_machine_name(self) -> str:
        return self.plan.state_machines["pipeline"].name

    @property
    def state_machine_arn(self) -> str:
        return self.plan.state_machines["pipeline"].arn

    @property
    def model_state_machine_name(self) -> str:
        return self.plan.state_machines["model"].name

    @property
    def model_state_machine_arn(self) -> str:
        return self.plan.state_machines["model"].arn

    # -- Lambda ---------------------------------------------------------------------------
    def function_name(self, step: str) -> str:
        return self.function(step).name

    def function_arn(self, step: str) -> str:
        return self.function(step).arn

    def function_environment(self, step: str) -> dict[str, str]:
        """The environment variables Terraform gives the step's function (modules/lambdas)."""
        return dict(self.function(step).environment)

    def function(self, step: str) -> PlannedFunction:
        """The step's function as the plan creates it (name, timeout, memory, environment)."""
        try:
            return self.plan.functions[step]
        except KeyError:
            known = ", ".join(self.plan.functions)
            raise ValueError(f"unknown step {step!r}; the plan declares: {known}") from None

    @property
    def run_lease_table(self) -> str:
        return f"{self.name_prefix}-run-lease"
