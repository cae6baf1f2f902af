"""The pipeline's Lambda steps: one handler module per step, declared in steps.yaml.

`STEPS` is the Python reading of steps.yaml, the one declaration of the steps (Terraform
reads the same file): the handler modules read their environment through it, and the local
runtime and the tests list the steps from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

DECLARATION = Path(__file__).with_name("steps.yaml")
# What invokes a step's function: a state of the machines (the default), or an EventBridge
# schedule of its own (modules/monitoring).
INVOKERS = ("state machine", "schedule")


class StepDeclarationError(ValueError):
    """steps.yaml is malformed (raised at import, so a broken declaration fails every test)."""


@dataclass(frozen=True)
class StepSpec:
    name: str
    handler: str
    description: str
    environment: tuple[str, ...]
    invoked_by: str = INVOKERS[0]

    @property
    def module(self) -> str:
        return self.handler.rpartition(".")[0]

    @property
    def function_arn_placeholder(self) -> str:
        """The state machine templates' placeholder for this step's function ARN."""
        return f"{self.name.replace('-', '_')}_function_arn"


def _spec(name: object, entry: Any) -> StepSpec:
    if not isinstance(name, str) or not isinstance(entry, dict):
        raise StepDeclarationError(f"{DECLARATION}: step {name!r} must map to a table")
    unknown = set(entry) - {"handler", "description", "environment", "invoked_by"}
    if unknown:
        raise StepDeclarationError(
            f"{DECLARATION}: step {name!r}: unknown key(s) {sorted(unknown)}"
        )
    handler, environment = entry.get("handler"), entry.get("environment")
    if not isinstance(handler, str) or not handler.startswith("etl_lambdas.steps."):
        raise StepDeclarationError(
            f"{DECLARATION}: step {name!r}: handler {handler!r} must be in etl_lambdas.steps"
        )
    if not isinstance(environment, list) or not all(isinstance(n, str) for n in environment):
        raise StepDeclarationError(
            f"{DECLARATION}: step {name!r}: environment must be a list of names"
        )
    invoked_by = entry.get("invoked_by", INVOKERS[0])
    if invoked_by not in INVOKERS:
        raise StepDeclarationError(
            f"{DECLARATION}: step {name!r}: invoked_by {invoked_by!r} must be one of {INVOKERS}"
        )
    return StepSpec(
        name, handler, str(entry.get("description", "")), tuple(environment), invoked_by
    )


@cache
def load_steps(path: Path = DECLARATION) -> dict[str, StepSpec]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or not document:
        raise StepDeclarationError(f"{path}: expected a mapping of step names")
    return {str(name): _spec(name, entry) for name, entry in document.items()}


STEPS: dict[str, StepSpec] = load_steps()
