"""The Lambda steps: handler path and the environment variables each one reads.

The Python copy of the table in docs/contracts.md. Terraform's lambda module and
the local runtime are tested against it; each step module reads exactly these.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StepSpec:
    handler: str
    environment: frozenset[str]


STEPS: dict[str, StepSpec] = {
    "plan": StepSpec(
        "etl_lambdas.plan.handler", frozenset({"PIPELINE_TIME_ZONE", "MAX_BACKFILL_DAYS"})
    ),
    "crawler-start": StepSpec("etl_lambdas.crawler.start_handler", frozenset({"CRAWLER_NAME"})),
    "crawler-state": StepSpec("etl_lambdas.crawler.state_handler", frozenset({"CRAWLER_NAME"})),
    "write": StepSpec(
        "etl_lambdas.write.handler",
        frozenset(
            {"ATHENA_WORKGROUP", "GLUE_DATABASE_PREFIX", "CURATED_BUCKET", "PIPELINE_TIME_ZONE"}
        ),
    ),
    "query-state": StepSpec("etl_lambdas.query_state.handler", frozenset()),
    "audit": StepSpec(
        "etl_lambdas.audit.handler", frozenset({"ATHENA_WORKGROUP", "GLUE_DATABASE_PREFIX"})
    ),
    "publish": StepSpec(
        "etl_lambdas.publish.handler",
        frozenset({"GLUE_DATABASE_PREFIX", "CURATED_BUCKET", "KEEP_RUNS"}),
    ),
    "notify": StepSpec("etl_lambdas.notify.handler", frozenset({"SNS_TOPIC_ARN"})),
}
