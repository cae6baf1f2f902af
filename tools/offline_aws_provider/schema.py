"""The provider schema: what Terraform is told, and the cty types values are read with.

The schema itself is extracted once from PyPI (tools.provider_schema); this module turns it
into the protocol's `Schema` messages and into the cty type of each resource's object.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from tfplugin_proto import tfplugin6_5_pb2 as proto

from tools.provider_schema import DEFAULT_CACHE_DIR, load_schema

_BLOCK_NESTING = {
    "single": proto.Schema.NestedBlock.SINGLE,
    "list": proto.Schema.NestedBlock.LIST,
    "set": proto.Schema.NestedBlock.SET,
    "map": proto.Schema.NestedBlock.MAP,
    "group": proto.Schema.NestedBlock.GROUP,
}
_OBJECT_NESTING = {
    "single": proto.Schema.Object.SINGLE,
    "list": proto.Schema.Object.LIST,
    "set": proto.Schema.Object.SET,
    "map": proto.Schema.Object.MAP,
}


def block_type(block: dict[str, Any]) -> Any:
    """The cty object type of a block's value (nested blocks included)."""
    attributes = {
        name: spec["type"] if "type" in spec else nested_attribute_type(spec["nested_type"])
        for name, spec in block.get("attributes", {}).items()
    }
    for name, nested in block.get("block_types", {}).items():
        attributes[name] = _nested(nested["nesting_mode"], block_type(nested["block"]))
    return ["object", attributes]


def nested_attribute_type(nested: dict[str, Any]) -> Any:
    return _nested(nested["nesting_mode"], block_type(nested))


def _nested(mode: str, object_type: Any) -> Any:
    return object_type if mode in ("single", "group") else [mode, object_type]


def _proto_attribute(name: str, spec: dict[str, Any]) -> proto.Schema.Attribute:
    attribute = proto.Schema.Attribute(
        name=name,
        required=spec.get("required", False),
        optional=spec.get("optional", False),
        computed=spec.get("computed", False),
        sensitive=spec.get("sensitive", False),
    )
    if "type" in spec:
        attribute.type = json.dumps(spec["type"]).encode()
    else:
        nested = spec["nested_type"]
        attribute.nested_type.CopyFrom(
            proto.Schema.Object(
                attributes=[_proto_attribute(n, s) for n, s in nested["attributes"].items()],
                nesting=_OBJECT_NESTING[nested["nesting_mode"]],
            )
        )
    return attribute


def proto_block(block: dict[str, Any]) -> proto.Schema.Block:
    return proto.Schema.Block(
        attributes=[_proto_attribute(n, s) for n, s in block.get("attributes", {}).items()],
        block_types=[
            proto.Schema.NestedBlock(
                type_name=name,
                block=proto_block(nested["block"]),
                nesting=_BLOCK_NESTING[nested["nesting_mode"]],
                min_items=nested.get("min_items", 0),
                max_items=nested.get("max_items", 0),
            )
            for name, nested in block.get("block_types", {}).items()
        ],
    )


def proto_schema(entry: dict[str, Any]) -> proto.Schema:
    return proto.Schema(version=entry.get("version", 0), block=proto_block(entry["block"]))


@dataclass
class ProviderSchema:
    """The extracted schema, with the per-type lookups the provider service needs."""

    document: dict[str, Any]

    @classmethod
    def load(cls, cache_dir: Path = DEFAULT_CACHE_DIR) -> ProviderSchema:
        return cls(load_schema(cache_dir))

    @property
    def provider_block(self) -> dict[str, Any]:
        block: dict[str, Any] = self.document["provider"]["block"]
        return block

    def resource_block(self, type_name: str) -> dict[str, Any]:
        block: dict[str, Any] = self.document["resource_schemas"][type_name]["block"]
        return block

    def data_source_block(self, type_name: str) -> dict[str, Any]:
        block: dict[str, Any] = self.document["data_source_schemas"][type_name]["block"]
        return block

    @cached_property
    def provider_type(self) -> Any:
        return block_type(self.provider_block)

    def resource_type(self, type_name: str) -> Any:
        return block_type(self.resource_block(type_name))

    def data_source_type(self, type_name: str) -> Any:
        return block_type(self.data_source_block(type_name))

    def get_provider_schema_response(self) -> proto.GetProviderSchema.Response:
        response = proto.GetProviderSchema.Response(
            provider=proto_schema(self.document["provider"]),
            server_capabilities=proto.ServerCapabilities(
                plan_destroy=True, get_provider_schema_optional=True
            ),
        )
        for name, entry in self.document["resource_schemas"].items():
            response.resource_schemas[name].CopyFrom(proto_schema(entry))
        for name, entry in self.document["data_source_schemas"].items():
            response.data_source_schemas[name].CopyFrom(proto_schema(entry))
        return response
