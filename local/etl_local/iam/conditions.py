"""The Condition element: operators, ...IfExists, set qualifiers, missing keys.

Rules from "IAM JSON policy elements: Condition operators" and "Conditions with multiple
context keys or values" (IAM User Guide):

- several operators in a block, and several keys under one operator: AND;
- several values for one key: OR; for a negated operator (StringNotEquals...): NOR;
- a key absent from the request context: the condition is false, except that a negated
  operator is then true; `...IfExists` is true when the key is absent; `Null` tests presence;
- `ForAnyValue:` is true when at least one request value matches (false when the key is
  absent or empty); `ForAllValues:` when every request value matches (true when the key
  is absent or empty);
- condition key names are case-insensitive, values follow the operator.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from etl_local.iam.wildcards import arn_like, glob_match

# A request context value: one string, or several (multivalued keys such as aws:CalledVia).
ContextValue = str | tuple[str, ...]
Comparator = Callable[[str, str], bool]


class ConditionError(ValueError):
    """An operator IAM does not know (IAM rejects the policy)."""


@dataclass(frozen=True)
class ConditionClause:
    """One operator/key/values triple of a Condition block (values already strings)."""

    operator: str
    key: str
    values: tuple[str, ...]


def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


_EPOCH = re.compile(r"^\d+(\.\d+)?$")


def _date(text: str) -> datetime | None:
    # Dates are ISO 8601 or epoch seconds ("Date condition operators").
    if _EPOCH.match(text):
        return datetime.fromtimestamp(float(text), tz=UTC)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _ordered(parse: Callable[[str], object | None], test: Callable[[int], bool]) -> Comparator:
    def compare(context: str, policy: str) -> bool:
        left, right = parse(context), parse(policy)
        if left is None or right is None:
            return False
        return test((left > right) - (left < right))  # type: ignore[operator]

    return compare


def _in_network(context: str, policy: str) -> bool:
    try:
        return ipaddress.ip_address(context) in ipaddress.ip_network(policy, strict=False)
    except ValueError:
        return False


# Positive comparators: (request value, policy value) -> match. Negated operators reuse them.
_COMPARATORS: dict[str, Comparator] = {
    "StringEquals": lambda c, p: c == p,
    "StringEqualsIgnoreCase": lambda c, p: c.lower() == p.lower(),
    "StringLike": lambda c, p: glob_match(p, c),
    "NumericEquals": _ordered(_number, lambda s: s == 0),
    "NumericLessThan": _ordered(_number, lambda s: s < 0),
    "NumericLessThanEquals": _ordered(_number, lambda s: s <= 0),
    "NumericGreaterThan": _ordered(_number, lambda s: s > 0),
    "NumericGreaterThanEquals": _ordered(_number, lambda s: s >= 0),
    "DateEquals": _ordered(_date, lambda s: s == 0),
    "DateLessThan": _ordered(_date, lambda s: s < 0),
    "DateLessThanEquals": _ordered(_date, lambda s: s <= 0),
    "DateGreaterThan": _ordered(_date, lambda s: s > 0),
    "DateGreaterThanEquals": _ordered(_date, lambda s: s >= 0),
    "Bool": lambda c, p: c.lower() == p.lower(),
    "BinaryEquals": lambda c, p: c == p,
    "IpAddress": _in_network,
    "ArnEquals": lambda c, p: arn_like(p, c),
    "ArnLike": lambda c, p: arn_like(p, c),
}
# Negated operator -> the positive operator it negates.
_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "NotIpAddress": "IpAddress",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


@dataclass(frozen=True)
class Operator:
    """A parsed operator name such as `ForAllValues:StringLikeIfExists`."""

    base: str
    comparator: Comparator | None  # None for Null
    negated: bool
    if_exists: bool
    qualifier: str | None  # "ForAllValues" | "ForAnyValue" | None


@functools.lru_cache(maxsize=256)
def parse_operator(name: str) -> Operator:
    """Raises ConditionError for an operator IAM does not know."""
    qualifier = None
    base = name
    if ":" in name:
        qualifier, base = name.split(":", 1)
        if qualifier not in ("ForAllValues", "ForAnyValue"):
            raise ConditionError(f"unknown condition set operator {qualifier!r} in {name!r}")
    if_exists = base.endswith("IfExists") and base != "IfExists"
    if if_exists:
        base = base[: -len("IfExists")]
    if base == "Null" and not if_exists:
        return Operator("Null", None, negated=False, if_exists=False, qualifier=qualifier)
    negated = base in _NEGATED
    comparator = _COMPARATORS.get(_NEGATED.get(base, base))
    if comparator is None:
        raise ConditionError(f"unknown condition operator {name!r}")
    return Operator(base, comparator, negated=negated, if_exists=if_exists, qualifier=qualifier)


def _single(operator: Operator, value: str, policy_values: tuple[str, ...]) -> bool:
    assert operator.comparator is not None
    matched = any(operator.comparator(value, p) for p in policy_values)
    return not matched if operator.negated else matched


def clause_holds(clause: ConditionClause, context: Mapping[str, ContextValue]) -> bool:
    """One operator/key against the request context (keys lower-cased)."""
    operator = parse_operator(clause.operator)
    present = context.get(clause.key.lower())
    values: tuple[str, ...] = (
        () if present is None else (present,) if isinstance(present, str) else present
    )
    if operator.comparator is None:  # Null: "true" means the key is absent.
        return any((p.lower() == "true") == (present is None) for p in clause.values)
    if operator.qualifier == "ForAllValues":
        return all(_single(operator, v, clause.values) for v in values)
    if operator.qualifier == "ForAnyValue":
        return any(_single(operator, v, clause.values) for v in values)
    if present is None:
        return operator.if_exists or operator.negated
    if operator.negated:
        return all(_single(operator, v, clause.values) for v in values)
    return any(_single(operator, v, clause.values) for v in values)


def conditions_hold(
    clauses: tuple[ConditionClause, ...], context: Mapping[str, ContextValue]
) -> bool:
    return all(clause_holds(clause, context) for clause in clauses)
