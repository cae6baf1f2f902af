"""Values as they cross the plugin protocol, decoded into Python.

Terraform's DynamicValue (msgpack) becomes plain Python: None for null, str, int/float
(or Decimal), bool, list (lists, sets and tuples), dict (maps and objects). A value that
is not known until apply is the `UNKNOWN` sentinel, anywhere in that structure.
"""

from __future__ import annotations

from typing import Any, Final


class _Unknown:
    """A value known only after apply (msgpack extension type 0 on the wire)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        raise TypeError("an unknown value has no truth value until apply")


UNKNOWN: Final = _Unknown()


def is_known(value: Any) -> bool:
    """Whether `value` and everything inside it is known."""
    if value is UNKNOWN:
        return False
    if isinstance(value, dict):
        return all(is_known(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(is_known(v) for v in value)
    return True
