"""Policy documents: the JSON grammar IAM accepts, parsed once into immutable statements.

"IAM JSON policy element reference": a document has an optional Version and a Statement
(one object or a list); a statement has Effect (Allow|Deny), exactly one of Action and
NotAction, exactly one of Resource and NotResource (a role trust policy has neither), a
Principal or NotPrincipal in resource-based policies only, an optional Sid and Condition.
Every element that takes values takes one string or a list of strings. Terraform's
`aws_iam_policy_document` renders both forms, so both are read here.

A malformed document raises `PolicyError` naming the policy and the element, before any
request is evaluated against it (IAM rejects such a document when it is attached).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from etl_local.iam.conditions import ConditionClause, ConditionError, parse_operator


class PolicyError(ValueError):
    """A policy document IAM would reject."""


class PolicyKind(enum.Enum):
    IDENTITY = "identity-based"
    RESOURCE = "resource-based"
    TRUST = "trust"


@dataclass(frozen=True)
class PrincipalSet:
    """A Principal or NotPrincipal element: `"*"`, or values per type (AWS, Service...)."""

    everyone: bool
    by_type: Mapping[str, tuple[str, ...]]

    def values(self, principal_type: str) -> tuple[str, ...]:
        return self.by_type.get(principal_type, ())


@dataclass(frozen=True)
class Statement:
    policy_name: str
    index: int
    sid: str | None
    effect: str
    actions: tuple[str, ...] | None
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...] | None
    principal: PrincipalSet | None
    not_principal: PrincipalSet | None
    conditions: tuple[ConditionClause, ...]

    @property
    def ref(self) -> str:
        """How reports name this statement: `<policy>#<Sid>`, or `#<index>` without a Sid."""
        return f"{self.policy_name}#{self.sid if self.sid else self.index}"

    @property
    def allows(self) -> bool:
        return self.effect == "Allow"


@dataclass(frozen=True)
class Policy:
    name: str
    kind: PolicyKind
    statements: tuple[Statement, ...]

    @classmethod
    def parse(cls, document: str | Mapping[str, Any], name: str, kind: PolicyKind) -> Policy:
        """Parse a policy given as JSON text (as Terraform renders it) or as a mapping."""
        if isinstance(document, str):
            try:
                document = json.loads(document)
            except json.JSONDecodeError as error:
                raise PolicyError(f"policy {name}: not JSON ({error})") from error
        if not isinstance(document, Mapping):
            raise PolicyError(f"policy {name}: a policy document is a JSON object")
        version = document.get("Version", "2008-10-17")
        if version not in ("2012-10-17", "2008-10-17"):
            raise PolicyError(f"policy {name}: unknown Version {version!r}")
        raw = document.get("Statement")
        if raw is None:
            raise PolicyError(f"policy {name}: no Statement")
        items = [raw] if isinstance(raw, Mapping) else raw
        if not isinstance(items, list):
            raise PolicyError(f"policy {name}: Statement is an object or a list of objects")
        statements = tuple(_statement(item, name, index, kind) for index, item in enumerate(items))
        return cls(name=name, kind=kind, statements=statements)


def _statement(raw: Any, policy: str, index: int, kind: PolicyKind) -> Statement:
    where = f"policy {policy}, statement {index}"
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{where}: a statement is a JSON object")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f"{where}: Effect must be Allow or Deny, not {effect!r}")
    actions, not_actions = _exactly_one(raw, "Action", "NotAction", where, required=True)
    resources, not_resources = _exactly_one(
        raw, "Resource", "NotResource", where, required=kind is not PolicyKind.TRUST
    )
    has_principal = "Principal" in raw or "NotPrincipal" in raw
    if kind is PolicyKind.IDENTITY and has_principal:
        raise PolicyError(f"{where}: an identity-based policy cannot name a Principal")
    if kind is not PolicyKind.IDENTITY and not has_principal:
        raise PolicyError(f"{where}: a {kind.value} policy needs a Principal or NotPrincipal")
    sid = raw.get("Sid")
    return Statement(
        policy_name=policy,
        index=index,
        sid=str(sid) if sid not in (None, "") else None,
        effect=effect,
        actions=actions,
        not_actions=not_actions,
        resources=resources,
        not_resources=not_resources,
        principal=_principals(raw.get("Principal"), where),
        not_principal=_principals(raw.get("NotPrincipal"), where),
        conditions=_conditions(raw.get("Condition"), where),
    )


def _exactly_one(
    raw: Mapping[str, Any], name: str, negated: str, where: str, *, required: bool
) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    if name in raw and negated in raw:
        raise PolicyError(f"{where}: both {name} and {negated}")
    if required and name not in raw and negated not in raw:
        raise PolicyError(f"{where}: needs {name} or {negated}")
    positive = _strings(raw[name], f"{where}, {name}") if name in raw else None
    negative = _strings(raw[negated], f"{where}, {negated}") if negated in raw else None
    return positive, negative


def _strings(value: Any, where: str) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) for v in values):
        raise PolicyError(f"{where}: expected a string or a non-empty list of strings")
    return tuple(values)


def _principals(value: Any, where: str) -> PrincipalSet | None:
    if value is None:
        return None
    if value == "*":
        return PrincipalSet(everyone=True, by_type={})
    if not isinstance(value, Mapping):
        raise PolicyError(f'{where}: Principal is "*" or an object of principal types')
    by_type = {
        str(kind): _strings(ids, f"{where}, Principal.{kind}") for kind, ids in value.items()
    }
    everyone = by_type.get("AWS") == ("*",)
    return PrincipalSet(everyone=everyone, by_type=by_type)


def _conditions(value: Any, where: str) -> tuple[ConditionClause, ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise PolicyError(f"{where}: Condition is an object of operators")
    clauses = []
    for operator, block in value.items():
        try:
            parse_operator(str(operator))
        except ConditionError as error:
            raise PolicyError(f"{where}: {error}") from error
        if not isinstance(block, Mapping) or not block:
            raise PolicyError(f"{where}: Condition {operator} needs an object of keys")
        for key, raw_values in block.items():
            values = raw_values if isinstance(raw_values, list) else [raw_values]
            clauses.append(
                ConditionClause(
                    operator=str(operator),
                    key=str(key),
                    values=tuple(_condition_value(v, f"{where}, {operator}.{key}") for v in values),
                )
            )
    return tuple(clauses)


def _condition_value(value: Any, where: str) -> str:
    # JSON booleans and numbers are written as their policy-language text ("true", "10").
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise PolicyError(f"{where}: condition values are strings, numbers or booleans")


def parse_all(
    documents: Sequence[tuple[str, str | Mapping[str, Any]]], kind: PolicyKind
) -> tuple[Policy, ...]:
    """Parse several (name, document) pairs of one kind."""
    return tuple(Policy.parse(document, name, kind) for name, document in documents)
