"""What a local Lambda function prints lands in its own invocation's log block, while other
invocations run at the same time and the console prints meanwhile."""

from __future__ import annotations

import json
import re
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
import pathlib
import time

from aws_lambda_powertools import Logger

# Powertools creates its handler here, with whatever sys.stdout is at import.
logger = Logger(service="function-output-test")
logger.info("cold start")


def handler(event, context):
    name = event["name"]
    rendezvous = pathlib.Path(event["rendezvous"])
    print(f"{name}: printed before the others")
    logger.info("logged by Powertools", extra={"model": name})
    (rendezvous / name).touch()
    deadline = time.monotonic() + %(wait)d
    while not all((rendezvous / other).exists() for other in event["others"]):
        if time.monotonic() > deadline:
            raise TimeoutError("the others never came")
        time.sleep(0.01)
    print(f"{name}: printed after the others")
    return {"name": name}
"""


@pytest.fixture
def function_module(tmp_path: Path) -> Iterator[str]:
    name = "function_output_handlers"
    with modules_on_path(tmp_path, {name: HANDLERS % {"wait": WAIT}}):
        yield name


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
    log_path = tmp_path / "logs" / "lambda.log"
    steps = {"write": replace(STEPS["write"], handler=f"{function_module}.handler")}
    router = LambdaRouter(SETTINGS, "http://127.0.0.1:1", steps=steps, log_path=log_path)
    rendezvous = tmp_path / "rendezvous"
    rendezvous.mkdir()
    names = [f"model-{i}" for i in range(3)]
    results: dict[str, Any] = {}

    def invoke(name: str) -> None:
        event = {"name": name, "rendezvous": str(rendezvous), "others": names}
        _, response = router.invoke("lakepipe-local-write", json.dumps(event).encode())
        results[name] = json.loads(response["Payload"].read())

    # when three invocations run at once (each waits inside until all are inside) while the
    # console prints
    threads = [threading.Thread(target=invoke, args=(name,)) for name in names]
    try:
        for thread in threads:
            thread.start()
        print("console: the functions are running")
        for thread in threads:
            thread.join(WAIT * 2)
    finally:
        router.close()

    # then the console's line is on the console, and none of the functions' lines are
    assert results == {name: {"name": name} for name in names}
    log = log_path.read_text("utf-8")
    assert "console:" not in log
    out = capsys.readouterr().out
    assert out.splitlines() == ["console: the functions are running"]
    # and every function line is in its own invocation's block, with Lambda's frame
    blocks = _blocks(log)
    assert set(blocks) == set(names)
    for name, block in blocks.items():
        assert f"{name}: printed before the others" in block
        assert f"{name}: printed after the others" in block
        logged = [json.loads(line) for line in block.splitlines() if line.startswith("{")]
        assert any(
            {"message": "logged by Powertools", "model": name}.items() <= line.items()
            for line in logged
        ), block
    # each environment's Init output (Powertools' "cold start") leads its first block
    assert log.count('"cold start"') == 3
    assert len(re.findall(r"REPORT RequestId: \S+\tDuration: [\d.]+ ms\t.*Init Duration", log)) == 3
