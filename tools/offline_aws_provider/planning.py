"""What the provider plans for a resource: the configuration, with the computed rest.

For a new resource the real provider plans the configured values as they are and leaves
every computed attribute the configuration does not set "known after apply", except what it
can already tell: here, what `computed.planned_values()` predicts (ARNs, names...), the
resource's `region` (hashicorp/aws 6.x plans the provider's region for the `region` argument
of every regional resource) and `tags_all` (the provider's `default_tags` merged with the
resource's `tags`, as the provider documents for default_tags:
https://registry.terraform.io/providers/hashicorp/aws/latest/docs#default_tags-configuration-block).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tools.offline_aws_provider.environment import ProviderEnv
from tools.offline_aws_provider.values import UNKNOWN, is_known

# "off": plan what the real provider knows before apply, nothing predicted (see terraform_plan).
PREDICTIONS_VARIABLE = "OFFLINE_AWS_PROVIDER_PREDICTIONS"
PlannedValues = Callable[[str, dict[str, Any], ProviderEnv], dict[str, Any]]


@dataclass(frozen=True)
class ProviderSettings:
    """What the provider block configures beyond the account: default tags."""

    env: ProviderEnv
    default_tags: Any = field(default_factory=dict)  # dict[str, str], or UNKNOWN

    @classmethod
    def from_config(cls, config: Mapping[str, Any], env: ProviderEnv) -> ProviderSettings:
        tags: Any = {}
        for block in config.get("default_tags") or []:
            if block is UNKNOWN:
                tags = UNKNOWN
                break
            block_tags = block.get("tags")
            if block_tags is UNKNOWN or not is_known(block_tags):
                tags = UNKNOWN
                break
            tags = {**tags, **(block_tags or {})}
        return cls(env=env, default_tags=tags)


def unknown_computed(block: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
    """`value` (a new object of this block) with each unset computed attribute unknown."""
    planned = dict(value)
    for name, spec in block.get("attributes", {}).items():
        current = planned.get(name)
        if current is None and spec.get("computed"):
            planned[name] = UNKNOWN
        elif "nested_type" in spec and current is not None and current is not UNKNOWN:
            planned[name] = _map_nested(spec["nested_type"]["nesting_mode"], spec["nested_type"],
                                        current)  # fmt: skip
    for name, nested in block.get("block_types", {}).items():
        current = planned.get(name)
        if current is not None and current is not UNKNOWN:
            planned[name] = _map_nested(nested["nesting_mode"], nested["block"], current)
    return planned


def _map_nested(mode: str, block: dict[str, Any], value: Any) -> Any:
    def each(item: Any) -> Any:
        return item if item is None or item is UNKNOWN else unknown_computed(block, item)

    if mode in ("single", "group"):
        return each(value)
    if mode == "map":
        return {key: each(item) for key, item in value.items()}
    return [each(item) for item in value]


def _tags_all(resource_tags: Any, default_tags: Any) -> Any:
    if resource_tags is UNKNOWN or default_tags is UNKNOWN or not is_known(resource_tags):
        return UNKNOWN
    return {**default_tags, **(resource_tags or {})}


def plan_new_resource(
    type_name: str,
    block: dict[str, Any],
    proposed: dict[str, Any],
    config: dict[str, Any],
    settings: ProviderSettings,
    planned_values: PlannedValues,
) -> dict[str, Any]:
    """The planned state of a resource that does not exist yet."""
    planned = unknown_computed(block, proposed)
    attributes = block.get("attributes", {})
    region = attributes.get("region", {})
    if region.get("computed") and config.get("region") is None:
        planned["region"] = settings.env.region
    tags_all = attributes.get("tags_all", {})
    if tags_all.get("computed") and config.get("tags_all") is None:
        planned["tags_all"] = _tags_all(config.get("tags"), settings.default_tags)
    for name, value in planned_values(type_name, config, settings.env).items():
        spec = attributes.get(name)
        if spec is None or not spec.get("computed"):
            raise KeyError(f"{type_name}.{name} is not a computed attribute")
        if config.get(name) is None:
            planned[name] = value
    return planned
