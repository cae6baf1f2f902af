"""tflint and its AWS ruleset (built by `make setup` from the Go module proxy) with .tflint.hcl:
the repository is clean, and it fails on defects that Terraform's own validate, and the
offline plan, accept."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from hcl_tree import REPOSITORY_ROOT
from terraform_copy import copy_configuration, seed, seeded_session

from tools.terraform_plan import env_var_file


def makefile_setting(name: str) -> str:
    """The versions the Makefile pins are the one declaration of where the binaries are."""
    found = re.search(
        rf"^{name} := (\S+)$", (REPOSITORY_ROOT / "Makefile").read_text(), re.MULTILINE
    )
    assert found is not None, name
    return found.group(1)


TFLINT = (
    REPOSITORY_ROOT / ".tools" / f"tflint-{makefile_setting('TFLINT_VERSION')}" / "bin" / "tflint"
)
PLUGIN_DIR = (
    REPOSITORY_ROOT / ".tools" / f"tflint-plugins-aws-{makefile_setting('TFLINT_AWS_VERSION')}"
)
CONFIG = REPOSITORY_ROOT / ".tflint.hcl"

UNUSED_VARIABLE = """
variable "retention_days" {
  description = "Declared, never read: Terraform accepts it, the plan ignores it."
  type        = number
  default     = 7
}
"""


def tflint(root: Path) -> subprocess.CompletedProcess[str]:
    for binary in (TFLINT, PLUGIN_DIR / "tflint-ruleset-aws"):
        if not binary.is_file():
            pytest.fail(f"{binary} is missing: `make setup` builds it")
    return subprocess.run(
        [str(TFLINT), "--recursive", "--config", str(CONFIG), "--format", "compact"],
        cwd=root,
        env={**os.environ, "TFLINT_PLUGIN_DIR": str(PLUGIN_DIR)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_repository_is_clean(tmp_path: Path) -> None:
    result = tflint(copy_configuration(tmp_path / "configuration"))

    assert (result.returncode, result.stdout) == (0, ""), result.stdout + result.stderr


def test_defects_terraform_validate_accepts_fail_tflint(tmp_path: Path) -> None:
    with seeded_session(tmp_path) as (root, session):
        # a variable nothing reads, and an interpolation-only expression (deprecated syntax)
        (root / "modules" / "athena" / "variables.tf").write_text(
            (root / "modules" / "athena" / "variables.tf").read_text() + UNUSED_VARIABLE
        )
        seed(
            root,
            "modules/athena/main.tf",
            "name          = var.name_prefix",
            'name          = "${var.name_prefix}"',
        )
        session.validate(echo=False)  # Terraform itself has nothing to say

        result = tflint(root)

    assert result.returncode != 0
    assert 'variable "retention_days" is declared but not used (terraform_unused_declarations)' in (
        result.stdout
    )
    assert "(terraform_deprecated_interpolation)" in result.stdout
    assert "modules/athena/main.tf" in result.stdout


def test_an_invalid_lambda_runtime_passes_the_offline_plan_and_fails_tflint(
    tmp_path: Path,
) -> None:
    with seeded_session(tmp_path) as (root, session):
        # a runtime AWS Lambda does not have: Terraform and the offline provider accept the string
        seed(root, "main.tf", 'runtime = "python3.12"', 'runtime = "python3.21"')
        session.plan(env_var_file("dev", root), tmp_path / "plan-dev.json")
        plan = json.loads((tmp_path / "plan-dev.json").read_text(encoding="utf-8"))
        planned = [
            change["change"]["after"]["runtime"]
            for change in plan["resource_changes"]
            if change["type"] == "aws_lambda_function"
        ]
        assert planned and set(planned) == {"python3.21"}

        result = tflint(root)

    assert result.returncode != 0
    assert '"python3.21" is an invalid value as runtime (aws_lambda_function_invalid_runtime)' in (
        result.stdout
    ), result.stdout + result.stderr
