"""The local deployment applies the plan as `terraform apply` would: in the apply graph's order,
independent resources at the same time, a resource that another of its wave names after it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from etl_local import deploy
from etl_local.apply_graph import ApplyGraph, PlannedResource
from etl_local.deploy import DeploymentFailed, LocalDeployment
from etl_local.server import LocalAwsServer
from etl_local.settings import LocalSettings

SETTINGS = LocalSettings()
SCRIPT = "module.glue_job.aws_s3_object.script"
ARTIFACTS_BUCKET = 'module.storage.aws_s3_bucket.this["artifacts"]'


@pytest.fixture
def clients() -> Iterator[Any]:
    server = LocalAwsServer()
    server.start()

    def client(service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=server.endpoint_url,
            region_name=SETTINGS.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    try:
        yield client
    finally:
        server.stop()


def test_the_plan_is_applied_in_the_apply_graphs_order(
    clients: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given every resource's apply recorded (start and end), each taking a moment
    lock = threading.Lock()
    spans: dict[str, tuple[float, float]] = {}
    in_flight, most_in_flight = 0, 0

    def recorded(apply: Any) -> Any:
        def applier(client: Any, resource: PlannedResource, settings: LocalSettings) -> None:
            nonlocal in_flight, most_in_flight
            with lock:
                in_flight += 1
                most_in_flight = max(most_in_flight, in_flight)
            started = time.monotonic()
            try:
                time.sleep(0.01)
                if apply is not None:
                    apply(client, resource, settings)
            finally:
                with lock:
                    in_flight -= 1
                    spans[resource.address] = (started, time.monotonic())

        return applier

    types = {resource.type for resource in SETTINGS.plan.managed}
    monkeypatch.setattr(
        deploy, "APPLIERS", {t: recorded(deploy.APPLIERS.get(t)) for t in sorted(types)}
    )

    # when the whole plan is applied to a fresh endpoint
    deployment = LocalDeployment(clients, SETTINGS)
    deployment.apply()

    # then every resource started after everything it waits for had ended
    graph = SETTINGS.plan.apply_graph
    assert set(spans) == {resource.address for resource in SETTINGS.plan.managed}
    for address, (started, _) in spans.items():
        for dependency in graph.waits_for(address):
            assert spans[dependency][1] <= started, f"{address} started before {dependency} ended"
    # independent resources ran at the same time, at most Terraform's parallelism of them
    assert 1 < most_in_flight <= deploy.PARALLELISM
    # and what the runtime needs exists: the script in its bucket, the functions, the machines
    s3 = clients("s3")
    script = SETTINGS.plan.glue_job.script_location.removeprefix("s3://").split("/", 1)
    assert s3.head_object(Bucket=script[0], Key=script[1])["ContentLength"] > 0
    names = {f["FunctionName"] for f in clients("lambda").list_functions()["Functions"]}
    assert names == {f.name for f in SETTINGS.plan.functions.values()}
    machines = clients("stepfunctions").list_state_machines()["stateMachines"]
    assert {m["name"] for m in machines} == {m.name for m in SETTINGS.plan.state_machines.values()}
    # and applying again changes nothing and applies nothing twice
    deployment.apply()


def test_a_missing_edge_fails_as_on_a_first_terraform_apply(
    clients: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the apply graph as the storage module's outputs rebuilt from strings made it: the
    # script waits for no bucket (tests/terraform/test_apply_order.py plans that case)
    settings = LocalSettings()
    dependencies = dict(settings.plan.apply_graph.dependencies)
    assert ARTIFACTS_BUCKET in dependencies[SCRIPT]
    dependencies[SCRIPT] = ()
    settings.plan.__dict__["apply_graph"] = ApplyGraph(dependencies)

    # when the plan is applied to a fresh endpoint, then the script is put into a bucket that
    # does not exist yet, and S3 refuses it as AWS does
    with pytest.raises(DeploymentFailed) as failure:
        LocalDeployment(clients, settings).apply()
    assert f"Error: creating {SCRIPT}: NoSuchBucket" in str(failure.value)
