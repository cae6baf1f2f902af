"""The order `terraform apply` creates a plan's resources in, and which resources each names.

`make plan` saves, beside each plan, which resource instances each instance waits for in
Terraform's apply graph (`terraform graph -type=apply`, tools.terraform_plan). Terraform
starts a resource as soon as everything it waits for is done, so two resources the graph
does not order start at the same time: on a first `terraform apply`, an object put into a
bucket that the graph does not order before it reaches S3 before the bucket exists and fails
with NoSuchBucket. What orders them is a reference: an argument that names another managed
resource through that resource's own attributes (or through a module output that references
it) makes an edge; the same name rebuilt from strings does not.

So a resource *names* another when one of its arguments is the other's ARN, or the name in
that ARN (a bucket's, a function's, a table's...), and it is *ordered after* it when the
graph reaches the other from it. `unordered` lists every naming without an order; the local
deployment (etl_local.deploy) applies the plan in waves of the graph, and within a wave the
resources that others of the same wave name go last, so that a missing edge fails locally
as AWS fails it on a first apply, every time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

# Arguments whose value equals another resource's name by coincidence, not as a reference:
# (resource type, argument path) -> why. Anything here is exempt from the ordering rule.
COINCIDENCES = {
    ("aws_lambda_function", "environment.variables.POWERTOOLS_SERVICE_NAME"): (
        "the service name Powertools writes in each log line; it is the name prefix, which is "
        "also the Athena workgroup's name"
    ),
}
# Arguments that cannot name a resource AWS needs to exist first.
_NOT_REFERENCES = frozenset({"tags", "tags_all"})
# An instance key in an address: ["raw"], [0].
_INSTANCE_KEY = re.compile(r'\[(?:"(?:[^"\\]|\\.)*"|\d+)\]')


def apply_graph_path(plan_json: Path) -> Path:
    """Where the apply graph of a saved plan is kept: plan-<env>.json -> plan-<env>.graph.json
    (written by tools.terraform_plan, read by etl_local.plan)."""
    return plan_json.with_name(plan_json.name.removesuffix(".json") + ".graph.json")


def configuration_address(address: str) -> str:
    """An instance's resource in the configuration (m.aws_x.a["k"] -> m.aws_x.a)."""
    return _INSTANCE_KEY.sub("", address)


def configured_arguments(plan: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """Each configured resource's arguments (the plan's `configuration`), by its address."""
    found: dict[str, frozenset[str]] = {}

    def walk(module: Mapping[str, Any], prefix: str) -> None:
        for resource in module.get("resources") or []:
            found[prefix + resource["address"]] = frozenset(resource.get("expressions") or {})
        for name, call in (module.get("module_calls") or {}).items():
            walk(call.get("module") or {}, f"{prefix}module.{name}.")

    walk((plan.get("configuration") or {}).get("root_module") or {}, "")
    return found


@dataclass(frozen=True)
class PlannedResource:
    """One managed resource instance of a plan, with its planned values."""

    address: str  # e.g. module.storage.aws_s3_bucket.this["raw"]
    type: str
    values: Mapping[str, Any]
    configured: frozenset[str]  # the arguments its configuration sets

    @property
    def identities(self) -> frozenset[str]:
        """What names it: its ARN and the name in it, when AWS assigns the ARN (a resource
        whose `arn` is an argument, e.g. an SNS topic policy's, is named by nothing)."""
        arn = self.values.get("arn")
        if "arn" in self.configured or not isinstance(arn, str) or not arn.startswith("arn:"):
            return frozenset()
        return frozenset({arn, arn_name(arn)})


def arn_name(arn: str) -> str:
    """The resource's name in an ARN: `arn:aws:s3:::bucket` -> bucket, `...:function:f` -> f,
    `...:table/t` -> t, `...:log-group:/aws/lambda/f` -> /aws/lambda/f."""
    parts = arn.split(":", 5)
    resource = parts[5] if len(parts) == 6 else arn
    if parts[2:3] == ["s3"]:
        return resource  # a bucket, or bucket/key
    separators = [i for i in (resource.find("/"), resource.find(":")) if i >= 0]
    return resource[min(separators) + 1 :] if separators else resource


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a resource's values with its argument path (list indices dropped)."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, path)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not path and key in _NOT_REFERENCES:
                continue
            yield from _strings(item, f"{path}.{key}" if path else key)


def names(resources: Sequence[PlannedResource]) -> dict[str, dict[str, set[str]]]:
    """For each resource, the other resources its arguments name, with the arguments."""
    by_identity: dict[str, set[str]] = {}
    for resource in resources:
        for identity in resource.identities:
            by_identity.setdefault(identity, set()).add(resource.address)
    named: dict[str, dict[str, set[str]]] = {}
    for resource in resources:
        for path, value in _strings(resource.values):
            if (resource.type, path) in COINCIDENCES:
                continue
            for other in by_identity.get(value, ()):
                if other != resource.address:
                    named.setdefault(resource.address, {}).setdefault(other, set()).add(path)
    return named


class ApplyGraph:
    """Which resource instances each instance waits for (direct), from the saved graph."""

    def __init__(self, dependencies: Mapping[str, Sequence[str]]) -> None:
        self.dependencies = {address: tuple(deps) for address, deps in dependencies.items()}

    @classmethod
    def load(cls, path: Path) -> ApplyGraph:
        return cls(json.loads(path.read_text(encoding="utf-8"))["dependencies"])

    @cached_property
    def _ancestors(self) -> dict[str, frozenset[str]]:
        found: dict[str, frozenset[str]] = {}

        def visit(address: str, trail: frozenset[str]) -> frozenset[str]:
            if address in found:
                return found[address]
            if address in trail:  # Terraform rejects cycles; never loop on a broken file
                return frozenset()
            direct = self.dependencies.get(address, ())
            result = frozenset(direct).union(*(visit(dep, trail | {address}) for dep in direct))
            found[address] = result
            return result

        for address in self.dependencies:
            visit(address, frozenset())
        return found

    def waits_for(self, address: str) -> frozenset[str]:
        """Every instance `address` is created after (the graph's transitive closure)."""
        return self._ancestors.get(address, frozenset())

    def waves(
        self, addresses: Iterable[str], named: Mapping[str, Mapping[str, Any]]
    ) -> list[list[list[str]]]:
        """`addresses` in the order apply creates them: waves of resources that wait for
        nothing of a later wave; each wave split into batches, a resource that another of its
        wave names in a later batch than that one (the order that fails on a missing edge)."""
        chosen = sorted(set(addresses))
        depth: dict[str, int] = {}
        for address in sorted(chosen, key=lambda a: len(self.waits_for(a))):
            earlier = [depth[a] for a in self.waits_for(address) if a in depth]
            depth[address] = 1 + max(earlier, default=-1)
        waves: list[list[list[str]]] = []
        for level in range(max(depth.values(), default=-1) + 1):
            wave = sorted(a for a in chosen if depth[a] == level)
            waves.append(_batches(wave, named))
        return waves


def _batches(wave: list[str], named: Mapping[str, Mapping[str, Any]]) -> list[list[str]]:
    members = set(wave)
    named_by = {a: {b for b in members if a in named.get(b, {}) and b != a} for a in members}
    batch_of: dict[str, int] = {}

    def batch(address: str, trail: frozenset[str]) -> int:
        if address not in batch_of:
            namers = named_by[address] - trail - {address}
            batch_of[address] = 1 + max((batch(b, trail | {address}) for b in namers), default=-1)
        return batch_of[address]

    for address in wave:
        batch(address, frozenset())
    return [
        [a for a in wave if batch_of[a] == level]
        for level in range(max(batch_of.values(), default=-1) + 1)
    ]


@dataclass(frozen=True)
class Unordered:
    """A resource naming another that the apply graph does not order it after."""

    resource: str
    named: str
    arguments: tuple[str, ...]

    def __str__(self) -> str:
        return (
            f"{self.resource} names {self.named} ({', '.join(self.arguments)}) but the apply "
            f"graph does not order it after it"
        )


def unordered(resources: Sequence[PlannedResource], graph: ApplyGraph) -> list[Unordered]:
    found = []
    for resource, others in sorted(names(resources).items()):
        for other, paths in sorted(others.items()):
            if other not in graph.waits_for(resource):
                found.append(Unordered(resource, other, tuple(sorted(paths))))
    return found
