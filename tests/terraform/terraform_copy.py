"""A scratch copy of the repository's Terraform, to seed one defect in and run Terraform on."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

from hcl_tree import REPOSITORY_ROOT

from tools.terraform_plan import PlanSession, plan_session

# Copied (a seeded defect edits them); everything else is linked.
TERRAFORM_SOURCES = ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "modules", "envs")


def copy_configuration(destination: Path) -> Path:
    destination.mkdir(parents=True)
    for entry in REPOSITORY_ROOT.iterdir():
        if entry.name.startswith("."):
            continue
        if entry.name in TERRAFORM_SOURCES:
            copy = shutil.copytree if entry.is_dir() else shutil.copy2
            copy(entry, destination / entry.name)
        else:
            (destination / entry.name).symlink_to(entry)
    return destination


def seed(root: Path, relative_path: str, old: str, new: str) -> None:
    """Replace `old` (which must occur exactly once) by `new` in one file of the copy."""
    path = root / relative_path
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{relative_path}: {old!r} occurs {text.count(old)} times"
    path.write_text(text.replace(old, new), encoding="utf-8")


@contextlib.contextmanager
def seeded_session(tmp_path: Path) -> Iterator[tuple[Path, PlanSession]]:
    """(source root, session): edit the source root, then validate/plan with the session.

    The session's scratch directory links the copy's files, so edits made after it is
    initialised are what Terraform reads.
    """
    root = copy_configuration(tmp_path / "configuration")
    with plan_session(root, tmp_path / "build") as session:
        yield root, session
