"""A moto server on 127.0.0.1 with the local Athena and crawler wired in, for tests/local.

The server runs once per session; each module installs the patches (S3 served from a
disk-backed object store, as in the runtime) and removes them at its end (other test
modules keep moto's stock behaviour); each test starts from a reset moto and an empty
store. No fixture here is autouse, so other tests in this folder are unaffected.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from local_aws_support import BUCKET, REGION, RESULTS_BUCKET, WORKGROUP, Aws, LocalServices
from moto.server import ThreadedMotoServer

from etl_local import moto_patches, s3_disk
from etl_local.athena import AthenaEngine
from etl_local.crawler import LocalCrawler
from etl_local.object_access import allow_all
from etl_local.object_store import ObjectStore


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"{host}:{port}"
    server.stop()


@pytest.fixture
def executing_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto server of its own that executes state machines (MOTO_PORT: the executor's
    clients call it back). moto's configuration is process-global: it is set back to moto's
    default at the end, or a later mock_aws() test in this worker would run its machines."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    port = server.get_host_and_port()[1]
    monkeypatch.setenv("MOTO_PORT", str(port))
    endpoint = f"http://127.0.0.1:{port}"
    _configure(endpoint, execute_state_machine=True)
    try:
        yield endpoint
    finally:
        _configure(endpoint, execute_state_machine=False)
        server.stop()


def _configure(endpoint: str, *, execute_state_machine: bool) -> None:
    request = urllib.request.Request(
        f"{endpoint}/moto-api/config",
        data=json.dumps(
            {"stepfunctions": {"execute_state_machine": execute_state_machine}}
        ).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=10).close()


@pytest.fixture(scope="module")
def local_services(
    moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalServices]:
    objects = ObjectStore(tmp_path_factory.mktemp("lake") / "s3")
    disk = s3_disk.install(objects)
    engine = AthenaEngine(objects, region=REGION)
    crawler = LocalCrawler(objects)
    try:
        with moto_patches.install(engine=engine, crawler=crawler):
            yield LocalServices(moto_endpoint, engine, crawler, objects)
    finally:
        engine.close()
        disk.uninstall()
        objects.close()


@pytest.fixture
def aws(local_services: LocalServices) -> Iterator[Aws]:
    """Clients on a freshly reset moto: lake and results buckets, a workgroup, faults off."""
    endpoint = f"http://{local_services.endpoint}"
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(request).close()
    local_services.objects.clear()
    local_services.engine.fail_queries_containing.clear()
    local_services.engine.authorize = allow_all
    local_services.crawler.authorize = allow_all
    local_services.crawler.inject_outcome = None
    local_services.crawler.hold = None

    def client(service: str) -> Any:
        return boto3.client(service, endpoint_url=endpoint, region_name=REGION)

    aws = Aws(local_services, client("s3"), client("glue"), client("athena"))
    for bucket in (BUCKET, RESULTS_BUCKET):
        aws.s3.create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
    aws.athena.create_work_group(
        Name=WORKGROUP,
        Configuration={
            "ResultConfiguration": {"OutputLocation": f"s3://{RESULTS_BUCKET}/athena/"},
            # As the project deploys it: an enforcing workgroup fails every CTAS that sets
            # external_location (test_athena's workgroup tests create one of their own).
            "EnforceWorkGroupConfiguration": False,
        },
    )
    yield aws
