"""In-process Lambda functions run side by side, each with its own environment variables
and its own role's credentials, as functions in sandboxes of their own do on AWS."""

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
from etl_local import thread_environ
from etl_local.lambda_router import LambdaRouter
from etl_local.settings import LocalSettings

SETTINGS = LocalSettings()
WAIT = 30  # seconds: only a bound on a broken run, never reached by a passing one

HANDLERS = """
import os

import boto3
# Not reloaded with this module at the router's cold start: the test holds the same barrier.
from function_environment_sync import both_inside


def handler(event, context):
    # Both invocations get here before either goes on: they run at the same time.
    both_inside.wait(%(wait)d)
    client = boto3.client("athena")
    return {
        "workgroup": os.environ.get("ATHENA_WORKGROUP"),
        "lease_table": os.getenv("RUN_LEASE_TABLE"),
        "function": os.environ["AWS_LAMBDA_FUNCTION_NAME"],
        "listed": sorted(k for k in os.environ.copy() if k.startswith("AWS_LAMBDA_FUNCTION_N")),
        "access_key": client._request_signer._credentials.access_key,
        "remaining_ms": context.get_remaining_time_in_millis(),
    }
"""


@pytest.fixture
def function_module(tmp_path: Path) -> Iterator[str]:
    name = "function_environment_handlers"
    sources = {
        name: HANDLERS % {"wait": WAIT},
        "function_environment_sync": "import threading\nboth_inside = threading.Barrier(2)\n",
    }
    with modules_on_path(tmp_path, sources):
        yield name


def _role_credentials(step: str) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": f"ASIA{step.upper()}",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_SESSION_TOKEN": "token",
    }


def test_concurrent_functions_each_read_their_own_variables_and_credentials(
    function_module: str,
) -> None:
    # given two functions whose variables differ (write has ATHENA_WORKGROUP, begin has
    # RUN_LEASE_TABLE) and whose roles sign with different keys
    steps = {
        step: replace(STEPS[step], handler=f"{function_module}.handler")
        for step in ("write", "begin")
    }
    router = LambdaRouter(
        SETTINGS, "http://127.0.0.1:1", steps=steps, credentials=_role_credentials
    )
    router.install()
    results: dict[str, Any] = {}

    def invoke(step: str) -> None:
        _, response = router.invoke(SETTINGS.function_name(step), b"{}")
        results[step] = json.loads(response["Payload"].read())

    # when both are invoked at once, from two threads (as a Map state's iterations invoke)
    threads = [threading.Thread(target=invoke, args=(step,)) for step in steps]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT)
    finally:
        router.uninstall()

    # then both ran at the same time (a barrier inside each handler), each seeing only its
    # own variables and signing with its own role's key
    write, begin = results["write"], results["begin"]
    assert "errorType" not in write and "errorType" not in begin, results
    assert write["workgroup"] == SETTINGS.function_environment("write")["ATHENA_WORKGROUP"]
    assert write["lease_table"] is None
    assert begin["lease_table"] == SETTINGS.function_environment("begin")["RUN_LEASE_TABLE"]
    assert begin["workgroup"] is None
    assert (write["function"], begin["function"]) == (
        SETTINGS.function_name("write"),
        SETTINGS.function_name("begin"),
    )
    assert write["listed"] == begin["listed"] == ["AWS_LAMBDA_FUNCTION_NAME"]
    assert (write["access_key"], begin["access_key"]) == ("ASIAWRITE", "ASIABEGIN")
    # the context counts down from the function's timeout, as Lambda's does (the cold start
    # and the barrier took some of it)
    timeout_ms = SETTINGS.function("write").timeout * 1000
    assert 0 < write["remaining_ms"] < timeout_ms
    # and the process's environment never saw any of it
    assert "AWS_LAMBDA_FUNCTION_NAME" not in os.environ


def test_an_overlay_is_seen_by_its_own_thread_only() -> None:
    os.environ["LAKEPIPE_BASE"] = "base"
    thread_environ.install()
    seen_elsewhere: dict[str, Any] = {}
    try:
        with thread_environ.overlaid({"LAKEPIPE_MINE": "1"}, removed={"LAKEPIPE_BASE"}):
            other = threading.Thread(
                target=lambda: seen_elsewhere.update(
                    mine=os.environ.get("LAKEPIPE_MINE"), base=os.getenv("LAKEPIPE_BASE")
                )
            )
            other.start()
            other.join(WAIT)
            assert os.environ["LAKEPIPE_MINE"] == "1"
            assert "LAKEPIPE_BASE" not in os.environ
            assert "LAKEPIPE_BASE" not in os.environ.copy()
            assert ("LAKEPIPE_MINE", "1") in os.environ.items()
            with pytest.raises(KeyError):
                del os.environ["LAKEPIPE_BASE"]
            # a write stays in the overlay; an inner overlay sees the outer one
            os.environ["LAKEPIPE_WRITTEN"] = "w"
            with thread_environ.overlaid({"LAKEPIPE_INNER": "2"}):
                assert os.environ["LAKEPIPE_MINE"] == "1"
                assert os.environ["LAKEPIPE_INNER"] == "2"
                assert "LAKEPIPE_BASE" not in os.environ
            assert "LAKEPIPE_INNER" not in os.environ
        assert seen_elsewhere == {"mine": None, "base": "base"}
        assert "LAKEPIPE_WRITTEN" not in os.environ
        assert os.environ["LAKEPIPE_BASE"] == "base"
    finally:
        thread_environ.uninstall()
        del os.environ["LAKEPIPE_BASE"]
    assert type(os.environ) is os._Environ


def test_whole_copies_never_race_changes_of_the_process_environment() -> None:
    """botocore copies os.environ (its metadata fetcher) in Step Functions' executor threads,
    urllib's proxy lookup iterates its items: a key another thread removes between listing
    and reading must not fail them with KeyError."""
    errors: list[BaseException] = []
    done = threading.Event()

    def copy_until_done() -> None:
        while not done.is_set():
            try:
                os.environ.copy()
                dict(os.environ.items())
            except KeyError as error:
                errors.append(error)

    thread_environ.install()
    copier = threading.Thread(target=copy_until_done)
    copier.start()
    try:
        for _ in range(50_000):
            os.environ["LAKEPIPE_RACE"] = "1"
            del os.environ["LAKEPIPE_RACE"]
    finally:
        done.set()
        copier.join()
        thread_environ.uninstall()
    assert errors == []
