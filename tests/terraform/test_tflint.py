"""tflint (built by `make setup` from the Go module proxy) with .tflint.hcl: the repository is
clean, and it fails on defects that Terraform's own validate accepts."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from hcl_tree import REPOSITORY_ROOT
from terraform_copy import copy_configuration, seed, seeded_session

# The version the Makefile pins is the one declaration of where the binary is.
TFLINT_VERSION = re.search(
    r"^TFLINT_VERSION := (\S+)$", (REPOSITORY_ROOT / "Makefile").read_text(), re.MULTILINE
)
assert TFLINT_VERSION is not None
TFLINT = REPOSITORY_ROOT / ".tools" / f"tflint-{TFLINT_VERSION.group(1)}" / "bin" / "tflint"
CONFIG = REPOSITORY_ROOT / ".tflint.hcl"

UNUSED_VARIABLE = """
variable "retention_days" {
  description = "Declared, never read: Terraform accepts it, the plan ignores it."
  type        = number
  default     = 7
}
"""


def tflint(root: Path) -> subprocess.CompletedProcess[str]:
    if not TFLINT.is_file():
        pytest.fail(f"{TFLINT} is missing: `make setup` builds it")
    return subprocess.run(
        [str(TFLINT), "--recursive", "--config", str(CONFIG), "--format", "compact"],
        cwd=root,
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
