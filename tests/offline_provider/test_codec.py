"""Values on the wire: cty's msgpack encoding, with unknowns, sets, objects and dynamic."""

from __future__ import annotations

import json
from decimal import Decimal

import msgpack
import pytest

from tools.offline_aws_provider.codec import (
    WireValueError,
    decode_json,
    decode_msgpack,
    encode_msgpack,
)
from tools.offline_aws_provider.values import UNKNOWN

OBJECT = ["object", {"name": "string", "size": "number", "tags": ["map", "string"],
                     "rules": ["list", ["object", {"id": "string"}]], "on": "bool"}]  # fmt: skip


def test_a_value_round_trips_with_unknowns_anywhere() -> None:
    value = {"name": "x", "size": 3, "tags": {"a": "b"}, "rules": [{"id": UNKNOWN}], "on": None}
    assert decode_msgpack(encode_msgpack(value, OBJECT), OBJECT) == value
    assert decode_msgpack(encode_msgpack(UNKNOWN, OBJECT), OBJECT) is UNKNOWN


def test_unknown_is_extension_zero_as_cty_writes_it() -> None:
    assert encode_msgpack(UNKNOWN, "string") == bytes([0xD4, 0, 0])


def test_a_refined_unknown_reads_as_unknown() -> None:
    refined = msgpack.packb(msgpack.ExtType(12, msgpack.packb({1: False})))
    assert decode_msgpack(refined, "string") is UNKNOWN


def test_every_attribute_of_an_object_is_written_null_or_not() -> None:
    raw = msgpack.unpackb(encode_msgpack({"name": "x"}, OBJECT))
    assert raw == {"name": "x", "size": None, "tags": None, "rules": None, "on": None}


def test_a_dynamic_value_carries_its_type() -> None:
    packed = encode_msgpack({"a": [1, "b"]}, "dynamic")
    type_json, _ = msgpack.unpackb(packed)
    assert json.loads(type_json) == ["object", {"a": ["tuple", ["number", "string"]]}]
    assert decode_msgpack(packed, "dynamic") == {"a": [1, "b"]}


def test_values_that_do_not_fit_their_type_are_refused() -> None:
    with pytest.raises(WireValueError):
        encode_msgpack({"name": 3}, OBJECT)
    with pytest.raises(WireValueError):
        encode_msgpack({"nmae": "x"}, OBJECT)


def test_json_state_keeps_number_precision() -> None:
    state = decode_json(b'{"name": "x", "size": 0.1}', OBJECT)
    assert state["size"] == Decimal("0.1")
    assert state["rules"] is None
