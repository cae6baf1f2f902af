"""checkov over the Terraform: zero failed checks, every skip justified in .checkov.yaml."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

from hcl_tree import REPOSITORY_ROOT

CHECKOV = Path(os.environ.get("CHECKOV", REPOSITORY_ROOT / ".venv-checkov" / "bin" / "checkov"))
CONFIG = REPOSITORY_ROOT / ".checkov.yaml"


def test_checkov_reports_no_failed_checks_and_every_skip_has_a_reason() -> None:
    # One run for the whole session (checkov takes seconds); both facts are asserted here.
    assert CHECKOV.is_file(), f"{CHECKOV} missing: run `make setup`"
    result = subprocess.run(
        [str(CHECKOV), "--directory", ".", "--config-file", str(CONFIG), "--output", "json"],
        cwd=REPOSITORY_ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    terraform = next(r for r in reports if r.get("check_type") == "terraform")
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}"
        for c in terraform["results"]["failed_checks"]
    ]

    assert terraform["summary"]["parsing_errors"] == 0
    assert terraform["summary"]["resource_count"] > 50
    assert failed == []

    lines = CONFIG.read_text(encoding="utf-8").splitlines()
    skips = [i for i, line in enumerate(lines) if re.match(r"\s+- CKV", line)]
    assert skips
    for index in skips:
        assert lines[index - 1].strip().startswith("#"), f"skip without a reason: {lines[index]}"


def test_checkov_on_the_prod_plan(prod_plan: dict[str, Any]) -> None:
    """The plan has the values HCL only names: checkov's terraform_plan framework reads them."""
    result = subprocess.run(
        [str(CHECKOV), "--file", prod_plan["__path__"], "--framework", "terraform_plan",
         "--repo-root-for-plan-enrichment", ".", "--config-file", str(CONFIG), "--output", "json"],
        cwd=REPOSITORY_ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    report = json.loads(result.stdout)
    report = report[0] if isinstance(report, list) else report
    failed = {(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]}

    assert report["check_type"] == "terraform_plan"
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["resource_count"] > 50
    assert failed == set()
