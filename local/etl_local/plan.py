"""The local deployment as Terraform plans it: build/plan-local.json.

`make plan` (tools/terraform_plan.py) plans the local environment (local/terraform/
local.tfvars: env "local", moto's account 123456789012, eu-west-1) offline, like the user's
environments; its JSON holds every value the runtime deploys: the Lambda functions with their
roles and environment variables, the state machines' rendered definitions and roles, the Glue
job's and the crawlers' roles and configuration, the IAM roles with their policies and trust.
The runtime reads them from here instead of deriving them again.

The plan is `terraform show -json` output ("JSON Output Format", Terraform docs): resources
in `planned_values.root_module` and its `child_modules`, each with `address`, `type`,
`index` and `values`. Beside it, `make plan` saves the order `terraform apply` would create
them in (build/plan-local.graph.json, etl_local.apply_graph), which the deployment follows.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from etl_local.apply_graph import (
    ApplyGraph,
    PlannedResource,
    apply_graph_path,
    configuration_address,
    configured_arguments,
)
from etl_local.iam import PlanIam, load_plan

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
# The local environment's plan: build/plan-local.json, or the one ETL_PLAN names (e.g.
# build/plan-local-duckdb.json, the same environment on Athena's DuckDB engine).
LOCAL_PLAN = Path(os.environ.get("ETL_PLAN") or REPOSITORY_ROOT / "build" / "plan-local.json")
# How the plan is made (what `make run` does before running).
MAKE_PLAN = "make build/plan-local.json  (or: make plan)"


class PlanMissing(FileNotFoundError):
    """There is no plan of the local environment yet; the message says how to make one."""


@dataclass(frozen=True)
class PlannedFunction:
    step: str  # the key of module.lambdas' for_each: the step's name
    name: str
    arn: str
    role_arn: str
    handler: str
    environment: Mapping[str, str]
    timeout: int
    memory_size: int


@dataclass(frozen=True)
class PlannedStateMachine:
    key: str  # "pipeline" or "model"
    name: str
    arn: str
    role_arn: str
    definition: str


@dataclass(frozen=True)
class PlannedGlueJob:
    name: str
    arn: str
    role_arn: str
    script_location: str
    default_arguments: Mapping[str, str]
    glue_version: str
    timeout_minutes: int
    max_concurrent_runs: int
    # The capacity each run gets (GetJobRun reports it; the run's cost is priced from it).
    worker_type: str | None = None
    number_of_workers: int | None = None
    execution_class: str = "STANDARD"


@dataclass(frozen=True)
class PlannedCrawler:
    key: str  # the source's name
    name: str
    arn: str
    role_arn: str
    database: str
    s3_targets: tuple[Mapping[str, Any], ...]
    configuration: str | None
    recrawl_behavior: str | None
    update_behavior: str | None
    delete_behavior: str | None


def _walk(module: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for resource in module.get("resources") or []:
        if resource.get("mode", "managed") == "managed":
            yield resource
    for child in module.get("child_modules") or []:
        yield from _walk(child)


def _block(values: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """A nested block Terraform renders as a list of at most one object."""
    items = values.get(name) or []
    return items[0] if items else {}


class LocalPlan:
    """What the local plan declares, by resource kind."""

    def __init__(self, document: Mapping[str, Any], path: Path | None = None) -> None:
        self.document = document
        self.path = path
        self._resources = list(
            _walk((document.get("planned_values") or {}).get("root_module") or {})
        )

    @classmethod
    def load(cls, path: Path | None = None) -> LocalPlan:
        path = path or LOCAL_PLAN
        if not path.is_file():
            raise PlanMissing(
                f"no plan of the local environment at {path}: the local runtime deploys what "
                f"Terraform plans for local/terraform/local.tfvars. Make it with `{MAKE_PLAN}`."
            )
        return cls(json.loads(path.read_text(encoding="utf-8")), path)

    @cached_property
    def managed(self) -> list[PlannedResource]:
        """Every managed resource instance with its planned values."""
        configured = configured_arguments(self.document)
        return [
            PlannedResource(
                address=str(r["address"]),
                type=str(r["type"]),
                values=r.get("values") or {},
                configured=configured.get(configuration_address(str(r["address"])), frozenset()),
            )
            for r in self._resources
        ]

    @cached_property
    def apply_graph(self) -> ApplyGraph:
        """The order `terraform apply` creates the resources in (make plan saves it beside
        the plan; etl_local.apply_graph)."""
        graph = apply_graph_path(self.path) if self.path else None
        if graph is None or not graph.is_file():
            raise PlanMissing(
                f"no apply graph beside the plan {self.path} (`terraform graph -type=apply`): "
                f"the local runtime deploys in its order. Make it with `{MAKE_PLAN}`."
            )
        return ApplyGraph.load(graph)

    def _of_type(self, resource_type: str) -> list[Mapping[str, Any]]:
        return [r for r in self._resources if r.get("type") == resource_type]

    def values_of(self, resource_type: str) -> list[Mapping[str, Any]]:
        """The planned values of every resource of a type (etl_local.deploy_monitoring)."""
        return [r["values"] for r in self._of_type(resource_type)]

    def variable(self, name: str) -> Any:
        return ((self.document.get("variables") or {}).get(name) or {}).get("value")

    def output(self, name: str) -> Any:
        """A root output's planned value (None when unknown or absent)."""
        outputs = (self.document.get("planned_values") or {}).get("outputs") or {}
        return (outputs.get(name) or {}).get("value")

    @cached_property
    def iam(self) -> PlanIam:
        """The roles with their policies and trust, and the resource-based policies."""
        return load_plan(self.document)

    @cached_property
    def trust_policies(self) -> dict[str, str]:
        """Each role's trust policy document (JSON) by role name."""
        return {
            str(r["values"]["name"]): str(r["values"].get("assume_role_policy") or "{}")
            for r in self._of_type("aws_iam_role")
        }

    @cached_property
    def functions(self) -> dict[str, PlannedFunction]:
        """The Lambda functions by step name."""
        found = {}
        for resource in self._of_type("aws_lambda_function"):
            values = resource["values"]
            step = str(resource.get("index") or values["function_name"])
            found[step] = PlannedFunction(
                step=step,
                name=values["function_name"],
                arn=values["arn"],
                role_arn=values["role"],
                handler=values["handler"],
                environment=dict(_block(values, "environment").get("variables") or {}),
                timeout=int(values.get("timeout") or 3),
                memory_size=int(values.get("memory_size") or 128),
            )
        return found

    @cached_property
    def state_machines(self) -> dict[str, PlannedStateMachine]:
        found = {}
        for resource in self._of_type("aws_sfn_state_machine"):
            values = resource["values"]
            key = str(resource.get("index") or values["name"])
            found[key] = PlannedStateMachine(
                key=key,
                name=values["name"],
                arn=values["arn"],
                role_arn=values["role_arn"],
                # Terraform normalises the definition (jsonencode(jsondecode(...))).
                definition=json.dumps(json.loads(values["definition"])),
            )
        return found

    @cached_property
    def glue_job(self) -> PlannedGlueJob:
        (resource,) = self._of_type("aws_glue_job")
        values = resource["values"]
        return PlannedGlueJob(
            name=values["name"],
            arn=values["arn"],
            role_arn=values["role_arn"],
            script_location=_block(values, "command")["script_location"],
            default_arguments=dict(values.get("default_arguments") or {}),
            glue_version=values.get("glue_version") or "5.0",
            timeout_minutes=int(values.get("timeout") or 2880),
            max_concurrent_runs=int(
                _block(values, "execution_property").get("max_concurrent_runs") or 1
            ),
            worker_type=values.get("worker_type"),
            number_of_workers=values.get("number_of_workers"),
            execution_class=values.get("execution_class") or "STANDARD",
        )

    @cached_property
    def crawlers(self) -> dict[str, PlannedCrawler]:
        """The crawlers by source name."""
        found = {}
        for resource in self._of_type("aws_glue_crawler"):
            values = resource["values"]
            key = str(resource.get("index") or values["name"])
            recrawl = _block(values, "recrawl_policy")
            schema = _block(values, "schema_change_policy")
            found[key] = PlannedCrawler(
                key=key,
                name=values["name"],
                arn=values["arn"],
                role_arn=values["role"],
                database=values["database_name"],
                s3_targets=tuple(values.get("s3_target") or ()),
                configuration=values.get("configuration"),
                recrawl_behavior=recrawl.get("recrawl_behavior"),
                update_behavior=schema.get("update_behavior"),
                delete_behavior=schema.get("delete_behavior"),
            )
        return found

    @cached_property
    def topic_arn(self) -> str:
        (topic,) = self._of_type("aws_sns_topic")
        return str(topic["values"]["arn"])
