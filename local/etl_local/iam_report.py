"""`etl iam-report`: least privilege, measured over the local runs' IAM ledgers.

Every local run counts each authorization decision in a ledger ($ETL_HOME/iam, see
etl_local.local_iam). The report (etl_local.iam.report) lists per identity the actions it
used, the requests it was denied, and the Allow statements no request used. A statement no
normal run uses must say why it is granted: local/terraform/iam-unused.yaml maps statement
references (`<role>/<policy>#<Sid>`, shell-style patterns) to the reason, e.g. a grant only
a failure path uses. `unexplained` lists the unused statements without one.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from etl_local.iam import build_report, read_ledgers

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
UNUSED_REASONS = REPOSITORY_ROOT / "local" / "terraform" / "iam-unused.yaml"
REPORT_JSON = REPOSITORY_ROOT / "build" / "iam-report.json"


def load_reasons(path: Path = UNUSED_REASONS) -> dict[str, str]:
    """Statement pattern -> why the statement may go unused in normal runs."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    reasons = document.get("unused_statements") or {}
    if not isinstance(reasons, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in reasons.items()
    ):
        raise ValueError(f"{path}: unused_statements maps statement patterns to reasons")
    return dict(reasons)


def reason_for(statement: str, reasons: Mapping[str, str]) -> str | None:
    return next((r for p, r in reasons.items() if fnmatch.fnmatchcase(statement, p)), None)


def annotate(report: dict[str, Any], reasons: Mapping[str, str]) -> dict[str, Any]:
    """Add each unused statement's reason, and the list of those without one."""
    unexplained = []
    for identity, entry in report["identities"].items():
        for unused in entry["unused_statements"]:
            unused["reason"] = reason_for(unused["statement"], reasons)
            if unused["reason"] is None:
                unexplained.append({"identity": identity, "statement": unused["statement"]})
    report["unexplained_unused_statements"] = unexplained
    report["denied"] = [
        {"identity": identity, **denial}
        for identity, entry in report["identities"].items()
        for denial in entry["denied"]
    ]
    return report


def build(lines: Iterable[dict[str, Any]], reasons: Mapping[str, str]) -> dict[str, Any]:
    return annotate(build_report(lines), reasons)


def render_text(report: Mapping[str, Any]) -> str:
    out: list[str] = []
    for identity, entry in sorted(report["identities"].items()):
        out.append(identity)
        for used in entry["used"]:
            out.append(f"  used    {used['action']} {used['resource']} ({used['count']}x)")
        for denied in entry["denied"]:
            out.append(f"  DENIED  {denied['action']} {denied['resource']}")
        for unused in entry["unused_statements"]:
            why = unused.get("reason") or "NO REASON (local/terraform/iam-unused.yaml)"
            out.append(f"  unused  {unused['statement']}: {why}")
        out.append("")
    out.append(
        f"{len(report['denied'])} denied request(s), "
        f"{len(report['unexplained_unused_statements'])} unused statement(s) without a reason"
    )
    return "\n".join(out) + "\n"


def write(
    ledger_directory: Path, output: Path = REPORT_JSON, reasons_path: Path = UNUSED_REASONS
) -> dict[str, Any]:
    """Merge the ledgers into `output` (JSON) and `output` with .txt (readable)."""
    report = build(read_ledgers(ledger_directory), load_reasons(reasons_path))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    output.with_suffix(".txt").write_text(render_text(report), encoding="utf-8")
    return report
