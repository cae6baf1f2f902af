"""Following an execution on the local runtime: a child execution that a Task starts is
followed too and placed under that Task; the transition log is written as it goes."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from etl_lambdas.steps import STEPS
from etl_local import moto_patches
from etl_local.execution import RunResult, _history, follow_execution
from etl_local.history import EXECUTION
from etl_local.lambda_router import LambdaRouter
from etl_local.run_view import LOOP, RunTree, tree_rows
from etl_local.runtime import LocalRuntime
from etl_local.settings import LocalSettings

SETTINGS = LocalSettings()

# moto 5.2.5 cannot run the states:startExecution integrations (it passes StartExecution's
# parameters to botocore unconverted); a function starting the child is the same history
# for the follower: a Task whose output carries the child's ExecutionArn.
HANDLERS = """
import json
import os

import boto3


def start_child(event, context):
    sfn = boto3.client("stepfunctions", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    item = {"model": event["model"], "chunks": [{"index": 0}]}
    started = sfn.start_execution(
        stateMachineArn=event["child"], name="child-" + event["model"], input=json.dumps(item)
    )
    return {"ExecutionArn": started["executionArn"]}
"""

CHILD = {
    "StartAt": "Work",
    "States": {
        "Work": {
            "Type": "Pass",
            "Parameters": {"model.$": "$.model", "rows": 1, "round.$": "States.MathAdd(0, 1)"},
            "Next": "Again",
        },
        "Again": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.round", "NumericEquals": 0, "Next": "Work"}],
            "Default": "Done",
        },
        "Done": {"Type": "Succeed"},
    },
}


@pytest.fixture
def handlers(tmp_path: Path) -> Iterator[str]:
    module = "execution_test_handlers"
    (tmp_path / f"{module}.py").write_text(HANDLERS, "utf-8")
    sys.path.insert(0, str(tmp_path))
    yield module
    sys.path.remove(str(tmp_path))
    sys.modules.pop(module, None)


def test_a_child_execution_is_followed_under_the_task_that_started_it(
    tmp_path: Path, handlers: str
) -> None:
    steps = {"begin": replace(STEPS["begin"], handler=f"{handlers}.start_child")}
    with LocalRuntime(home=tmp_path, persist=False) as runtime:
        runtime.router.uninstall()
        router = LambdaRouter(SETTINGS, runtime.endpoint_url, steps=steps)
        router.install()
        try:
            sfn = runtime.client("stepfunctions")
            role = SETTINGS.plan.state_machines["pipeline"].role_arn
            child = sfn.create_state_machine(
                name="child", definition=json.dumps(CHILD), roleArn=role
            )["stateMachineArn"]
            parent = {
                "StartAt": "Models",
                "States": {
                    "Models": {
                        "Type": "Map",
                        "ItemsPath": "$.items",
                        "ItemProcessor": {
                            "ProcessorConfig": {"Mode": "INLINE"},
                            "StartAt": "RunModel",
                            "States": {
                                "RunModel": {
                                    "Type": "Task",
                                    "Resource": SETTINGS.function_arn("begin"),
                                    "End": True,
                                }
                            },
                        },
                        "End": True,
                    }
                },
            }
            parent_arn = sfn.create_state_machine(
                name="parent", definition=json.dumps(parent), roleArn=role
            )["stateMachineArn"]
            items = [{"model": model, "child": child} for model in ("a", "b")]
            execution = sfn.start_execution(
                stateMachineArn=parent_arn, name="parent-1", input=json.dumps({"items": items})
            )
            tree = RunTree()
            followed = follow_execution(
                sfn,
                execution["executionArn"],
                on_event=tree.apply,
                timeout=120,
                log_dir=tmp_path / "executions",
                poll_seconds=0.05,
            )
        finally:
            router.uninstall()

    assert followed.description["status"] == "SUCCEEDED", followed.last_cause
    children = [e for e in followed.events if e.type == EXECUTION and e.outcome == "SUCCEEDED"]
    assert sorted(e.input["model"] for e in children) == ["a", "b"]
    assert all(e.path[-1].state == "RunModel" for e in children)
    # In the tree: Models > a > RunModel > (the child, labelled from its input) > its states
    rows = [(depth, node.label, node.status) for depth, node in tree_rows(tree)]
    assert rows[:2] == [(0, "Models", "SUCCEEDED"), (1, "a", "SUCCEEDED")]
    iteration = tree.root.children["Models"].children[0]
    (child_scope,) = iteration.children["RunModel"].children.values()
    assert child_scope.label == "a" and child_scope.status == "SUCCEEDED"
    # the child's own definition gives its loop (Work -> Again -> Work): one line, 1 round
    assert list(child_scope.children) == ["Work", "Done"]
    assert (child_scope.children["Work"].kind, child_scope.children["Work"].rounds) == (LOOP, 1)
    assert tree.progress.done == {"a", "b"}
    log = (tmp_path / "executions" / "parent-1.log").read_text("utf-8")
    assert followed.log_path == tmp_path / "executions" / "parent-1.log"
    assert "Models[0]/RunModel[" in log and "]/Work" in log
    assert log.rstrip().endswith("execution SUCCEEDED")


def test_the_json_document_has_one_shape() -> None:
    result = RunResult("FAILED", "PipelineFailed", "why", "arn:x")
    assert result.to_json() == {
        "status": "FAILED",
        "error": "PipelineFailed",
        "cause": "why",
        "models": [],
        "sources": [],
        "waiting_for_data": [],
        "schema_changes": [],
        "restated": [],
        "beyond_lookback": [],
        "future_events": [],
        "cost": None,
        "caught_up": None,
        "missed": None,
    }
    cost = {"total_usd": 0.01, "services": {}}
    measured = RunResult("SUCCEEDED", None, None, "arn:x", output={"cost": {"Payload": cost}})
    assert measured.to_json()["cost"] == cost


class _PagedHistory:
    """A Step Functions client whose history pages as AWS pages it; counts events served."""

    def __init__(self, events: int) -> None:
        self.events = [{"id": n, "type": "PassStateEntered"} for n in range(1, events + 1)]
        self.served = 0

    def get_execution_history(self, **request: Any) -> dict[str, Any]:
        page = moto_patches.history_page(
            self.events,
            max_results=request.get("maxResults"),
            reverse_order=request.get("reverseOrder", False),
            next_token=request.get("nextToken"),
        )
        self.served += len(page["events"])
        return page


def test_a_poll_reads_the_new_events_only() -> None:
    sfn = _PagedHistory(events=2500)
    assert [e["id"] for e in _history(sfn, "arn", seen=0)] == list(range(1, 2501))
    assert sfn.served == 2500

    sfn.served = 0
    assert _history(sfn, "arn", seen=2500) == []
    assert sfn.served == 1  # nothing new: the newest event alone

    sfn.events += [{"id": n, "type": "WaitStateEntered"} for n in range(2501, 2504)]
    assert [e["id"] for e in _history(sfn, "arn", seen=2500)] == [2501, 2502, 2503]
    assert sfn.served == 1 + 3
