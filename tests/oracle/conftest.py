"""The oracle's fixtures: one Trino server per test session, one local lake per module.

The server is shared by the session's xdist workers (a file lock in a directory named after
the session's main process; the first worker to need it starts it) and stopped at the
session's end (tests/conftest.py), or by its watcher if the session dies. Each module gets a
local AWS (moto's server with the local Athena, S3 served from a disk-backed store), and
the server gets a catalog over that endpoint's Glue catalog and S3.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer
from oracle import REGION, Lake
from trino_session import owner_pid, state_dir

from etl_local import moto_patches, s3_disk
from etl_local.athena import AthenaEngine
from etl_local.object_store import ObjectStore
from etl_local.trino import RunningServer, TrinoClient, attach_lake, ensure_running, installed

# What starting the server took, for the session's report (seconds; absent when reused).
STARTS: list[float] = []


@pytest.fixture(scope="session")
def trino_server() -> RunningServer:
    installation = installed()
    if installation is None:
        pytest.fail(
            "Trino is not installed: run `make setup` (it fetches io.trino:trino-server into "
            "~/.cache/lakepipe, outside the repository)"
        )
    server = ensure_running(installation, state_dir(), owner_pid=owner_pid())
    if server.started_seconds is not None:
        STARTS.append(server.started_seconds)
        print(f"\nTrino {server.version} started in {server.started_seconds:.1f} s")
    return server


@pytest.fixture(scope="module")
def lake(trino_server: RunningServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # moto's backends live in the process, across servers: each module starts from an empty
    # account (moto's reset API).
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))
    objects = ObjectStore(tmp_path_factory.mktemp("oracle-lake") / "s3")
    disk = s3_disk.install(objects)
    engine = AthenaEngine(objects, region=REGION)
    patches = moto_patches.install(engine=engine, step_functions=False)
    try:

        def client(service: str) -> object:
            return boto3.client(service, endpoint_url=endpoint, region_name=REGION)

        began = time.monotonic()
        trino = TrinoClient(trino_server.url)
        catalog = attach_lake(trino, endpoint, REGION, "testing", "testing")
        trino.catalog = catalog
        lake = Lake(client("s3"), client("glue"), client("athena"), trino)
        lake.create_buckets_and_databases()
        print(f"\noracle lake on {endpoint}: catalog {catalog} ({time.monotonic() - began:.1f} s)")
        yield lake
    finally:
        patches.uninstall()
        engine.close()
        disk.uninstall()
        objects.close()
        server.stop()
