"""Terraform values on the wire (cty's msgpack and JSON encodings) <-> plain Python values.

Decoding and encoding are driven by the value's cty type (a type in its JSON form:
"string", ["list", "string"], ["object", {...}], "dynamic", ...), because the encoding of
a `dynamic` value carries its own type and because Terraform expects every attribute of an
object, null or not.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import msgpack

from tools.offline_aws_provider.values import UNKNOWN

# cty writes a wholly unknown value as extension 0 and a refined unknown (e.g. "not null",
# "starts with arn:") as extension 12; refinements only narrow what apply may produce, so both
# read as UNKNOWN here.
_UNKNOWN_EXTENSIONS = frozenset({0, 12})
_UNKNOWN_WIRE = msgpack.ExtType(0, b"\x00")


class WireValueError(ValueError):
    """A value does not fit its type."""


def _ext_hook(code: int, data: bytes) -> Any:
    if code in _UNKNOWN_EXTENSIONS:
        return UNKNOWN
    raise WireValueError(f"unexpected msgpack extension {code}")


def decode_msgpack(data: bytes, cty_type: Any) -> Any:
    if not data:
        return None
    raw = msgpack.unpackb(data, ext_hook=_ext_hook, raw=False, strict_map_key=False)
    return _from_wire(raw, cty_type)


def decode_json(data: bytes, cty_type: Any) -> Any:
    """A JSON-encoded value (raw state); numbers keep their precision."""
    if not data:
        return None
    return _from_wire(json.loads(data, parse_float=Decimal), cty_type)


def encode_msgpack(value: Any, cty_type: Any) -> bytes:
    packed: bytes = msgpack.packb(_to_wire(value, cty_type), use_bin_type=True)
    return packed


def _from_wire(raw: Any, cty_type: Any) -> Any:
    if raw is None or raw is UNKNOWN:
        return raw
    if cty_type == "dynamic":
        if isinstance(raw, list) and len(raw) == 2 and isinstance(raw[0], bytes | str):
            actual = json.loads(raw[0])
            return _from_wire(raw[1], actual)
        if isinstance(raw, dict) and set(raw) == {"value", "type"}:  # JSON: {"value", "type"}
            return _from_wire(raw["value"], raw["type"])
        return raw
    if isinstance(cty_type, str):
        return _primitive(raw, cty_type)
    kind, element = cty_type
    if kind in ("list", "set"):
        return [_from_wire(item, element) for item in raw]
    if kind == "tuple":
        return [_from_wire(item, t) for item, t in zip(raw, element, strict=True)]
    if kind == "map":
        return {key: _from_wire(item, element) for key, item in raw.items()}
    if kind == "object":
        return {name: _from_wire(raw.get(name), t) for name, t in element.items()}
    raise WireValueError(f"unsupported cty type {cty_type!r}")


def _primitive(raw: Any, cty_type: str) -> Any:
    if cty_type == "number" and isinstance(raw, str):
        return Decimal(raw)  # cty writes numbers beyond float64 as strings
    return raw


def _to_wire(value: Any, cty_type: Any) -> Any:
    if value is UNKNOWN:
        return _UNKNOWN_WIRE
    if value is None:
        return None
    if cty_type == "dynamic":
        actual = implied_type(value)
        return [json.dumps(actual).encode(), _to_wire(value, actual)]
    if isinstance(cty_type, str):
        return _primitive_to_wire(value, cty_type)
    kind, element = cty_type
    if kind in ("list", "set"):
        return [_to_wire(item, element) for item in _sequence(value, cty_type)]
    if kind == "tuple":
        return [_to_wire(item, t) for item, t in zip(_sequence(value, cty_type), element,
                                                      strict=True)]  # fmt: skip
    if kind == "map":
        return {key: _to_wire(item, element) for key, item in _mapping(value, cty_type).items()}
    if kind == "object":
        mapping = _mapping(value, cty_type)
        unexpected = set(mapping) - set(element)
        if unexpected:
            raise WireValueError(f"unsupported attributes {sorted(unexpected)} for {cty_type!r}")
        return {name: _to_wire(mapping.get(name), t) for name, t in element.items()}
    raise WireValueError(f"unsupported cty type {cty_type!r}")


def _primitive_to_wire(value: Any, cty_type: str) -> Any:
    if cty_type == "string" and isinstance(value, str):
        return value
    if cty_type == "bool" and isinstance(value, bool):
        return value
    if (
        cty_type == "number"
        and isinstance(value, int | float | Decimal)
        and not isinstance(value, bool)
    ):
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        return value
    raise WireValueError(f"{value!r} is not a {cty_type}")


def _sequence(value: Any, cty_type: Any) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise WireValueError(f"{value!r} is not a {cty_type!r}")
    return list(value)


def _mapping(value: Any, cty_type: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise WireValueError(f"{value!r} is not a {cty_type!r}")
    return value


def implied_type(value: Any) -> Any:
    """The cty type Terraform would give a JSON-like value (objects, tuples)."""
    if value is None or value is UNKNOWN:
        return "dynamic"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float | Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return ["tuple", [implied_type(item) for item in value]]
    if isinstance(value, dict):
        return ["object", {key: implied_type(item) for key, item in value.items()}]
    raise WireValueError(f"no cty type for {value!r}")
