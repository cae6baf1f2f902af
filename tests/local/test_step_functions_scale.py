"""The real model state machine through the strict local executor (etl_local.sfn_limits),
its tasks replaced by Pass states that return what the steps return for the largest model of
a 50-model, 92-day backfill: it ends SUCCEEDED within 256 KiB per payload and 25,000
history events; a model whose windows split into 2,000 chunks fails with
States.DataLimitExceeded, as on AWS.

The payloads are computed by tests/asl/test_step_functions_limits.py from the planning and
step logic; running 50 models end to end would be too slow here.
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from etl_local import moto_patches
from etl_local.sfn_limits import MAX_HISTORY_EVENTS
from tests.asl.test_state_machines import MACHINES
from tests.asl.test_step_functions_limits import (
    _backfill,
    _model_execution,
    _size,
    oversized_model_execution,
)

REGION = "eu-west-1"
ROLE = "arn:aws:iam::123456789012:role/r"
# The model machine's tasks, by the key of _model_execution's fullest state they fill.
TASK_RESULTS = {
    "Write": "write",
    "QueriesState": "query",
    "AuditStart": "audit",
    "AuditState": "audit_query",
    "AuditVerdict": "verdict",
    "Publish": "publish",
}


@pytest.fixture
def endpoint(executing_server: str) -> Iterator[str]:
    with moto_patches.install():
        yield executing_server


def stubbed_model_machine(execution: dict[str, Any]) -> dict[str, Any]:
    """The model machine with each task a Pass state returning the step's result (as the
    task's ResultSelector shapes it), and no waiting."""
    machine = copy.deepcopy(MACHINES["model"])
    machine.pop("TimeoutSeconds", None)
    fullest = execution["fullest"]
    for name, state in machine["States"].items():
        if state["Type"] == "Wait":
            state["Seconds"] = 0
        if name in TASK_RESULTS:
            result = copy.deepcopy(fullest[TASK_RESULTS[name]])
            if name == "AuditState":
                result = {"Payload": {**result["Payload"], "status": "SUCCEEDED"}}
            if "polls" in result:
                result["polls"] = 0
            stub = {"Type": "Pass", "Result": result, "ResultPath": state["ResultPath"]}
            stub.update({k: state[k] for k in ("Next", "End") if k in state})
            machine["States"][name] = stub
    return machine


def run(url: str, machine: dict[str, Any], data: dict[str, Any]) -> tuple[dict[str, Any], int]:
    sfn = boto3.client("stepfunctions", endpoint_url=url, region_name=REGION)
    arn = sfn.create_state_machine(
        name=f"model-{uuid.uuid4().hex[:8]}", definition=json.dumps(machine), roleArn=ROLE
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(data))["executionArn"]
    for _ in range(2000):
        described = sfn.describe_execution(executionArn=execution)
        if described["status"] != "RUNNING":
            break
        time.sleep(0.05)
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution)
    return dict(described), sum(len(page["events"]) for page in pages)


def test_the_largest_model_execution_of_the_backfill_succeeds_within_the_limits(
    endpoint: str, tmp_path: Path
) -> None:
    catalog, work, _, _, _ = _backfill(tmp_path)
    models = {m.name: m for m in catalog.models}
    executions = [
        _model_execution(models[entry["model"]], entry) for tier in work for entry in tier["models"]
    ]
    largest = max(executions, key=lambda e: _size(e["fullest"]))

    described, events = run(endpoint, stubbed_model_machine(largest), largest["input"])

    assert described["status"] == "SUCCEEDED", described.get("cause")
    assert json.loads(described["output"]) == largest["summary"]
    assert events < MAX_HISTORY_EVENTS


def test_a_model_execution_of_2000_chunks_fails_with_data_limit_exceeded(
    endpoint: str,
) -> None:
    execution = oversized_model_execution()

    described, _ = run(endpoint, stubbed_model_machine(execution), execution["input"])

    assert described["status"] == "FAILED"
    assert described["error"] == "States.DataLimitExceeded"
