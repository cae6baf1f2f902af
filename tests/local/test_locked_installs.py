"""Every environment installs from a lock, and the README's commands are installed by the
set-up the README gives for them."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")


def _locked_closure(extras: tuple[str, ...]) -> set[str]:
    """Distribution names uv.lock installs for the project with these extras."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    packages = {p["name"]: p for p in lock["package"]}
    project = packages["lakepipe"]
    pending = [d["name"] for d in project["dependencies"]]
    for extra in extras:
        pending += [d["name"] for d in project["optional-dependencies"][extra]]
    seen: set[str] = {"lakepipe"}
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        package = packages[name]
        pending += [d["name"] for d in package.get("dependencies", [])]
        for extra_dependencies in package.get("optional-dependencies", {}).values():
            pending += [d["name"] for d in extra_dependencies]
    return seen


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# `.venv/bin/python` is the environment's interpreter, there after either set-up.
README_TOOLS = sorted(set(re.findall(r"\.venv/bin/([a-z_-]+)", README)) - {"python"})


@pytest.mark.parametrize("tool", README_TOOLS)
def test_a_readme_command_is_installed_by_make_run_unless_it_says_make_setup(tool: str) -> None:
    scripts = importlib.metadata.entry_points(group="console_scripts", name=tool)
    assert scripts, f"{tool} is no console script of the environment"
    distribution = _normalized(next(iter(scripts)).dist.name)  # type: ignore[union-attr]
    if distribution in {_normalized(n) for n in _locked_closure(("local",))}:
        return  # `make run` installs it
    for line in README.splitlines():
        if f".venv/bin/{tool}" in line:
            assert "make setup" in line, (
                f"README: `.venv/bin/{tool}` ({distribution}) is installed by `make setup`, not "
                f"by `make run`; say so where it is used: {line.strip()}"
            )


def test_the_run_environment_is_the_lock_without_the_dev_extra() -> None:
    run, dev = _locked_closure(("local",)), _locked_closure(("local", "dev"))
    assert {"moto", "duckdb", "pyspark", "boto3"} <= run
    assert {"pytest", "ruff", "mypy"} <= dev - run


def test_every_install_in_the_makefile_is_from_a_lock() -> None:
    installs = [
        line.strip()
        for line in MAKEFILE.splitlines()
        if re.search(r"\b(pip install|pip sync|uv sync|uv pip install|uv pip sync)\b", line)
    ]
    assert installs
    for line in installs:
        locked = (
            "--require-hashes" in line
            or "--locked" in line
            # the throwaway environment of `make test-latest`, resolved on purpose
            or "LATEST" in line
            # the project itself, editable, into that environment
            or line.endswith("--no-deps -e .")
        )
        assert locked, f"an install that is not from a lock: {line}"
