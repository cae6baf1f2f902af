"""Lambda's limits hold locally as Lambda enforces them: a function's timeout stops its handler
mid-way, its memory size kills the environment, a runtime that exits fails the invocation,
and after each the next invocation starts a new environment; a crash point kills an
environment right after a named AWS call."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from local_aws_support import modules_on_path

from etl_lambdas.steps import STEPS
from etl_local.lambda_router import LambdaRouter
from etl_local.plan import PlannedFunction
from etl_local.settings import LocalSettings

WAIT = 30  # seconds: only a bound on a broken run, never reached by a passing one

HANDLERS = """
import os
import pathlib
import sys
import time

import boto3

print("init of", os.environ["AWS_LAMBDA_FUNCTION_NAME"])


def sleeps(event, context):
    marks = pathlib.Path(event["marks"])
    print("before the sleep")
    (marks / "before").touch()
    time.sleep(event["seconds"])
    (marks / "after").touch()
    return {"pid": os.getpid()}


def holds_memory(event, context):
    data = b"x" * (event["mb"] * 1024 * 1024)
    time.sleep(event["seconds"])
    return {"pid": os.getpid(), "held": len(data)}


def peaks_then_frees(event, context):
    data = b"x" * (event["mb"] * 1024 * 1024)
    del data
    return {"pid": os.getpid()}


def exits(event, context):
    sys.exit(event["status"])


def writes(event, context):
    s3 = boto3.client("s3")
    for key in ("one", "two", "three"):
        s3.put_object(Bucket=event["bucket"], Key=key, Body=b"x")
    return {"written": 3}
"""


@dataclass(frozen=True)
class LimitedSettings(LocalSettings):
    """The local plan's functions with a test's memory size, and a short timeout for the step
    whose timeout is tested (the others only bound a broken test)."""

    timed_step: str = "begin"
    timeout: int = 1
    memory_size: int = 128

    def function(self, step: str) -> PlannedFunction:
        planned = super().function(step)
        timeout = self.timeout if step == self.timed_step else WAIT
        return replace(planned, timeout=timeout, memory_size=self.memory_size)


SETTINGS = LimitedSettings()


@pytest.fixture
def router(tmp_path: Path) -> Iterator[LambdaRouter]:
    name = "function_limits_handlers"
    handlers = {
        "begin": "sleeps",
        "write": "holds_memory",
        "publish": "peaks_then_frees",
        "finish": "exits",
        "register": "writes",
    }
    steps = {step: replace(STEPS[step], handler=f"{name}.{h}") for step, h in handlers.items()}
    with modules_on_path(tmp_path, {name: HANDLERS}):
        router = LambdaRouter(
            SETTINGS, "http://127.0.0.1:1", steps=steps, log_path=tmp_path / "lambda.log"
        )
        try:
            yield router
        finally:
            router.close()


def _invoke(router: LambdaRouter, step: str, event: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    _, response = router.invoke(SETTINGS.function_name(step), json.dumps(event).encode())
    return response, json.loads(response["Payload"].read())


def _block(log: Path, request_id_message: str) -> str:
    request_id = re.search(r"RequestId: (\S+)", request_id_message)
    assert request_id, request_id_message
    match = re.search(
        rf"START RequestId: {request_id.group(1)} .*?REPORT RequestId: {request_id.group(1)}[^\n]*",
        log.read_text("utf-8"),
        re.S,
    )
    assert match, f"no log block for {request_id.group(1)}"
    return match.group(0)


def test_a_timeout_stops_the_handler_mid_way_and_resets_the_environment(
    router: LambdaRouter, tmp_path: Path
) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    started = time.monotonic()

    response, error = _invoke(router, "begin", {"marks": str(marks), "seconds": WAIT})

    # the invocation failed as Lambda fails it (what Step Functions names the error after)
    assert time.monotonic() - started < WAIT
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Sandbox.Timedout"
    assert re.fullmatch(
        r"RequestId: [0-9a-f-]{36} Error: Task timed out after 1\.00 seconds",
        error["errorMessage"],
    )
    # the handler was stopped mid-way: what it did before the timeout stays, nothing after
    time.sleep(0.2)
    assert (marks / "before").exists() and not (marks / "after").exists()
    # its log block has what it printed before, and Lambda's own line
    block = _block(tmp_path / "lambda.log", error["errorMessage"])
    assert "before the sleep" in block
    assert "Task timed out after 1.00 seconds" in block
    # and the next invocation starts a new environment, which works
    _, result = _invoke(router, "begin", {"marks": str(marks), "seconds": 0})
    assert "pid" in result, result
    assert router.environments("begin").cold_starts == 2


def test_more_memory_than_the_function_has_kills_its_environment(
    router: LambdaRouter, tmp_path: Path
) -> None:
    # held: the sampling sees it while the handler runs
    response, error = _invoke(router, "write", {"mb": 200, "seconds": WAIT})
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.OutOfMemory"
    assert re.fullmatch(
        r"RequestId: [0-9a-f-]{36} Error: Runtime exited with error: signal: killed",
        error["errorMessage"],
    )
    assert "Max Memory Used: 128 MB" in _block(tmp_path / "lambda.log", error["errorMessage"])
    assert router.environments("write").environment_count == 0

    # a peak between two samples fails the invocation too (the environment's peak is checked)
    _, error = _invoke(router, "publish", {"mb": 200})
    assert error["errorType"] == "Runtime.OutOfMemory"
    # within the limit, the same functions succeed
    _, result = _invoke(router, "publish", {"mb": 1})
    assert "pid" in result, result
    _, result = _invoke(router, "write", {"mb": 1, "seconds": 0})
    assert result["held"] == 1024 * 1024, result


def test_a_runtime_that_exits_fails_the_invocation_with_its_status(router: LambdaRouter) -> None:
    response, error = _invoke(router, "finish", {"status": 3})

    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.ExitError"
    assert error["errorMessage"].endswith("Error: Runtime exited with error: exit status 3")
    assert router.environments("finish").environment_count == 0


def test_an_error_at_import_fails_the_invocation_and_the_environment(tmp_path: Path) -> None:
    sources = {
        "broken_at_import": "raise KeyError('PIPELINE_TIME_ZONE')\n",
        "missing_dependency": "import not_installed_anywhere\n",
    }
    steps = {
        "begin": replace(STEPS["begin"], handler="broken_at_import.handler"),
        "write": replace(STEPS["write"], handler="missing_dependency.handler"),
        "publish": replace(STEPS["publish"], handler="json.no_such_handler"),
    }
    with modules_on_path(tmp_path, sources):
        router = LambdaRouter(SETTINGS, "http://127.0.0.1:1", steps=steps)
        try:
            errors = {step: _invoke(router, step, {})[1] for step in steps}
        finally:
            router.close()

    # as the Python runtime reports them: the exception's class, or its own error types
    assert errors["begin"]["errorType"] == "KeyError"
    assert errors["write"]["errorType"] == "Runtime.ImportModuleError"
    assert errors["write"]["errorMessage"].startswith(
        "Unable to import module 'missing_dependency': No module named"
    )
    assert errors["publish"]["errorType"] == "Runtime.HandlerNotFound"


def test_a_crash_point_kills_the_environment_right_after_the_named_call(
    router: LambdaRouter, moto_endpoint: str
) -> None:
    endpoint = f"http://{moto_endpoint}"
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    s3.create_bucket(Bucket="crash-points")
    crashing = LambdaRouter(SETTINGS, endpoint, steps={"register": router._steps["register"]})
    try:
        # when the step's next invocation is armed to die after its second PutObject
        crashing.crash_after("register", "s3.PutObject#2")
        response, error = _invoke(crashing, "register", {"bucket": "crash-points"})
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="crash-points")["Contents"]]
        # then it died there: the second write happened, the third never did
        assert response["FunctionError"] == "Unhandled"
        assert error["errorType"] == "Runtime.ExitError"
        assert error["errorMessage"].endswith("Runtime exited with error: signal: killed")
        assert sorted(keys) == ["one", "two"]
        # and only that invocation: the next one runs to its end in a new environment
        _, result = _invoke(crashing, "register", {"bucket": "crash-points"})
        assert result == {"written": 3}
        assert crashing.environments("register").cold_starts == 2
    finally:
        crashing.close()
