"""The saved plan of an environment (build/plan-<env>.json), made fresh when it is stale."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hcl_tree import REPOSITORY_ROOT

from tools.terraform_plan import BUILD_DIR, plan_session

# What a plan is computed from: newer than the saved plan means the plan is stale.
_PLAN_INPUTS = ("*.tf", "modules/**/*.tf", "envs/*.tfvars", "asl/*", "glue/*",
                "tools/offline_aws_provider/*.py", "tools/terraform_plan.py")  # fmt: skip


def _is_fresh(plan_json: Path) -> bool:
    if not plan_json.is_file():
        return False
    inputs = [p for pattern in _PLAN_INPUTS for p in REPOSITORY_ROOT.glob(pattern)]
    inputs.append(BUILD_DIR / "lambda.zip")
    saved = plan_json.stat().st_mtime
    return all(p.stat().st_mtime <= saved for p in inputs if p.is_file())


def load_plan(env: str, scratch: Path) -> dict[str, Any]:
    """`make plan`'s output when up to date, else a new plan written under `scratch`."""
    plan_json = BUILD_DIR / f"plan-{env}.json"
    if not _is_fresh(plan_json):
        plan_json = scratch / f"plan-{env}.json"
        with plan_session(REPOSITORY_ROOT, scratch) as session:
            session.plan(REPOSITORY_ROOT / "envs" / f"{env}.tfvars", plan_json)
    plan: dict[str, Any] = json.loads(plan_json.read_text(encoding="utf-8"))
    plan["__path__"] = str(plan_json)
    return plan
