"""Least privilege, measured: per identity, what was used, what was denied, what never was.

Built from ledger lines (one or many files merged). For each identity (a role, or a user):
- `used`: allowed (action, resource) pairs with their count and the statements that allowed;
- `denied`: denied requests with AWS's message;
- `unused_statements`: Allow statements of its identity-based policies no request used;
- `partly_used_statements`: used Allow statements with actions (or resources) that no
  request through them needed: candidates for removal.
Deny statements are guards, not grants: they are not reported as unused.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from etl_local.iam.ledger import read_ledgers
from etl_local.iam.wildcards import action_matches, resource_matches


def _merge(
    lines: Iterable[dict[str, Any]],
) -> tuple[dict[str, list[dict[str, Any]]], dict[tuple[Any, ...], int]]:
    inventories: dict[str, list[dict[str, Any]]] = {}
    counts: dict[tuple[Any, ...], int] = defaultdict(int)
    for line in lines:
        if line.get("type") == "identity":
            inventories.setdefault(line["identity"], line["statements"])
        elif line.get("type") == "decision":
            key = (
                line["identity"],
                line["action"],
                line["resource"],
                bool(line["allowed"]),
                tuple(line["statements"]),
                line.get("message"),
            )
            counts[key] += int(line["count"])
    return inventories, counts


def _statement_usage(
    statement: dict[str, Any], uses: list[tuple[str, str]]
) -> dict[str, Any] | None:
    unused_actions = [
        a for a in statement["actions"] if not any(action_matches(a, used) for used, _ in uses)
    ]
    unused_resources = [
        r for r in statement["resources"] if not any(resource_matches(r, res) for _, res in uses)
    ]
    if not unused_actions and not unused_resources:
        return None
    return {
        "statement": statement["ref"],
        "unused_actions": unused_actions,
        "unused_resources": unused_resources,
    }


def _identity_report(
    inventory: list[dict[str, Any]], decisions: list[tuple[tuple[Any, ...], int]]
) -> dict[str, Any]:
    used, denied = [], []
    uses_by_statement: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for (_, action, resource, allowed, statements, message), count in decisions:
        entry = {
            "action": action,
            "resource": resource,
            "count": count,
            "statements": list(statements),
        }
        if allowed:
            used.append(entry)
            for ref in statements:
                uses_by_statement[ref].append((action, resource))
        else:
            denied.append({**entry, "message": message})
    allows = [s for s in inventory if s["effect"] == "Allow"]
    unused = [
        {
            "statement": s["ref"],
            "actions": s["actions"] or s["not_actions"],
            "resources": s["resources"],
        }
        for s in allows
        if s["ref"] not in uses_by_statement
    ]
    partly = [
        usage
        for s in allows
        if s["ref"] in uses_by_statement
        and (usage := _statement_usage(s, uses_by_statement[s["ref"]])) is not None
    ]
    order = lambda e: (e["action"], e["resource"])  # noqa: E731
    return {
        "used": sorted(used, key=order),
        "denied": sorted(denied, key=order),
        "unused_statements": unused,
        "partly_used_statements": partly,
    }


def build_report(lines: Iterable[dict[str, Any]]) -> dict[str, Any]:
    inventories, counts = _merge(lines)
    by_identity: dict[str, list[tuple[tuple[Any, ...], int]]] = defaultdict(list)
    for key, count in counts.items():
        by_identity[key[0]].append((key, count))
    identities = sorted(set(inventories) | set(by_identity))
    return {
        "identities": {
            arn: _identity_report(inventories.get(arn, []), by_identity.get(arn, []))
            for arn in identities
        }
    }


def write_report(ledger_directory: Path, output: Path) -> dict[str, Any]:
    """Merge every ledger file under `ledger_directory` into the JSON report `output`."""
    report = build_report(read_ledgers(ledger_directory))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return report
