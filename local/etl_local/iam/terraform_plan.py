"""Roles, their policies and the resource-based policies, read from a Terraform plan.

The plan is `terraform show -json <planfile>` ("JSON Output Format", Terraform docs): the
resources to be are in `planned_values.root_module` and, recursively, its `child_modules`;
each has `address`, `mode`, `type`, `name`, an `index` under count/for_each, and `values`,
from which "any as-yet-unknown values [are] omitted". A real plan of new infrastructure
does not know `aws_iam_role.x.id`, so an `aws_iam_role_policy` then has no `role`; such a
value is recovered from the configuration (`configuration.root_module`, `module_calls`):
the expression's `references` name the resource it comes from, whose instance with the
same index key holds the known value (the role's name, the bucket's name). A policy
document that is itself unknown cannot be evaluated: that is an error naming the resource.

Read here: aws_iam_role (name, arn, assume_role_policy, inline_policy, path),
aws_iam_role_policy, aws_iam_role_policy_attachment with aws_iam_policy, and the
resource-based policies aws_s3_bucket_policy and aws_sns_topic_policy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from etl_local.iam.policy import Policy, PolicyKind
from etl_local.iam.principals import RoleDefinition
from etl_local.iam.resource_policies import ResourcePolicies

_REFERENCE = re.compile(r"^(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)")


class PlanError(ValueError):
    """The plan lacks something IAM enforcement needs; the message names the resource."""


@dataclass(frozen=True)
class PlannedResource:
    module: str  # "" for the root module, else e.g. "module.lambdas"
    address: str
    type: str
    name: str
    index: Any
    values: Mapping[str, Any]


@dataclass(frozen=True)
class PlanIam:
    roles: Mapping[str, RoleDefinition]  # by role name
    resource_policies: tuple[tuple[str, Policy], ...]  # (resource ARN, policy)

    def role(self, name: str) -> RoleDefinition:
        try:
            return self.roles[name]
        except KeyError:
            raise PlanError(f"the plan declares no IAM role named {name!r}") from None

    def resource_policy_store(self) -> ResourcePolicies:
        store = ResourcePolicies()
        for arn, policy in self.resource_policies:
            store.attach(arn, policy)
        return store


def _walk(module: Mapping[str, Any], mode: str = "managed") -> Iterator[PlannedResource]:
    prefix = str(module.get("address") or "")
    for resource in module.get("resources") or []:
        if resource.get("mode", "managed") == mode:
            yield PlannedResource(
                module=prefix,
                address=str(resource.get("address")),
                type=str(resource.get("type")),
                name=str(resource.get("name")),
                index=resource.get("index"),
                values=resource.get("values") or {},
            )
    for child in module.get("child_modules") or []:
        yield from _walk(child, mode)


def _module_config(configuration: Mapping[str, Any], module: str) -> Mapping[str, Any]:
    """The configuration of `module.a.module.b` (module instance keys ignored)."""
    node: Mapping[str, Any] = configuration.get("root_module") or {}
    for call in re.findall(r"module\.([A-Za-z0-9_-]+)", module):
        node = ((node.get("module_calls") or {}).get(call) or {}).get("module") or {}
    return node


@dataclass
class _Plan:
    resources: list[PlannedResource]
    configuration: Mapping[str, Any]
    account: str | None
    region: str | None
    partition: str
    _by_type: dict[str, list[PlannedResource]] = field(default_factory=dict)

    def of_type(self, resource_type: str) -> list[PlannedResource]:
        if not self._by_type:
            for resource in self.resources:
                self._by_type.setdefault(resource.type, []).append(resource)
        return self._by_type.get(resource_type, [])

    def value(
        self, resource: PlannedResource, attribute: str, source_type: str, source_attribute: str
    ) -> Any:
        """`resource.values[attribute]`, or, when unknown at plan time, the attribute of the
        `source_type` resource its configuration expression references."""
        if resource.values.get(attribute) is not None:
            return resource.values[attribute]
        source = self.referenced(resource, attribute, source_type)
        if source is not None:
            return self.known(source, source_attribute)
        return None

    def referenced(
        self, resource: PlannedResource, attribute: str, source_type: str
    ) -> PlannedResource | None:
        config = _module_config(self.configuration, resource.module)
        for block in config.get("resources") or []:
            if block.get("type") != resource.type or block.get("name") != resource.name:
                continue
            expression = (block.get("expressions") or {}).get(attribute) or {}
            for reference in expression.get("references") or []:
                match = _REFERENCE.match(reference)
                if match and match.group(1) == source_type:
                    return self._instance(resource, source_type, match.group(2))
        return None

    def _instance(
        self, near: PlannedResource, source_type: str, name: str
    ) -> PlannedResource | None:
        candidates = [
            r for r in self.of_type(source_type) if r.module == near.module and r.name == name
        ]
        same_key = [r for r in candidates if r.index == near.index]
        if same_key:
            return same_key[0]
        return candidates[0] if len(candidates) == 1 else None

    def known(self, resource: PlannedResource, attribute: str) -> Any:
        """An attribute, with the ARNs AWS derives from names when the plan does not know them."""
        values = resource.values
        if values.get(attribute) is not None:
            return values[attribute]
        if attribute != "arn" or self.account is None:
            return None
        iam_kinds = {"aws_iam_role": "role", "aws_iam_policy": "policy"}
        if resource.type in iam_kinds and values.get("name"):
            path = values.get("path") or "/"
            kind = iam_kinds[resource.type]
            return f"arn:{self.partition}:iam::{self.account}:{kind}{path}{values['name']}"
        if resource.type == "aws_sns_topic" and values.get("name") and self.region:
            return f"arn:{self.partition}:sns:{self.region}:{self.account}:{values['name']}"
        return None

    def policy(
        self, resource: PlannedResource, attribute: str, name: str, kind: PolicyKind
    ) -> Policy:
        document = resource.values.get(attribute)
        if not document:
            raise PlanError(f"{resource.address}: {attribute} is not known in the plan")
        return Policy.parse(document, name, kind)


def _data_value(plan: Mapping[str, Any], data_type: str, *attributes: str) -> str | None:
    root = ((plan.get("prior_state") or {}).get("values") or {}).get("root_module") or {}
    for resource in _walk(root, mode="data"):
        if resource.type == data_type:
            for attribute in attributes:
                if resource.values.get(attribute):
                    return str(resource.values[attribute])
    return None


def _read(plan: Mapping[str, Any] | str | Path) -> Mapping[str, Any]:
    if isinstance(plan, Path):
        plan = plan.read_text(encoding="utf-8")
    if isinstance(plan, str):
        try:
            plan = json.loads(plan)
        except json.JSONDecodeError as error:
            raise PlanError(f"the plan is not JSON ({error})") from error
    if not isinstance(plan, Mapping) or "planned_values" not in plan:
        raise PlanError("not a plan: `terraform show -json <planfile>` output has planned_values")
    major = str(plan.get("format_version", "1.0")).split(".", 1)[0]
    if major != "1":
        raise PlanError(f"unsupported plan format_version {plan.get('format_version')!r}")
    return plan


def load_plan(
    plan: Mapping[str, Any] | str | Path,
    *,
    account: str | None = None,
    region: str | None = None,
    partition: str = "aws",
) -> PlanIam:
    """Read the IAM roles and resource-based policies a plan declares."""
    document = _read(plan)
    root = (document.get("planned_values") or {}).get("root_module") or {}
    state = _Plan(
        resources=list(_walk(root)),
        configuration=document.get("configuration") or {},
        account=account or _data_value(document, "aws_caller_identity", "account_id"),
        region=region or _data_value(document, "aws_region", "region", "name"),
        partition=partition,
    )
    roles = _roles(state)
    return PlanIam(roles=roles, resource_policies=tuple(_resource_policies(state)))


def _roles(plan: _Plan) -> dict[str, RoleDefinition]:
    policies: dict[str, list[Policy]] = {}
    for role in plan.of_type("aws_iam_role"):
        name = role.values.get("name")
        if not name:
            raise PlanError(f"{role.address}: the role's name is not known in the plan")
        inline = role.values.get("inline_policy") or []
        policies[name] = [
            Policy.parse(item["policy"], f"{name}/{item.get('name')}", PolicyKind.IDENTITY)
            for item in inline
            if item.get("policy")
        ]
    for attached in plan.of_type("aws_iam_role_policy"):
        role_name = _role_name(plan, attached, policies)
        label = attached.values.get("name") or attached.address
        policies[role_name].append(
            plan.policy(attached, "policy", f"{role_name}/{label}", PolicyKind.IDENTITY)
        )
    managed = {plan.known(p, "arn"): p for p in plan.of_type("aws_iam_policy")}
    for attachment in plan.of_type("aws_iam_role_policy_attachment"):
        role_name = _role_name(plan, attachment, policies)
        arn = plan.value(attachment, "policy_arn", "aws_iam_policy", "arn")
        source = managed.get(arn)
        if source is None:
            raise PlanError(
                f"{attachment.address}: policy {arn or '(unknown)'} is not declared in the "
                "plan, so its statements are unknown (AWS managed policies are not read)"
            )
        label = source.values.get("name") or source.address
        policies[role_name].append(
            plan.policy(source, "policy", f"{role_name}/{label}", PolicyKind.IDENTITY)
        )
    return {
        role_name_: _definition(plan, role_name_, tuple(found))
        for role_name_, found in policies.items()
    }


def _role_name(plan: _Plan, resource: PlannedResource, known: Mapping[str, Any]) -> str:
    name = plan.value(resource, "role", "aws_iam_role", "name")
    if isinstance(name, str) and name.startswith("arn:"):
        name = name.rsplit("/", 1)[-1]
    if not name or name not in known:
        raise PlanError(
            f"{resource.address}: its role is not known in the plan, nor found from its "
            "configuration"
        )
    return str(name)


def _definition(plan: _Plan, name: str, policies: tuple[Policy, ...]) -> RoleDefinition:
    role = next(r for r in plan.of_type("aws_iam_role") if r.values.get("name") == name)
    arn = plan.known(role, "arn")
    if not arn:
        raise PlanError(f"{role.address}: its ARN is not known (give load_plan the account id)")
    trust_document = role.values.get("assume_role_policy")
    trust = (
        Policy.parse(trust_document, f"{name}/trust", PolicyKind.TRUST) if trust_document else None
    )
    return RoleDefinition(name=name, arn=str(arn), trust_policy=trust, policies=policies)


def _resource_policies(plan: _Plan) -> Iterator[tuple[str, Policy]]:
    for policy in plan.of_type("aws_s3_bucket_policy"):
        bucket = plan.value(policy, "bucket", "aws_s3_bucket", "bucket")
        if not bucket:
            raise PlanError(f"{policy.address}: its bucket is not known in the plan")
        arn = f"arn:{plan.partition}:s3:::{bucket}"
        yield arn, plan.policy(policy, "policy", f"bucket-policy:{bucket}", PolicyKind.RESOURCE)
    for policy in plan.of_type("aws_sns_topic_policy"):
        topic = plan.value(policy, "arn", "aws_sns_topic", "arn")
        if not topic:
            raise PlanError(f"{policy.address}: its topic ARN is not known in the plan")
        name = str(topic).rsplit(":", 1)[-1]
        yield str(topic), plan.policy(policy, "policy", f"topic-policy:{name}", PolicyKind.RESOURCE)
