"""The AWS provider's Terraform schema, read back from cdktf's generated TypeScript.

`cdktf-cdktf-provider-aws` is generated from the provider's own schema
(`terraform providers schema -json`), one TypeScript module per resource or data source, and
each compiled `index.js` embeds its TypeScript source in a source map. That source keeps
most of the schema, in a regular, generated shape:

* every attribute of a resource, data source or nested object is a class member introduced by
  `// <name> - computed: <bool>, optional: <bool>, required: <bool>`: the exact flags;
* the member's getter says its type (`getStringAttribute`, `Fn.tolist(getListAttribute(..))`
  for a set, `new <Struct>List(this, "<name>", <wraps a set>)`, ...);
* `<struct>ToHclTerraform()` (and `synthesizeHclAttributes()`) say, for every configurable
  attribute, whether it is a nested block and whether a collection is a list or a set.

What the generated code does not keep (see docs/offline-provider.md): sensitive and
deprecated flags, descriptions, defaults, validators, plan modifiers, schema versions, a
block's max_items other than 1 and min_items other than 1, and whether a computed-only
nested object is a nested attribute or an object-typed attribute (Terraform treats both
alike in expressions). The result has the shape of `terraform providers schema -json`.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

_CLASS = re.compile(r"^export class (\w+) extends cdktf\.(\w+) \{\n(.*?)^\}\n", re.M | re.S)
_MEMBER = re.compile(
    r"^  // (\w+) - computed: (true|false), optional: (true|false), required: (true|false)\n"
    r"(.*?)(?=^  // \w+ - computed:|\Z)",
    re.M | re.S,
)
_NEW_COMPLEX = re.compile(r"private _\w+ = new ([\w.]+)\(this, \"\w+\"(?:, (true|false))?\)")
_GETTER = re.compile(r"public get \w+\(\)[^{]*\{\n\s*return (.*?);\n")
_FIELD = re.compile(r"private _(\w+)\?: (.*?);")
# `(struct?: X | cdktf.IResolvable)`, or `(struct?: XOutputReference | X)` for a single block.
_HCL_FUNCTION = re.compile(
    r"^export function \w+ToHclTerraform\(struct\?: ([\w.| ]+)\): any \{\n(.*?)^\}\n", re.M | re.S
)
_SYNTHESIZE_HCL = re.compile(
    r"protected synthesizeHclAttributes\(\): \{ \[name: string\]: any \} \{\n(.*?)^  \}\n",
    re.M | re.S,
)
_HCL_ENTRY = re.compile(
    r"^\s+(\w+): \{\n\s+value: (.*?),\n\s+isBlock: (true|false),\n"
    r"\s+type: \"(\w+)\",\n\s+storageClassType: \"(\w+)\",",
    re.M,
)
_INTERFACE = re.compile(r"^export interface (\w+)(?: extends [\w.]+)? \{\n(.*?)^\}\n", re.M | re.S)
_PROPERTY = re.compile(r"^  readonly (\w+)(\??): (.*?);$", re.M)
_VALUE_PROPERTY = re.compile(r"(?:struct!?\.|this\._)(\w+)")
_RESOURCE_TYPE = re.compile(r'public static readonly tfResourceType = "(\w+)";')
_PROVIDER_VERSION = re.compile(r"providerVersion: '([0-9.]+)'")
_SOURCE_MAP = re.compile(rb"sourceMappingURL=data:application/json;base64,([A-Za-z0-9+/=]+)")

_PRIMITIVE_GETTERS = {
    "getStringAttribute": "string",
    "getNumberAttribute": "number",
    "getBooleanAttribute": "bool",
}
_COLLECTION_GETTERS = {
    "getListAttribute": "string",
    "getNumberListAttribute": "number",
    "getStringMapAttribute": "string",
    "getNumberMapAttribute": "number",
    "getBooleanMapAttribute": "bool",
    "getAnyMapAttribute": "dynamic",
}
_COMPUTED_MAPS = {
    "cdktf.StringMap": "string",
    "cdktf.NumberMap": "number",
    "cdktf.BooleanMap": "bool",
}
_STORAGE_ELEMENT = {"string": "string", "number": "number", "boolean": "bool", "any": "dynamic"}


class CdktfSchemaError(ValueError):
    """The generated TypeScript does not have the shape this reader expects."""


def typescript_source(index_js: bytes) -> str:
    """The TypeScript source embedded in a compiled module's inline source map."""
    match = _SOURCE_MAP.search(index_js)
    if match is None:
        raise CdktfSchemaError("no inline source map")
    source_map = json.loads(base64.b64decode(match.group(1)))
    source: str = source_map["sourcesContent"][0]
    return source


@dataclass(frozen=True)
class _Member:
    name: str
    computed: bool
    optional: bool
    required: bool
    code: str


@dataclass(frozen=True)
class _HclEntry:
    property: str  # the TypeScript (camelCase) property the value is read from
    is_block: bool
    kind: str  # simple | list | set | map | struct
    storage: str


@dataclass
class _Module:
    """One generated TypeScript module, indexed by struct."""

    classes: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (base, body)
    hcl: dict[str, dict[str, _HclEntry]] = field(default_factory=dict)  # struct -> name -> entry
    interfaces: dict[str, dict[str, tuple[bool, str]]] = field(default_factory=dict)

    @classmethod
    def parse(cls, source: str) -> _Module:
        module = cls()
        for match in _CLASS.finditer(source):
            module.classes[match.group(1)] = (match.group(2), match.group(3))
            synthesize = _SYNTHESIZE_HCL.search(match.group(3))
            if synthesize:
                module.hcl[match.group(1)] = _hcl_entries(synthesize.group(1))
        for match in _HCL_FUNCTION.finditer(source):
            struct = match.group(1).split(" | ")[-1 if "OutputReference" in match.group(1) else 0]
            module.hcl[struct] = _hcl_entries(match.group(2))
        for match in _INTERFACE.finditer(source):
            module.interfaces[match.group(1)] = {
                name: (optional == "?", ts_type)
                for name, optional, ts_type in _PROPERTY.findall(match.group(2))
            }
        return module

    def members(self, class_name: str) -> list[_Member]:
        _, body = self.classes[class_name]
        return [
            _Member(m.group(1), m.group(2) == "true", m.group(3) == "true", m.group(4) == "true",
                    m.group(5))
            for m in _MEMBER.finditer(body)
        ]  # fmt: skip


def _hcl_entries(body: str) -> dict[str, _HclEntry]:
    entries = {}
    for name, value, is_block, kind, storage in _HCL_ENTRY.findall(body):
        properties = _VALUE_PROPERTY.findall(value)
        entries[name] = _HclEntry(properties[-1] if properties else "", is_block == "true", kind,
                                  storage)  # fmt: skip
    return entries


def _typescript_type(ts_type: str, outer_kind: str) -> Any:
    """A cty type from a TypeScript property type (for nested collections and `any`)."""
    ts_type = ts_type.replace(" | cdktf.IResolvable", "").strip()
    if ts_type == "any":
        return "dynamic"
    if ts_type.endswith("[]"):
        return [outer_kind if outer_kind in ("list", "set") else "list",
                _typescript_type(ts_type[:-2], "list")]  # fmt: skip
    map_match = re.fullmatch(r"\{ \[key: string\]: (.*) \}", ts_type)
    if map_match:
        return ["map", _typescript_type(map_match.group(1), "map")]
    primitive = {"string": "string", "number": "number", "boolean": "bool"}.get(ts_type)
    if primitive is None:
        raise CdktfSchemaError(f"unsupported TypeScript type {ts_type!r}")
    return primitive


class _Reader:
    """Turns one module's classes into Terraform schema blocks."""

    def __init__(self, module: _Module) -> None:
        self.module = module

    def block(self, class_name: str, struct: str) -> dict[str, Any]:
        hcl = self.module.hcl.get(struct, {})
        attributes: dict[str, Any] = {}
        block_types: dict[str, Any] = {}
        for member in self.module.members(class_name):
            entry = hcl.get(member.name)
            complex_match = _NEW_COMPLEX.search(member.code)
            if complex_match and entry is not None and entry.is_block:
                block_types[member.name] = self._nested_block(member, entry, complex_match)
            elif complex_match and member.computed and not member.optional:
                attributes[member.name] = self._flags(member) | {
                    "type": self._object_type(complex_match.group(1), complex_match.group(2))
                }
            elif complex_match and not complex_match.group(1).startswith("cdktf."):
                attributes[member.name] = self._flags(member) | {
                    "nested_type": self._nested_type(complex_match.group(1), complex_match.group(2))
                }
            else:
                attributes[member.name] = self._flags(member) | {
                    "type": self._attribute_type(member, entry, struct)
                }
        return _without_empty({"attributes": attributes, "block_types": block_types})

    @staticmethod
    def _flags(member: _Member) -> dict[str, bool]:
        flags = {"required": member.required, "optional": member.optional,
                 "computed": member.computed}  # fmt: skip
        return {name: True for name, value in flags.items() if value}

    def _struct_of(self, class_name: str) -> tuple[str, str]:
        """(struct name, kind) of a generated `<Struct>List|OutputReference|Map` class."""
        for suffix, kind in (("OutputReference", "single"), ("List", "list"), ("Map", "map")):
            if class_name.endswith(suffix):
                struct = class_name.removesuffix(suffix)
                return struct, kind
        raise CdktfSchemaError(f"unexpected nested class {class_name}")

    def _nested_block(self, member: _Member, entry: _HclEntry, match: re.Match[str]) -> Any:
        struct, kind = self._struct_of(match.group(1))
        nested: dict[str, Any] = {"block": self.block(f"{struct}OutputReference", struct)}
        if kind == "single" and entry.kind == "struct":
            nested["nesting_mode"] = "single"
        elif kind == "single":
            nested["nesting_mode"] = entry.kind  # a list or set of at most one
            nested["max_items"] = 1
        elif kind == "list":
            nested["nesting_mode"] = "set" if match.group(2) == "true" else "list"
        else:
            nested["nesting_mode"] = "map"
        if nested["nesting_mode"] == "set" and "dynamic" in json.dumps(nested["block"]):
            # cdktf types deeply nested blocks as `any`; Terraform allows no dynamic value in a
            # set, so such a block becomes a list here (the real schema nests blocks instead).
            nested["nesting_mode"] = "list"
        if member.required and nested["nesting_mode"] in ("list", "set"):
            nested["min_items"] = 1
        return nested

    def _nested_type(self, class_name: str, wraps_set: str | None) -> dict[str, Any]:
        struct, kind = self._struct_of(class_name)
        nesting = {"single": "single", "map": "map"}.get(kind)
        nesting = nesting or ("set" if wraps_set == "true" else "list")
        block = self.block(f"{struct}OutputReference", struct)
        return {"attributes": block.get("attributes", {}), "nesting_mode": nesting}

    def _object_type(self, class_name: str, wraps_set: str | None) -> Any:
        if class_name in _COMPUTED_MAPS:
            return ["map", _COMPUTED_MAPS[class_name]]
        struct, kind = self._struct_of(class_name)
        block = self.block(f"{struct}OutputReference", struct)
        attributes = {
            name: spec.get("type") or _nested_type_as_type(spec["nested_type"])
            for name, spec in block.get("attributes", {}).items()
        }
        for name, nested in block.get("block_types", {}).items():
            attributes[name] = _block_as_type(nested)
        object_type = ["object", attributes]
        if kind == "single":
            return object_type
        if kind == "map":
            return ["map", object_type]
        return ["set" if wraps_set == "true" else "list", object_type]

    def _attribute_type(self, member: _Member, entry: _HclEntry | None, struct: str) -> Any:
        getter = _GETTER.search(member.code)
        expression = getter.group(1) if getter else ""
        for method, cty in _PRIMITIVE_GETTERS.items():
            if f"this.{method}(" in expression:
                return cty
        for method, element in _COLLECTION_GETTERS.items():
            if f"this.{method}(" in expression:
                if "Map" in method:
                    return ["map", element]
                return ["set" if "Fn.tolist" in expression else "list", element]
        if entry is not None:
            return self._configured_type(entry, struct)
        field_match = _FIELD.search(member.code)
        if field_match:  # the provider's own configuration: plain fields
            return _typescript_type(field_match.group(2), "list")
        if "interpolationForAttribute" in expression:
            return "dynamic"
        raise CdktfSchemaError(f"{struct}.{member.name}: no type in {member.code[:200]!r}")

    def _configured_type(self, entry: _HclEntry, struct: str) -> Any:
        element = _STORAGE_ELEMENT.get(entry.storage)
        if entry.kind == "simple" and element:
            return element
        for suffix, outer in (("List", entry.kind), ("Map", "map")):
            inner = _STORAGE_ELEMENT.get(entry.storage.removesuffix(suffix))
            if entry.storage.endswith(suffix) and inner and outer in ("list", "set", "map"):
                return [outer, inner]
        interface = self.module.interfaces.get(struct) or self.module.interfaces.get(
            f"{struct}Config"
        )
        optional_and_type = (interface or {}).get(entry.property)
        if optional_and_type is None:
            raise CdktfSchemaError(f"{struct}.{entry.property}: no TypeScript property")
        return _typescript_type(optional_and_type[1], entry.kind)

    def provider_block(self, class_name: str, config_interface: str) -> dict[str, Any]:
        """The provider's configuration: plain fields, blocks from the HCL synthesis."""
        return self._interface_block(config_interface, self.module.hcl[class_name])

    def _interface_block(self, interface: str, hcl: dict[str, _HclEntry]) -> dict[str, Any]:
        properties = self.module.interfaces[interface]
        attributes: dict[str, Any] = {}
        block_types: dict[str, Any] = {}
        for name, entry in hcl.items():
            optional, _ = properties[entry.property]
            flags = {"optional": True} if optional else {"required": True}
            if entry.is_block:
                nested_struct = entry.storage.removesuffix("List")
                nested_hcl = self.module.hcl.get(nested_struct, {})
                block_types[name] = {
                    "nesting_mode": entry.kind,
                    "block": self._interface_block(nested_struct, nested_hcl),
                } | ({} if optional else {"min_items": 1})
            else:
                attributes[name] = flags | {"type": self._configured_type(entry, interface)}
        return _without_empty({"attributes": attributes, "block_types": block_types})


def _nested_type_as_type(nested: dict[str, Any]) -> Any:
    attributes = {
        name: spec.get("type") or _nested_type_as_type(spec["nested_type"])
        for name, spec in nested["attributes"].items()
    }
    object_type = ["object", attributes]
    mode = nested["nesting_mode"]
    return object_type if mode == "single" else [mode, object_type]


def _block_as_type(nested: dict[str, Any]) -> Any:
    block = nested["block"]
    attributes = {
        name: spec.get("type") or _nested_type_as_type(spec["nested_type"])
        for name, spec in block.get("attributes", {}).items()
    }
    for name, inner in block.get("block_types", {}).items():
        attributes[name] = _block_as_type(inner)
    object_type = ["object", attributes]
    mode = nested["nesting_mode"]
    return object_type if mode == "single" else [mode, object_type]


def _without_empty(block: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in block.items() if value}


@dataclass
class ProviderSchema:
    provider_version: str = ""
    provider: dict[str, Any] = field(default_factory=dict)
    resource_schemas: dict[str, Any] = field(default_factory=dict)
    data_source_schemas: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "provider_version": self.provider_version,
            "provider": {"version": 0, "block": self.provider},
            "resource_schemas": dict(sorted(self.resource_schemas.items())),
            "data_source_schemas": dict(sorted(self.data_source_schemas.items())),
        }


def read_modules(sources: Iterable[str]) -> ProviderSchema:
    """The provider schema from every generated module's TypeScript source."""
    schema = ProviderSchema()
    for source in sources:
        module = _Module.parse(source)
        reader = _Reader(module)
        for class_name, (base, body) in module.classes.items():
            if base == "TerraformProvider":
                schema.provider = reader.provider_block(class_name, f"{class_name}Config")
                continue
            if base not in ("TerraformResource", "TerraformDataSource"):
                continue
            type_match = _RESOURCE_TYPE.search(body)
            if type_match is None:
                raise CdktfSchemaError(f"{class_name}: no tfResourceType")
            version = _PROVIDER_VERSION.search(body)
            schema.provider_version = version.group(1) if version else schema.provider_version
            entry = {"version": 0, "block": reader.block(class_name, class_name)}
            if base == "TerraformResource":
                schema.resource_schemas[type_match.group(1)] = entry
            else:
                schema.data_source_schemas[type_match.group(1)] = entry
    if not schema.resource_schemas or not schema.data_source_schemas or not schema.provider:
        raise CdktfSchemaError("no provider, resources or data sources in the generated sources")
    return schema
