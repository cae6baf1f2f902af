"""The saved plan of an environment (build/plan-<env>.json), made fresh when it is stale."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hcl_tree import REPOSITORY_ROOT

from tools.terraform_plan import BUILD_DIR, env_var_file, is_fresh, plan_session


def load_plan(env: str, scratch: Path) -> dict[str, Any]:
    """`make plan`'s output when up to date, else a new plan written under `scratch`."""
    plan_json = BUILD_DIR / f"plan-{env}.json"
    if not is_fresh(plan_json):
        plan_json = scratch / f"plan-{env}.json"
        with plan_session(REPOSITORY_ROOT, scratch) as session:
            session.plan(env_var_file(env), plan_json)
    plan: dict[str, Any] = json.loads(plan_json.read_text(encoding="utf-8"))
    plan["__path__"] = str(plan_json)
    return plan
