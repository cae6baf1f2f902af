"""Policy evaluation: may this principal perform this action on this resource?

"Policy evaluation logic" (IAM User Guide), for the policy types this project uses
(identity-based policies and resource-based policies; no SCPs, permissions boundaries or
session policies):

1. every applicable statement of every policy is considered (applicable: Action/NotAction,
   Resource/NotResource, Principal/NotPrincipal for resource-based policies, Condition);
2. an explicit Deny in any of them denies;
3. otherwise, within one account, an Allow in the identity-based policies *or* in the
   resource-based policy allows ("If either the identity-based policy or the resource-based
   policy within the same account allows the request ... the request is still allowed");
   across accounts both must allow ("Cross-account policy evaluation logic");
4. otherwise the request is implicitly denied.

A resource-based policy that names an AWS account as principal "delegates authority to the
account" ("AWS JSON policy elements: Principal", AWS account principals): it grants nothing
by itself within that account (an identity-based policy must still allow), it is the
resource half of a cross-account grant, and its Deny applies to everyone in the account.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from etl_local.iam.conditions import ContextValue, conditions_hold
from etl_local.iam.policy import Policy, PolicyKind, PrincipalSet, Statement
from etl_local.iam.principals import Principal
from etl_local.iam.wildcards import action_matches, resource_matches


@dataclass(frozen=True)
class RequestContext:
    """What AWS evaluates: principal, action, resource and condition keys (lower-cased)."""

    principal: Principal
    action: str
    resource: str
    keys: Mapping[str, ContextValue] = field(default_factory=dict)
    # The account that owns the resource; None when it is the principal's own account.
    resource_account: str | None = None

    @property
    def cross_account(self) -> bool:
        return self.resource_account is not None and self.resource_account != self.principal.account


@dataclass(frozen=True)
class Decision:
    allowed: bool
    # Where an explicit Deny was found (None: no explicit deny).
    explicit_deny_in: PolicyKind | None = None
    # For an implicit deny: the policy type whose Allow was missing.
    missing_allow_in: PolicyKind | None = None
    allowed_by: tuple[str, ...] = ()
    denied_by: tuple[str, ...] = ()


def _any_action(patterns: tuple[str, ...], action: str) -> bool:
    return any(action_matches(p, action) for p in patterns)


def _any_resource(patterns: tuple[str, ...], resource: str) -> bool:
    return any(resource_matches(p, resource) for p in patterns)


def _matches_action_and_resource(statement: Statement, context: RequestContext) -> bool:
    if statement.actions is not None and not _any_action(statement.actions, context.action):
        return False
    if statement.not_actions is not None and _any_action(statement.not_actions, context.action):
        return False
    if statement.resources is not None and not _any_resource(statement.resources, context.resource):
        return False
    return not (
        statement.not_resources is not None
        and _any_resource(statement.not_resources, context.resource)
    )


def _account_named(principals: PrincipalSet, account: str) -> bool:
    values = principals.values("AWS")
    return account in values or any(
        v.startswith("arn:") and v.endswith(f":iam::{account}:root") for v in values
    )


def _names(principals: PrincipalSet, principal: Principal) -> bool:
    """True when the set names this principal itself (not merely its account)."""
    if principals.everyone:
        return True
    if principal.principal_type == "Service":
        return principal.service in principals.values("Service")
    values = principals.values("AWS")
    return "*" in values or not principal.aws_identifiers().isdisjoint(values)


def _principal_match(statement: Statement, principal: Principal) -> str | None:
    """How a resource-policy statement reaches the principal: "direct", "account" or None."""
    if statement.not_principal is not None:
        # Applies to every principal the element does not name.
        return None if _names(statement.not_principal, principal) else "direct"
    if statement.principal is None:
        return None
    if _names(statement.principal, principal):
        return "direct"
    if principal.account and _account_named(statement.principal, principal.account):
        return "account"
    return None


@dataclass
class _Tally:
    identity_allows: list[str] = field(default_factory=list)
    resource_allows: list[str] = field(default_factory=list)
    account_allows: list[str] = field(default_factory=list)
    denies: list[tuple[str, PolicyKind]] = field(default_factory=list)


def _tally(
    context: RequestContext, identity: Sequence[Policy], resource: Sequence[Policy]
) -> _Tally:
    tally = _Tally()
    for policy in identity:
        for statement in policy.statements:
            if _matches_action_and_resource(statement, context) and conditions_hold(
                statement.conditions, context.keys
            ):
                if statement.allows:
                    tally.identity_allows.append(statement.ref)
                else:
                    tally.denies.append((statement.ref, PolicyKind.IDENTITY))
    for policy in resource:
        for statement in policy.statements:
            reach = _principal_match(statement, context.principal)
            if reach is None or not _matches_action_and_resource(statement, context):
                continue
            if not conditions_hold(statement.conditions, context.keys):
                continue
            if not statement.allows:
                tally.denies.append((statement.ref, PolicyKind.RESOURCE))
            elif reach == "direct":
                tally.resource_allows.append(statement.ref)
            else:
                tally.account_allows.append(statement.ref)
    return tally


def evaluate(context: RequestContext, resource_policies: Sequence[Policy] = ()) -> Decision:
    """Evaluate the principal's identity-based policies and the resource's policies."""
    principal = context.principal
    tally = _tally(context, principal.policies, resource_policies)
    if tally.denies:
        return Decision(
            allowed=False,
            explicit_deny_in=tally.denies[0][1],
            denied_by=tuple(ref for ref, _ in tally.denies),
        )
    if principal.principal_type in ("Service", "Anonymous"):
        # A service principal, or an unsigned request, has no identity-based policies: the
        # resource policy alone decides (a public bucket policy grants to "*").
        if tally.resource_allows:
            return Decision(allowed=True, allowed_by=tuple(tally.resource_allows))
        return Decision(allowed=False, missing_allow_in=PolicyKind.RESOURCE)
    if context.cross_account:
        resource_side = tally.resource_allows + tally.account_allows
        if tally.identity_allows and resource_side:
            return Decision(allowed=True, allowed_by=tuple(tally.identity_allows + resource_side))
        missing = PolicyKind.IDENTITY if not tally.identity_allows else PolicyKind.RESOURCE
        return Decision(allowed=False, missing_allow_in=missing)
    allows = tally.identity_allows + tally.resource_allows
    if allows:
        return Decision(allowed=True, allowed_by=tuple(allows))
    return Decision(allowed=False, missing_allow_in=PolicyKind.IDENTITY)
