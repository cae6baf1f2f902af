"""Principals (who signs a request), their identity-based policies, and their access keys.

A Lambda function, the state machine, the crawler and the Glue job each act as a *role
session*: `arn:aws:sts::<account>:assumed-role/<role-name>/<session-name>` ("IAM
identifiers", assumed-role session principals). Its permissions are the role's policies;
in a resource-based policy it is matched by the role ARN or by the session ARN ("AWS JSON
policy elements: Principal"). The local user (the CLI, the runtime's own clients) is an
administrator: an IAM user with every permission, as an account administrator has.

`PrincipalRegistry` maps the access key id that signs a request to its principal; keys are
derived from the principal's ARN, so the same principal gets the same key in every run.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from etl_local.iam.conditions import ContextValue
from etl_local.iam.policy import Policy, PolicyKind

ANONYMOUS_ARN = "anonymous"

# An administrator's permissions, as AWS's AdministratorAccess managed policy grants them.
# A local fixture for the user's own clients, never a policy this project deploys.
_ADMINISTRATOR_DOCUMENT = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "AdministratorAccess", "Effect": "Allow", "Action": "*", "Resource": "*"}
    ],
}


def arn_account(arn: str) -> str:
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 else ""


def role_name(role_arn: str) -> str:
    """The name in `arn:aws:iam::<acct>:role/<path/>name` (sessions carry no path)."""
    return role_arn.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Principal:
    arn: str
    account: str
    principal_type: str  # aws:PrincipalType: AssumedRole, User, Account, Anonymous; or Service
    policies: tuple[Policy, ...] = ()
    role_arn: str | None = None
    session_name: str | None = None
    service: str | None = None
    # An administrator may call operations the local runtime has no authorization rule for.
    unrestricted: bool = False

    @classmethod
    def role_session(
        cls, role_arn: str, session_name: str, policies: tuple[Policy, ...] = ()
    ) -> Principal:
        account = arn_account(role_arn)
        partition = role_arn.split(":", 2)[1]
        arn = f"arn:{partition}:sts::{account}:assumed-role/{role_name(role_arn)}/{session_name}"
        return cls(
            arn=arn,
            account=account,
            principal_type="AssumedRole",
            policies=policies,
            role_arn=role_arn,
            session_name=session_name,
        )

    @classmethod
    def user(cls, user_arn: str, policies: tuple[Policy, ...] = ()) -> Principal:
        return cls(
            arn=user_arn, account=arn_account(user_arn), principal_type="User", policies=policies
        )

    @classmethod
    def administrator(cls, account: str, name: str = "local-administrator") -> Principal:
        policy = Policy.parse(
            _ADMINISTRATOR_DOCUMENT, f"{name}/AdministratorAccess", PolicyKind.IDENTITY
        )
        return cls(
            arn=f"arn:aws:iam::{account}:user/{name}",
            account=account,
            principal_type="User",
            policies=(policy,),
            unrestricted=True,
        )

    @classmethod
    def anonymous(cls) -> Principal:
        return cls(arn=ANONYMOUS_ARN, account="", principal_type="Anonymous")

    @classmethod
    def aws_service(cls, service: str) -> Principal:
        """A service principal such as `lambda.amazonaws.com` (it assumes roles)."""
        return cls(arn=service, account="", principal_type="Service", service=service)

    @property
    def identity_arn(self) -> str:
        """The identity that owns the policies: the role for a session, else the principal."""
        return self.role_arn or self.arn

    def aws_identifiers(self) -> frozenset[str]:
        """Values of a resource policy's `Principal: {"AWS": ...}` that name this principal
        itself (not its account: an account principal only delegates, see evaluation)."""
        names = {self.arn}
        if self.role_arn:
            names.add(self.role_arn)
        return frozenset(names)

    def context_keys(self) -> dict[str, ContextValue]:
        """Global condition keys about the principal ("AWS global condition context keys")."""
        if self.principal_type == "Service":
            return {
                "aws:principalisawsservice": "true",
                "aws:principalservicename": self.service or "",
            }
        if self.principal_type == "Anonymous":
            return {"aws:principalisawsservice": "false"}
        keys: dict[str, ContextValue] = {
            "aws:principalarn": self.identity_arn,
            "aws:principalaccount": self.account,
            "aws:principaltype": self.principal_type,
            "aws:principalisawsservice": "false",
        }
        if self.principal_type == "User":
            keys["aws:username"] = self.arn.rsplit("/", 1)[-1]
        return keys


@dataclass(frozen=True)
class RoleDefinition:
    """An IAM role as Terraform declares it: name, ARN, trust policy, permissions."""

    name: str
    arn: str
    trust_policy: Policy | None
    policies: tuple[Policy, ...]

    def session(self, session_name: str) -> Principal:
        return Principal.role_session(self.arn, session_name, self.policies)


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def as_boto3_kwargs(self) -> dict[str, Any]:
        return {
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
            "aws_session_token": self.session_token,
        }

    def as_environment(self) -> dict[str, str]:
        """What the Lambda runtime sets for a function's execution role."""
        environment = {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
        }
        if self.session_token:
            environment["AWS_SESSION_TOKEN"] = self.session_token
        return environment


def derived_access_key_id(principal: Principal) -> str:
    """20 characters [A-Z2-7] as AWS keys are (ASIA: temporary, AKIA: long-term)."""
    digest = hashlib.sha256(principal.arn.encode()).digest()
    body = base64.b32encode(digest).decode()[:16]
    return ("ASIA" if principal.principal_type == "AssumedRole" else "AKIA") + body


@dataclass
class PrincipalRegistry:
    """Access key id -> principal. Thread-safe; lookups do not take the lock."""

    _by_key: dict[str, Principal] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def register(self, principal: Principal, access_key_id: str | None = None) -> Credentials:
        """Give `principal` an access key (derived from its ARN unless one is given)."""
        key = access_key_id or derived_access_key_id(principal)
        with self._lock:
            current = self._by_key.get(key)
            if current is not None and current.arn != principal.arn:
                raise ValueError(f"access key {key} already belongs to {current.arn}")
            by_key = dict(self._by_key)
            by_key[key] = principal
            self._by_key = by_key
        secret = hashlib.sha256(b"secret:" + key.encode()).hexdigest()
        token = hashlib.sha256(b"token:" + key.encode()).hexdigest()
        return Credentials(
            key, secret, token if principal.principal_type == "AssumedRole" else None
        )

    def principal_for(self, access_key_id: str) -> Principal | None:
        return self._by_key.get(access_key_id)

    def principals(self) -> Mapping[str, Principal]:
        return dict(self._by_key)
