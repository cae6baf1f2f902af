"""The steps declaration: every step's handler exists, and reads exactly its declared variables."""

from __future__ import annotations

import ast
import importlib
import re
import sys
from pathlib import Path

import pytest

from etl_lambdas.errors import ConfigurationError
from etl_lambdas.steps import STEPS, StepDeclarationError, load_steps

ALL_NAMES = {name for spec in STEPS.values() for name in spec.environment}


@pytest.mark.parametrize("step", sorted(STEPS))
def test_cold_start_without_environment_names_exactly_the_declared_variables(
    step: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = STEPS[step]
    for name in ALL_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delitem(sys.modules, spec.module, raising=False)
    if not spec.environment:
        module = importlib.import_module(spec.module)
    else:
        with pytest.raises(ConfigurationError) as raised:
            importlib.import_module(spec.module)
        named = set(re.findall(r"[A-Z][A-Z0-9_]+", str(raised.value).split(":", 1)[1]))
        assert named == set(spec.environment)
        for name in spec.environment:
            monkeypatch.setenv(name, _valid_value(name))
        module = importlib.import_module(spec.module)
    assert callable(getattr(module, spec.handler.rpartition(".")[2]))


def _valid_value(name: str) -> str:
    return {
        "PIPELINE_TIME_ZONE": "Europe/Brussels",
        "SOURCE_CRAWLERS": '{"traffic": "lake-dev-ods-traffic"}',
        "ATHENA_ENGINE_VERSION": "DuckDB",
        "ARRIVAL_DEADLINES": '{"traffic": "02:00"}',
    }.get(name, "3")


@pytest.mark.parametrize("step", sorted(STEPS))
def test_handler_modules_leave_the_environment_to_config(step: str) -> None:
    """Only etl_lambdas.config touches os.environ; a handler reads through step_environment."""
    path = Path(importlib.util.find_spec(STEPS[step].module).origin)  # type: ignore[arg-type, union-attr]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    touched = [
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv")
    ]
    assert touched == []
    calls = [
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "step_environment"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    ]
    assert calls == [step]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("write: [1]", "must map to a table"),
        ("write: {handler: os.system, environment: []}", "must be in etl_lambdas.steps"),
        ("write: {handler: etl_lambdas.steps.write.handler, environment: A}", "list of names"),
        (
            "write: {handler: etl_lambdas.steps.write.handler, environment: [], memory: 1}",
            "unknown",
        ),
        ("[]", "mapping of step names"),
    ],
)
def test_a_malformed_declaration_is_one_clear_error(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "steps.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(StepDeclarationError, match=message):
        load_steps(path)
