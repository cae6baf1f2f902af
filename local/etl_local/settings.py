"""Names and configuration of the local deployment: what Terraform would name in env "local".

One place for every name the local runtime creates, so deploy, the Lambda router, the
state persistence and the CLI agree. Names follow docs/contracts.md:
`name_prefix = "<project>-<env>"`, `glue_prefix = name_prefix with "_" for "-"`.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from etl_lambdas.catalog import DATABASE_TIERS, default_sql_root
from etl_lambdas.naming import changes_prefix
from etl_lambdas.sources import (
    SOURCES_FILE,
    Sources,
    default_job_arguments,
    load_sources,
    read_document,
)
from etl_lambdas.steps import STEPS

# moto's default account: every ARN moto returns carries it.
LOCAL_ACCOUNT_ID = "123456789012"


@dataclass(frozen=True)
class LocalSettings:
    project: str = "lakepipe"
    env: str = "local"
    region: str = "eu-west-1"
    account_id: str = LOCAL_ACCOUNT_ID
    time_zone: str = "Europe/Brussels"
    max_backfill_days: int = 366
    late_data_lookback_days: int = 7
    keep_runs: int = 2
    # Short polls: locally a crawl or a query takes a second, not minutes.
    crawler_poll_seconds: int = 1
    crawler_max_polls: int = 120
    query_poll_seconds: int = 1
    query_max_polls: int = 600
    audit_max_attempts: int = 3
    max_concurrency: int = 4
    # A run that finds the pipeline held waits briefly: locally an overlap is a test.
    lease_retry_seconds: int = 1
    lease_max_attempts: int = 1
    lambda_timeout_seconds: int = 900
    glue_job_timeout_seconds: int = 3600
    state_machine_timeout_seconds: int = 7200
    extra_tags: dict[str, str] = field(default_factory=dict)
    # The source declaration Terraform reads too (root variable sources_path).
    sources_path: Path = field(default_factory=lambda: default_sql_root() / SOURCES_FILE)

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
    def buckets(self) -> tuple[str, ...]:
        return (
            self.raw_bucket,
            self.curated_bucket,
            self.athena_results_bucket,
            self.artifacts_bucket,
        )

    @cached_property
    def sources(self) -> Sources:
        return load_sources(self.sources_path)

    @property
    def raw_prefix(self) -> str:
        """The prefix every declared source's raw data lies under (their common folder)."""
        common = posixpath.commonpath([source.raw_prefix for source in self.sources])
        return f"{common}/" if common else ""

    @property
    def athena_output_location(self) -> str:
        return f"s3://{self.athena_results_bucket}/results/"

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
        return f"{self.name_prefix}-ods-{source}"

    @property
    def crawler_names(self) -> dict[str, str]:
        return {source.name: self.crawler_name(source.name) for source in self.sources}

    @property
    def glue_job_name(self) -> str:
        return f"{self.name_prefix}-convert-raw"

    @property
    def glue_script_key(self) -> str:
        return "glue/convert_raw.py"

    @property
    def glue_job_arguments(self) -> dict[str, str]:
        """The job's default arguments, as modules/glue_job sets them; each run adds the
        arrival window and its run id (the Plan step's glue_arguments)."""
        return {
            "--job-language": "python",
            "--job-bookmark-option": "job-bookmark-disable",
            **default_job_arguments(
                read_document(self.sources_path),
                raw_root=f"s3://{self.raw_bucket}/",
                ods_root=f"s3://{self.curated_bucket}/ods/",
                changes_root=f"s3://{self.artifacts_bucket}/{changes_prefix()}",
                time_zone=self.time_zone,
            ),
        }

    # -- Athena, SNS, SQS, Step Functions ---------------------------------------------------
    @property
    def workgroup(self) -> str:
        return self.name_prefix

    @property
    def topic_name(self) -> str:
        return f"{self.name_prefix}-notifications"

    @property
    def topic_arn(self) -> str:
        return f"arn:aws:sns:{self.region}:{self.account_id}:{self.topic_name}"

    @property
    def notification_queue_name(self) -> str:
        # Local only: lets the runtime read what the pipeline published to the topic.
        return f"{self.name_prefix}-notifications-inbox"

    @property
    def state_machine_name(self) -> str:
        return f"{self.name_prefix}-pipeline"

    @property
    def state_machine_arn(self) -> str:
        return (
            f"arn:aws:states:{self.region}:{self.account_id}:stateMachine:{self.state_machine_name}"
        )

    @property
    def role_arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:role/{self.name_prefix}-local"

    # -- Lambda ---------------------------------------------------------------------------
    def function_name(self, step: str) -> str:
        return f"{self.name_prefix}-{step}"

    def function_arn(self, step: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name(step)}"

    # -- the run lease and the second machine ----------------------------------------------
    @property
    def run_lease_table(self) -> str:
        return f"{self.name_prefix}-run-lease"

    @property
    def model_state_machine_name(self) -> str:
        return f"{self.name_prefix}-model"

    @property
    def model_state_machine_arn(self) -> str:
        return (
            f"arn:aws:states:{self.region}:{self.account_id}:stateMachine:"
            f"{self.model_state_machine_name}"
        )

    @property
    def source_crawlers(self) -> dict[str, str]:
        return self.crawler_names

    def function_environment(self, step: str) -> dict[str, str]:
        """The environment variables Terraform gives the step's function (modules/lambdas)."""
        values = {
            "ARTIFACTS_BUCKET": self.artifacts_bucket,
            "ATHENA_WORKGROUP": self.workgroup,
            "CURATED_BUCKET": self.curated_bucket,
            "GLUE_DATABASE_PREFIX": self.glue_prefix,
            "KEEP_RUNS": str(self.keep_runs),
            "LATE_DATA_LOOKBACK_DAYS": str(self.late_data_lookback_days),
            "LEASE_SECONDS": str(self.state_machine_timeout_seconds),
            "MAX_BACKFILL_DAYS": str(self.max_backfill_days),
            "PIPELINE_TIME_ZONE": self.time_zone,
            "RUN_LEASE_TABLE": self.run_lease_table,
            "SNS_TOPIC_ARN": self.topic_arn,
            "SOURCE_CRAWLERS": json.dumps(self.source_crawlers),
        }
        spec = STEPS.get(step)
        if spec is None:
            raise ValueError(f"unknown step {step!r}; known: {', '.join(STEPS)}")
        return {
            **{name: values[name] for name in spec.environment},
            "POWERTOOLS_SERVICE_NAME": self.name_prefix,
        }

    def template_values(self) -> dict[str, str]:
        """Values for the state machine templates' placeholders: the set Terraform supplies."""
        values = {
            spec.function_arn_placeholder: self.function_arn(step) for step, spec in STEPS.items()
        }
        values.update(
            glue_job_name=self.glue_job_name,
            model_state_machine_arn=self.model_state_machine_arn,
            crawler_poll_seconds=str(self.crawler_poll_seconds),
            crawler_max_polls=str(self.crawler_max_polls),
            query_poll_seconds=str(self.query_poll_seconds),
            query_max_polls=str(self.query_max_polls),
            audit_max_attempts=str(self.audit_max_attempts),
            max_concurrency=str(self.max_concurrency),
            lease_retry_seconds=str(self.lease_retry_seconds),
            lease_max_attempts=str(self.lease_max_attempts),
            lambda_timeout_seconds=str(self.lambda_timeout_seconds),
            glue_job_timeout_seconds=str(self.glue_job_timeout_seconds),
            model_timeout_seconds=str(self.state_machine_timeout_seconds),
            state_machine_timeout_seconds=str(self.state_machine_timeout_seconds),
        )
        return values
