"""Local Lambda functions run in execution environments of their own, as on AWS: a process per
environment with exactly its function's variables and its role's credentials, warm between
invocations, one more when invocations of a function overlap (Lambda scales out)."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from local_aws_support import modules_on_path

from etl_lambdas.steps import STEPS
from etl_local.lambda_router import LambdaRouter
from etl_local.settings import LocalSettings

SETTINGS = LocalSettings()
WAIT = 30  # seconds: only a bound on a broken run, never reached by a passing one

HANDLERS = """
import os
import pathlib
import time

import boto3

IMPORTS = []
IMPORTS.append(os.getpid())  # once per environment: its Init phase


def report(event, context):
    # Each invocation marks itself present, then waits for the others it names (files in a
    # directory shared with the test): they run at the same time only if this returns.
    rendezvous = pathlib.Path(event["rendezvous"])
    (rendezvous / event["name"]).touch()
    deadline = time.monotonic() + %(wait)d
    while not all((rendezvous / other).exists() for other in event["others"]):
        if time.monotonic() > deadline:
            raise TimeoutError("the others never came")
        time.sleep(0.01)
    client = boto3.client("athena")
    return {
        "pid": os.getpid(),
        "imports": len(IMPORTS),
        "variables": dict(os.environ),
        "access_key": client._request_signer._credentials.access_key,
        "region": client.meta.region_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "function": context.function_name,
        "memory": context.memory_limit_in_mb,
        "local_hour": time.localtime().tm_hour,
        "utc_hour": time.gmtime().tm_hour,
    }
"""


@pytest.fixture
def function_module(tmp_path: Path) -> Iterator[str]:
    name = "function_environment_handlers"
    with modules_on_path(tmp_path, {name: HANDLERS % {"wait": WAIT}}):
        yield name


def _role_credentials(step: str) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": f"ASIA{step.upper()}",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_SESSION_TOKEN": "token",
    }


@pytest.fixture
def router(function_module: str) -> Iterator[LambdaRouter]:
    steps = {
        step: replace(STEPS[step], handler=f"{function_module}.report")
        for step in ("write", "begin")
    }
    router = LambdaRouter(
        SETTINGS, "http://127.0.0.1:1", steps=steps, credentials=_role_credentials
    )
    try:
        yield router
    finally:
        router.close()


def _invoke_together(
    router: LambdaRouter, tmp_path: Path, invocations: list[tuple[str, str]]
) -> dict[str, Any]:
    """Invoke (name, step) pairs from threads at once (as a Map state's iterations invoke);
    each waits inside its function until all are inside theirs."""
    rendezvous = tmp_path / f"rendezvous-{len(list(tmp_path.iterdir()))}"
    rendezvous.mkdir()
    names = [name for name, _ in invocations]
    results: dict[str, Any] = {}

    def invoke(name: str, step: str) -> None:
        event = {"rendezvous": str(rendezvous), "name": name, "others": names}
        _, response = router.invoke(SETTINGS.function_name(step), json.dumps(event).encode())
        results[name] = json.loads(response["Payload"].read())

    threads = [threading.Thread(target=invoke, args=pair) for pair in invocations]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT * 2)
    return results


def test_concurrent_functions_each_see_exactly_their_environment_and_credentials(
    router: LambdaRouter, tmp_path: Path
) -> None:
    # given a variable of the process that a developer's shell could hold
    os.environ["KEEP_RUNS"] = "leaked-from-elsewhere"
    try:
        # when two functions whose variables differ are invoked at once
        results = _invoke_together(router, tmp_path, [("w", "write"), ("b", "begin")])
    finally:
        del os.environ["KEEP_RUNS"]

    write, begin = results["w"], results["b"]
    assert "errorType" not in write and "errorType" not in begin, results
    # then each ran in a process of its own, at the same time
    assert write["pid"] != begin["pid"] != os.getpid()
    # with exactly its Terraform variables, Lambda's own and none of the process's
    for step, seen in (("write", write), ("begin", begin)):
        function = SETTINGS.function(step)
        variables = seen["variables"]
        assert {k: variables[k] for k in function.environment} == dict(function.environment)
        assert variables["AWS_LAMBDA_FUNCTION_NAME"] == function.name
        assert variables["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == str(function.memory_size)
        assert variables["AWS_REGION"] == SETTINGS.region
        assert variables["TZ"] == ":UTC"
        assert variables["_HANDLER"].endswith(".report")
        assert "KEEP_RUNS" not in variables
        assert not {"HOME", "PYTHONPATH", "VIRTUAL_ENV", "AWS_PROFILE"} & set(variables)
        assert seen["function"] == function.name
        assert seen["memory"] == function.memory_size
        assert seen["region"] == SETTINGS.region
        # the context counts down from the function's timeout, as Lambda's does
        assert 0 < seen["remaining_ms"] <= function.timeout * 1000
        # and its clock is UTC, as in every Lambda sandbox
        assert seen["local_hour"] == seen["utc_hour"]
    assert "ATHENA_WORKGROUP" in write["variables"] and "RUN_LEASE_TABLE" not in write["variables"]
    assert "RUN_LEASE_TABLE" in begin["variables"] and "ATHENA_WORKGROUP" not in begin["variables"]
    # each signing with its own role's key
    assert (write["access_key"], begin["access_key"]) == ("ASIAWRITE", "ASIABEGIN")


def test_an_environment_stays_warm_and_a_function_scales_out_when_invocations_overlap(
    router: LambdaRouter, tmp_path: Path
) -> None:
    # given one invocation, then another after it
    first = _invoke_together(router, tmp_path, [("one", "write")])["one"]
    second = _invoke_together(router, tmp_path, [("two", "write")])["two"]
    # then the second ran warm: the same environment, its module imported once
    assert second["pid"] == first["pid"]
    assert second["imports"] == 1
    assert router.environments("write").cold_starts == 1

    # when two invocations of the function overlap
    both = _invoke_together(router, tmp_path, [("a", "write"), ("b", "write")])

    # then a second environment was started for one of them, the first one served the other
    assert {both["a"]["pid"], both["b"]["pid"]} >= {first["pid"]}
    assert both["a"]["pid"] != both["b"]["pid"]
    assert router.environments("write").cold_starts == 2
    assert router.environments("write").environment_count == 2

    # and closing the router ends every environment
    router.close()
    assert router.environments("write").environment_count == 0
