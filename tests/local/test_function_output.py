"""What an in-process Lambda function prints lands in its own invocation's log block, while
other functions run in other threads (a Map state) and the console prints meanwhile."""

from __future__ import annotations

import importlib
import json
import logging
import re
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from local_aws_support import modules_on_path

from etl_lambdas.steps import STEPS
from etl_local import thread_output
from etl_local.lambda_router import LambdaRouter
from etl_local.settings import LocalSettings

SETTINGS = LocalSettings()
WAIT = 30  # seconds: only a bound on a broken run, never reached by a passing one

HANDLERS = """
import threading

from aws_lambda_powertools import Logger
# Not reloaded with this module at the router's cold start: the test holds the same queue.
from function_output_sync import inside

# Powertools creates its handler here, with whatever sys.stdout is at import.
logger = Logger(service=%(service)r)
logger.info("cold start")


def handler(event, context):
    name = event["name"]
    release = threading.Event()
    print(f"{name}: printed before the console")
    logger.info("logged by Powertools", extra={"model": name})
    inside.put((name, release))
    if not release.wait(%(wait)d):
        raise RuntimeError("the test never released " + name)
    print(f"{name}: printed after the console")
    return {"name": name}
"""


@pytest.fixture
def function_module(tmp_path: Path) -> Iterator[str]:
    """The name of a handler module on sys.path (not imported yet)."""
    name = "function_output_handlers"
    service = "function-output-test"
    sources = {
        name: HANDLERS % {"service": service, "wait": WAIT},
        # Each invocation puts (name, release) here and waits inside the function until released.
        "function_output_sync": "import queue\ninside = queue.Queue()\n",
    }
    try:
        with modules_on_path(tmp_path, sources):
            yield name
    finally:
        logging.getLogger(service).handlers.clear()


def _blocks(log: str) -> dict[str, str]:
    """Each invocation's output, by the model name it returned, from the START/END frames."""
    blocks = {}
    for match in re.finditer(r"START RequestId: (\S+) .*?\n(.*?)END RequestId: \1\n", log, re.S):
        names = set(re.findall(r"(model-\d)", match.group(2)))
        assert len(names) <= 1, f"one invocation's block holds lines of {names}"
        if names:
            blocks[names.pop()] = match.group(2)
    return blocks


def test_concurrent_functions_and_the_console_never_write_into_each_other(
    tmp_path: Path, function_module: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a function module imported before any router exists (as an earlier import
    # would): its Powertools handler holds the process's stdout of that moment
    importlib.import_module(function_module)
    capsys.readouterr()  # its import logged "cold start" there, outside any invocation
    # and a router whose functions log to a file, with three Map-like threads invoking
    log_path = tmp_path / "logs" / "lambda.log"
    steps = {"write": replace(STEPS["write"], handler=f"{function_module}.handler")}
    router = LambdaRouter(SETTINGS, "http://127.0.0.1:1", steps=steps, log_path=log_path)
    router.install()
    results: dict[str, Any] = {}

    def invoke(name: str) -> None:
        _, response = router.invoke("lakepipe-local-write", json.dumps({"name": name}).encode())
        results[name] = json.loads(response["Payload"].read())

    threads = [threading.Thread(target=invoke, args=(f"model-{i}",)) for i in range(3)]
    try:
        for thread in threads:
            thread.start()
        # when the console prints while each function is inside its invocation
        # (the router decides how many run at once; each waits until the console printed)
        for _ in threads:
            name, release = sys.modules["function_output_sync"].inside.get(timeout=WAIT)
            print(f"console: {name} is running")
            release.set()
        for thread in threads:
            thread.join(WAIT)
    finally:
        router.uninstall()

    # then the console's lines are on the console, and none of the functions' lines are
    assert results == {f"model-{i}": {"name": f"model-{i}"} for i in range(3)}
    log = log_path.read_text("utf-8")
    assert "console:" not in log
    out = capsys.readouterr().out
    assert sorted(out.splitlines()) == [f"console: model-{i} is running" for i in range(3)]
    # and every function line is in its own invocation's block
    blocks = _blocks(log)
    assert set(blocks) == {"model-0", "model-1", "model-2"}
    for name, block in blocks.items():
        assert f"{name}: printed before the console" in block
        assert f"{name}: printed after the console" in block
        logged = [json.loads(line) for line in block.splitlines() if line.startswith("{")]
        assert {"message": "logged by Powertools", "model": name}.items() <= logged[-1].items()


def test_a_thread_without_a_capture_writes_to_the_stream_the_router_replaced(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import io

    captured = io.StringIO()
    thread_output.install()
    try:
        with thread_output.captured(captured):
            print("mine")
            other = threading.Thread(target=print, args=("another thread",))
            other.start()
            other.join(WAIT)
            inner = io.StringIO()
            with thread_output.captured(inner):
                print("nested")
            print("mine again")
    finally:
        thread_output.uninstall()

    assert captured.getvalue() == "mine\nmine again\n"
    assert inner.getvalue() == "nested\n"
    assert capsys.readouterr().out == "another thread\n"
    assert not isinstance(sys.stdout, type(thread_output._STDOUT))
