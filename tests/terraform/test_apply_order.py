"""Every resource that names another managed resource waits for it in Terraform's apply graph.

On a first `terraform apply`, resources the apply graph does not order start at the same time:
an object put into a bucket it does not wait for fails with NoSuchBucket. What orders them is a
reference, and a module output that rebuilds a name from strings carries none. The check reads
each environment's plan and its apply graph (`terraform graph -type=apply`, saved by `make
plan`, etl_local.apply_graph); the seeded test puts back outputs built from strings and shows
that both the check and the local deployment (which applies in the graph's order) fail on it.
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from hcl_tree import REPOSITORY_ROOT
from plan_json import load_plan
from terraform_copy import seed, seeded_session

from etl_local.apply_graph import COINCIDENCES, names, unordered
from etl_local.deploy import DeploymentFailed, LocalDeployment
from etl_local.plan import LocalPlan
from etl_local.server import LocalAwsServer
from etl_local.settings import LocalSettings
from tools.terraform_plan import LOCAL_ENV

ENVIRONMENTS = [*sorted(p.stem for p in (REPOSITORY_ROOT / "envs").glob("*.tfvars")), LOCAL_ENV]
SCRIPT = "module.glue_job.aws_s3_object.script"
ARTIFACTS_BUCKET = 'module.storage.aws_s3_bucket.this["artifacts"]'


def _plan(env: str, scratch: Path) -> LocalPlan:
    document = load_plan(env, scratch)
    return LocalPlan(document, Path(document["__path__"]))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_resource_naming_another_is_ordered_after_it(
    env: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    plan = _plan(env, tmp_path_factory.mktemp(f"plan-{env}"))

    assert [str(problem) for problem in unordered(plan.managed, plan.apply_graph)] == []
    # and the check has something to check: the script names its bucket, functions name
    # buckets, tables, the workgroup and the topic
    named = names(plan.managed)
    assert ARTIFACTS_BUCKET in named[SCRIPT]
    assert ARTIFACTS_BUCKET in plan.apply_graph.waits_for(SCRIPT)
    assert sum(len(others) for others in named.values()) > 40


def test_outputs_rebuilt_from_strings_fail_the_check_and_the_local_deployment(
    tmp_path: Path,
) -> None:
    # given the storage module's outputs as they were: names and ARNs rebuilt from strings
    with seeded_session(tmp_path) as (root, session):
        outputs = (root / "modules" / "storage" / "outputs.tf").read_text(encoding="utf-8")
        seed(
            root,
            "modules/storage/outputs.tf",
            outputs[outputs.index('output "bucket_names"') :],
            'output "bucket_names" {\n  description = "x"\n  value = local.bucket_names\n}\n\n'
            'output "bucket_arns" {\n  description = "x"\n  value = local.bucket_arns\n}\n',
        )
        plan_path = tmp_path / "plan-local.json"
        session.plan(root / "local" / "terraform" / "local.tfvars", plan_path)
    plan = LocalPlan(json.loads(plan_path.read_text(encoding="utf-8")), plan_path)

    # then the check names the script object and its bucket
    problems = {(p.resource, p.named) for p in unordered(plan.managed, plan.apply_graph)}
    assert (SCRIPT, ARTIFACTS_BUCKET) in problems
    assert ARTIFACTS_BUCKET not in plan.apply_graph.waits_for(SCRIPT)

    # and the local deployment, in the graph's order, fails as a first terraform apply does
    settings = LocalSettings(plan_path=plan_path)
    server = LocalAwsServer()
    server.start()
    try:

        def client(service: str) -> object:
            return boto3.client(  # type: ignore[call-overload]
                service,
                endpoint_url=server.endpoint_url,
                region_name=settings.region,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )

        with pytest.raises(DeploymentFailed) as failure:
            LocalDeployment(client, settings).apply()
    finally:
        server.stop()
    assert f"Error: creating {SCRIPT}: NoSuchBucket" in str(failure.value)


def test_every_coincidence_says_why() -> None:
    for (resource_type, argument), reason in COINCIDENCES.items():
        assert resource_type.startswith("aws_") and argument and len(reason) > 40
