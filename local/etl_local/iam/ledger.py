"""Every authorization decision, counted: who, what, on which resource, allowed by what.

Decisions are aggregated in memory (one dictionary increment under a lock per decision)
and appended to a JSON-lines file on `flush()`, so that several runtime instances (a test
suite starts many) each write their own file in a shared directory and the report merges
them. Each file also lists, once per identity, the statements of its identity-based
policies: the report needs them to name the statements no request used, and a file is
then self-contained.

Line formats:
  {"type": "identity", "identity": <role or user ARN>, "statements": [<statement>...]}
  {"type": "decision", "identity", "principal", "action", "resource", "allowed",
   "statements": [<refs that allowed, or that denied>], "message", "count"}
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from etl_local.iam.evaluation import Decision
from etl_local.iam.principals import Principal

LEDGER_GLOB = "iam-ledger-*.jsonl"


@dataclass(frozen=True)
class DecisionKey:
    identity: str
    principal: str
    action: str
    resource: str
    allowed: bool
    statements: tuple[str, ...]
    message: str | None


def statement_inventory(principal: Principal) -> list[dict[str, Any]]:
    return [
        {
            "ref": statement.ref,
            "effect": statement.effect,
            "actions": list(statement.actions or ()),
            "not_actions": list(statement.not_actions or ()),
            "resources": list(statement.resources or ()),
            "not_resources": list(statement.not_resources or ()),
        }
        for policy in principal.policies
        for statement in policy.statements
    ]


class Ledger:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._counts: dict[DecisionKey, int] = {}
        self._pending: dict[DecisionKey, int] = {}
        self._identities: dict[str, list[dict[str, Any]]] = {}
        self._written_identities: set[str] = set()

    @classmethod
    def in_directory(cls, directory: Path) -> Ledger:
        """A ledger writing its own file in `directory` (one per runtime instance)."""
        directory.mkdir(parents=True, exist_ok=True)
        return cls(directory / f"iam-ledger-{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl")

    def record(
        self,
        principal: Principal,
        action: str,
        resource: str,
        decision: Decision,
        message: str | None = None,
    ) -> None:
        statements = decision.allowed_by if decision.allowed else decision.denied_by
        key = DecisionKey(
            principal.identity_arn,
            principal.arn,
            action,
            resource,
            decision.allowed,
            statements,
            message,
        )
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1
            self._pending[key] = self._pending.get(key, 0) + 1
            if principal.identity_arn not in self._identities:
                self._identities[principal.identity_arn] = statement_inventory(principal)

    def decisions(self) -> dict[DecisionKey, int]:
        with self._lock:
            return dict(self._counts)

    def lines(self) -> Iterator[dict[str, Any]]:
        """Everything recorded so far, in the file's line format."""
        with self._lock:
            identities = dict(self._identities)
            counts = dict(self._counts)
        yield from _identity_lines(identities)
        yield from _decision_lines(counts)

    def flush(self) -> None:
        """Append what was recorded since the last flush to the file (if any)."""
        if self.path is None:
            return
        with self._lock:
            pending, self._pending = self._pending, {}
            identities = {
                arn: statements
                for arn, statements in self._identities.items()
                if arn not in self._written_identities
            }
            self._written_identities.update(identities)
        lines = [*_identity_lines(identities), *_decision_lines(pending)]
        if lines:
            with self.path.open("a", encoding="utf-8") as stream:
                stream.writelines(json.dumps(line, sort_keys=True) + "\n" for line in lines)


def _identity_lines(identities: dict[str, list[dict[str, Any]]]) -> Iterator[dict[str, Any]]:
    for arn, statements in identities.items():
        yield {"type": "identity", "identity": arn, "statements": statements}


def _decision_lines(counts: dict[DecisionKey, int]) -> Iterator[dict[str, Any]]:
    for key, count in counts.items():
        yield {
            "type": "decision",
            "identity": key.identity,
            "principal": key.principal,
            "action": key.action,
            "resource": key.resource,
            "allowed": key.allowed,
            "statements": list(key.statements),
            "message": key.message,
            "count": count,
        }


def read_ledgers(directory: Path) -> Iterator[dict[str, Any]]:
    """Every line of every ledger file in `directory` (files of several runs merge)."""
    for path in sorted(directory.glob(LEDGER_GLOB)):
        with path.open(encoding="utf-8") as stream:
            for number, line in enumerate(stream, start=1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError as error:
                        raise ValueError(f"{path}:{number}: not a ledger line ({error})") from error
