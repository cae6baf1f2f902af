"""Each step module reads exactly the environment variables its STEPS row declares."""

from __future__ import annotations

import ast
import importlib
import re
import sys
from pathlib import Path
from typing import Any

import pytest

import etl_lambdas
from etl_lambdas.config import read_environment
from etl_lambdas.errors import ConfigurationError
from etl_lambdas.steps import STEPS

PACKAGE = Path(etl_lambdas.__file__).parent
STEP_MODULES = sorted({spec.handler.rsplit(".", 1)[0] for spec in STEPS.values()})


def _declared(module: str) -> set[str]:
    names = [set(s.environment) for s in STEPS.values() if s.handler.startswith(module + ".")]
    assert all(n == names[0] for n in names), f"steps sharing {module} disagree on variables"
    return names[0]


def _read_names(path: Path) -> set[str]:
    """String arguments of every read_environment(...) call in a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        arg.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", getattr(node.func, "attr", None)) == "read_environment"
        for arg in node.args
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
    }


@pytest.mark.parametrize("module", STEP_MODULES)
def test_cold_start_without_environment_names_exactly_the_declared_variables(
    module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in {n for spec in STEPS.values() for n in spec.environment}:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delitem(sys.modules, module, raising=False)
    declared = _declared(module)
    if not declared:
        importlib.import_module(module)
        return
    with pytest.raises(ConfigurationError) as raised:
        importlib.import_module(module)
    named = set(re.findall(r"[A-Z][A-Z0-9_]+", str(raised.value).split(":", 1)[1]))
    assert named == declared


@pytest.mark.parametrize("module", STEP_MODULES)
def test_module_source_reads_only_declared_variables(module: str) -> None:
    path = PACKAGE / f"{module.rsplit('.', 1)[1]}.py"
    assert _read_names(path) == _declared(module)


def test_only_config_touches_the_environment() -> None:
    offenders = []
    for path in PACKAGE.glob("*.py"):
        if path.name == "config.py":
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"\benviron\b|\bgetenv\b", text):
            offenders.append(path.name)
    assert offenders == []


def test_read_environment_rejects_empty_values_and_names_all_missing() -> None:
    with pytest.raises(ConfigurationError, match="A, C"):
        read_environment("A", "B", "C", environ={"A": " ", "B": "x"})
    assert read_environment("B", environ={"B": " x "}) == {"B": "x"}


def test_invalid_values_fail_at_cold_start(load_step: Any) -> None:
    with pytest.raises(ConfigurationError, match="MAX_BACKFILL_DAYS"):
        load_step("plan", PIPELINE_TIME_ZONE="Europe/Brussels", MAX_BACKFILL_DAYS="zero")
    with pytest.raises(ConfigurationError, match="PIPELINE_TIME_ZONE"):
        load_step("plan", PIPELINE_TIME_ZONE="Mars/Olympus", MAX_BACKFILL_DAYS="3")
