"""The authorizer: principals + resource policies + request mapping + ledger, one decision.

Used two ways:
- by the endpoint hook (etl_local.iam.middleware), for every request that reaches moto;
- by the emulated services that act with a caller's permissions (Athena reading S3 and the
  catalog for a query, the crawler and the Glue job with their roles), through
  `require(principal, action, resource)` or `require_call(principal, service, operation,
  params)`, which raise `AccessDenied` with AWS's message.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from etl_local.iam.conditions import ContextValue
from etl_local.iam.errors import AccessDenied, denial_message, no_rule_message
from etl_local.iam.evaluation import Decision, RequestContext, evaluate
from etl_local.iam.ledger import Ledger
from etl_local.iam.lookups import MotoLookups
from etl_local.iam.operations import (
    ApiCall,
    Permission,
    ServerLookups,
    UnmappedOperation,
    required_permissions,
)
from etl_local.iam.principals import (
    Credentials,
    Principal,
    PrincipalRegistry,
    RoleDefinition,
    arn_account,
)
from etl_local.iam.resource_policies import ResourcePolicySource
from etl_local.iam.wire import Signature, WireRequest

# botocore service name -> IAM service prefix, where they differ.
IAM_PREFIXES = {"stepfunctions": "states", "cloudwatch": "cloudwatch"}
UNMAPPED_ALLOWED = "(no authorization rule: allowed for an unrestricted principal)"


@dataclass(frozen=True)
class Denial:
    action: str
    resource: str
    message: str

    def error(self) -> AccessDenied:
        return AccessDenied(self.message, self.action, self.resource)


def _calling_services(via_service: str | None) -> dict[str, ContextValue]:
    """Keys of a request a service makes with the caller's credentials (forward access
    sessions): aws:ViaAWSService, aws:CalledVia, aws:CalledViaFirst, aws:CalledViaLast."""
    if via_service is None:
        return {"aws:viaawsservice": "false"}
    return {
        "aws:viaawsservice": "true",
        "aws:calledvia": (via_service,),
        "aws:calledviafirst": via_service,
        "aws:calledvialast": via_service,
    }


class Authorizer:
    def __init__(
        self,
        registry: PrincipalRegistry,
        resource_policies: ResourcePolicySource,
        *,
        account: str,
        region: str,
        partition: str = "aws",
        lookups: ServerLookups | None = None,
        ledger: Ledger | None = None,
    ) -> None:
        self.registry = registry
        self.resource_policies = resource_policies
        self.account = account
        self.region = region
        self.partition = partition
        self.lookups: ServerLookups = lookups or MotoLookups()
        self.ledger = ledger or Ledger()
        # The on/off switch: off, every request passes (and nothing is recorded).
        self.enabled = True

    # -- sessions ------------------------------------------------------------------------

    def start_session(
        self,
        role: RoleDefinition,
        session_name: str,
        *,
        service: str,
        source_arn: str | None = None,
        access_key_id: str | None = None,
    ) -> tuple[Principal, Credentials]:
        """The session a service opens with `role` (Lambda for a function, Step Functions for
        a state machine, Glue for a crawler or job), after checking that the role's trust
        policy lets `service` assume it, with aws:SourceAccount/aws:SourceArn as AWS sets."""
        keys: dict[str, ContextValue] = {
            **Principal.aws_service(service).context_keys(),
            "aws:sourceaccount": self.account,
        }
        if source_arn:
            keys["aws:sourcearn"] = source_arn
        context = RequestContext(Principal.aws_service(service), "sts:AssumeRole", role.arn, keys)
        trust = (role.trust_policy,) if role.trust_policy is not None else ()
        if not evaluate(context, trust).allowed:
            raise AccessDenied(
                f"{service} is not authorized to perform: sts:AssumeRole on resource: {role.arn}",
                "sts:AssumeRole",
                role.arn,
            )
        principal = role.session(session_name)
        return principal, self.registry.register(principal, access_key_id)

    # -- decisions -----------------------------------------------------------------------

    def _keys(
        self,
        principal: Principal,
        permission: Permission,
        region: str,
        via_service: str | None,
        signature: Signature | None,
        source_ip: str | None,
    ) -> dict[str, ContextValue]:
        now = time.time()
        keys: dict[str, ContextValue] = {
            # The local endpoint is plain HTTP on the loopback interface, standing in for
            # AWS's HTTPS endpoints, which every SDK and the CLI use by default: the request
            # AWS would evaluate arrived over TLS. "false" would make every TLS-only bucket
            # policy deny everything here: a difference of transport, not of permissions.
            "aws:securetransport": "true",
            "aws:requestedregion": region,
            "aws:currenttime": datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "aws:epochtime": str(int(now)),
            **principal.context_keys(),
            **_calling_services(via_service),
        }
        owner = arn_account(permission.resource) or self.account
        keys["aws:resourceaccount"] = owner
        if source_ip:
            keys["aws:sourceip"] = source_ip
        if signature is not None and signature.auth_type:
            keys["s3:authtype"] = signature.auth_type
            keys["s3:signatureversion"] = signature.version or ""
        keys.update({name.lower(): value for name, value in permission.context.items()})
        return keys

    def decide(
        self,
        principal: Principal,
        permission: Permission,
        *,
        region: str | None = None,
        via_service: str | None = None,
        signature: Signature | None = None,
        source_ip: str | None = None,
    ) -> Decision:
        """Evaluate one permission and record the decision in the ledger."""
        where = region or self.region
        keys = self._keys(principal, permission, where, via_service, signature, source_ip)
        owner = arn_account(permission.resource) or self.account
        context = RequestContext(
            principal,
            permission.action,
            permission.resource,
            keys,
            resource_account=owner if owner != principal.account else None,
        )
        decision = evaluate(context, self.resource_policies.policies_for(permission.resource))
        message = None if decision.allowed else self._message(principal, permission, decision)
        self.ledger.record(principal, permission.action, permission.resource, decision, message)
        return decision

    @staticmethod
    def _message(principal: Principal, permission: Permission, decision: Decision) -> str:
        quote = permission.action.lower().startswith("s3:")
        return denial_message(
            principal.arn, permission.action, permission.resource, decision, quote=quote
        )

    def first_denial(
        self,
        principal: Principal,
        permissions: Sequence[Permission],
        **where: Any,
    ) -> Denial | None:
        """Evaluate every permission a request needs; the first denied one, if any."""
        for permission in permissions:
            decision = self.decide(principal, permission, **where)
            if not decision.allowed:
                return Denial(
                    permission.action,
                    permission.resource,
                    self._message(principal, permission, decision),
                )
        return None

    def authorize_call(
        self,
        principal: Principal,
        service: str,
        operation: str,
        params: Mapping[str, Any],
        *,
        region: str | None = None,
        via_service: str | None = None,
        signature: Signature | None = None,
        source_ip: str | None = None,
        items: bool = True,
    ) -> Denial | None:
        """Authorize one API call (botocore service and operation names, input params).

        `items=False` leaves out the permissions a service checks item by item while it
        runs the request (see Permission.per_item); the endpoint hook lets moto ask for
        those (etl_local.iam.moto_bucket_policies)."""
        where = region or self.region
        try:
            permissions = self.permissions_for(principal, service, operation, params, where)
        except UnmappedOperation:
            return self._unmapped(principal, service, operation)
        if not items:
            permissions = [p for p in permissions if not p.per_item]
        return self.first_denial(
            principal,
            permissions,
            region=where,
            via_service=via_service,
            signature=signature,
            source_ip=source_ip,
        )

    def permissions_for(
        self,
        principal: Principal,
        service: str,
        operation: str,
        params: Mapping[str, Any],
        region: str | None = None,
    ) -> list[Permission]:
        """What AWS authorizes for this call; raises UnmappedOperation without a rule."""
        where = region or self.region
        call = ApiCall(service, operation, params, where, self.account, self.partition)
        return required_permissions(call, self.lookups)

    def authorize_wire(self, principal: Principal, request: WireRequest) -> Denial | None:
        return self.authorize_call(
            principal,
            request.service,
            request.operation,
            request.params,
            region=request.region,
            signature=request.signature,
            source_ip=request.source_ip,
            items=False,
        )

    def _unmapped(self, principal: Principal, service: str, operation: str) -> Denial | None:
        action = f"{IAM_PREFIXES.get(service, service)}:{operation}"
        if principal.unrestricted:
            decision = Decision(allowed=True, allowed_by=(UNMAPPED_ALLOWED,))
            self.ledger.record(principal, action, "*", decision)
            return None
        message = no_rule_message(principal.arn, IAM_PREFIXES.get(service, service), operation)
        self.ledger.record(principal, action, "*", Decision(allowed=False), message)
        return Denial(action, "*", message)

    # -- on a caller's behalf --------------------------------------------------------------

    def require(
        self,
        principal: Principal,
        action: str,
        resource: str,
        context: Mapping[str, ContextValue] | None = None,
        *,
        via_service: str | None = None,
        region: str | None = None,
    ) -> None:
        """Raise AccessDenied unless `principal` may perform `action` on `resource`.

        `via_service` (e.g. "athena.amazonaws.com") marks a request a service makes with
        the caller's permissions."""
        if not self.enabled:
            return
        permission = Permission(action, resource, dict(context or {}))
        denial = self.first_denial(principal, [permission], region=region, via_service=via_service)
        if denial is not None:
            raise denial.error()

    def require_call(
        self,
        principal: Principal,
        service: str,
        operation: str,
        params: Mapping[str, Any],
        *,
        via_service: str | None = None,
        region: str | None = None,
    ) -> None:
        """Raise AccessDenied unless `principal` may make this API call (e.g. the crawler's
        glue GetTable, which the local crawler performs on moto's backend directly)."""
        if not self.enabled:
            return
        denial = self.authorize_call(
            principal, service, operation, params, region=region, via_service=via_service
        )
        if denial is not None:
            raise denial.error()

    def may_list_bucket(self, principal: Principal, bucket: str, region: str | None = None) -> bool:
        """S3's rule for a missing key: 404 NoSuchKey only with s3:ListBucket on the bucket."""
        permission = Permission("s3:ListBucket", f"arn:{self.partition}:s3:::{bucket}")
        return self.decide(principal, permission, region=region).allowed
