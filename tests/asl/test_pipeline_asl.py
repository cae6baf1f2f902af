"""Static checks of asl/pipeline.asl.json, rendered as Terraform's templatefile() would."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from etl_lambdas.catalog import placeholders, render_template
from etl_lambdas.steps import STEPS

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = (ROOT / "asl" / "pipeline.asl.json").read_text(encoding="utf-8")
CONTRACTS = (ROOT / "docs" / "contracts.md").read_text(encoding="utf-8")

NUMBERS = {
    "crawler_poll_seconds",
    "crawler_max_polls",
    "query_poll_seconds",
    "query_max_polls",
    "max_concurrency",
    "lambda_timeout_seconds",
    "glue_job_timeout_seconds",
    "state_machine_timeout_seconds",
}
NOT_RETRIED = {"InvalidRunRequest", "AuditFailed"}


def contract_placeholders() -> set[str]:
    section = CONTRACTS.split("## State machine", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`([a-z_]+)`", section.split("| placeholder | kind |", 1)[1]))


def dummy_values() -> dict[str, str]:
    return {name: "7" if name in NUMBERS else f"dummy-{name}" for name in contract_placeholders()}


def render() -> dict[str, Any]:
    return dict(json.loads(render_template(TEMPLATE, dummy_values())))


MACHINE = render()


def machines(machine: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """The machine and every Map's item processor, each with its own States."""
    yield path or "<top>", machine
    for name, state in machine["States"].items():
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from machines(processor, f"{path}/{name}")


def all_states() -> Iterator[tuple[str, dict[str, Any]]]:
    for _, machine in machines(MACHINE):
        yield from machine["States"].items()


def successors(state: dict[str, Any]) -> set[str]:
    targets = {state[k] for k in ("Next", "Default") if k in state}
    targets |= {choice["Next"] for choice in state.get("Choices", [])}
    targets |= {catch["Next"] for catch in state.get("Catch", [])}
    return targets


def test_placeholders_are_exactly_the_contract() -> None:
    assert contract_placeholders() == {
        *(f"{step.replace('-', '_')}_function_arn" for step in STEPS),
        "glue_job_name",
        *NUMBERS,
    }
    assert placeholders(TEMPLATE) == contract_placeholders()


def test_numbers_render_as_json_numbers() -> None:
    assert MACHINE["TimeoutSeconds"] == 7
    for name in NUMBERS:
        assert re.search(r":\s*\$\{" + name + r"\}", TEMPLATE), name  # bare, not quoted


@pytest.mark.parametrize("where", [w for w, _ in machines(MACHINE)])
def test_targets_exist_and_every_state_is_reachable(where: str) -> None:
    machine = dict(machines(MACHINE))[where]
    states = machine["States"]
    assert machine["StartAt"] in states
    for name, state in states.items():
        assert successors(state) <= set(states), f"{where}/{name} points outside its machine"
        assert "Next" in state or state.get("End") or state["Type"] in ("Choice", "Succeed", "Fail")
    reached, frontier = set(), [machine["StartAt"]]
    while frontier:
        name = frontier.pop()
        if name not in reached:
            reached.add(name)
            frontier.extend(successors(states[name]))
    assert reached == set(states), f"unreachable in {where}: {set(states) - reached}"


TASKS = [(name, state) for name, state in all_states() if state["Type"] == "Task"]


@pytest.mark.parametrize(("name", "task"), TASKS, ids=[n for n, _ in TASKS])
def test_every_task_is_guarded(name: str, task: dict[str, Any]) -> None:
    assert task["TimeoutSeconds"] == 7
    retry = task["Retry"]
    assert retry[-1]["ErrorEquals"] == ["States.ALL"] and retry[-1]["MaxAttempts"] <= 3
    assert all("States.ALL" not in r["ErrorEquals"] for r in retry[:-1])
    catch = task["Catch"]
    assert [c["ErrorEquals"] for c in catch] == [["States.ALL"]]
    assert catch[0]["ResultPath"] not in (None, "$")  # the state's input survives with the error
    for rule in retry:
        if NOT_RETRIED & set(rule["ErrorEquals"]):
            assert rule["MaxAttempts"] == 0, f"{name} retries a permanent error"
    throttled = [
        r for r in retry if {"Throttled", "Glue.ThrottlingException"} & set(r["ErrorEquals"])
    ]
    assert throttled, f"{name} has no throttling retry"
    for rule in throttled:
        assert rule["JitterStrategy"] == "FULL" and rule["BackoffRate"] > 1
        assert rule["MaxDelaySeconds"] > 0


@pytest.mark.parametrize(
    ("name", "task"),
    [t for t in TASKS if "lambda" in t[1]["Resource"]],
    ids=[n for n, t in TASKS if "lambda" in t["Resource"]],
)
def test_lambda_tasks_call_a_contract_function(name: str, task: dict[str, Any]) -> None:
    assert task["Resource"] == "arn:aws:states:::lambda:invoke"
    assert task["Parameters"]["FunctionName"].startswith("dummy-")
    assert task["Parameters"]["FunctionName"].endswith("_function_arn")
    assert task["ResultSelector"]["Payload.$"] == "$.Payload"


def test_glue_job_runs_synchronously_with_the_plans_arrival_window() -> None:
    convert = MACHINE["States"]["ConvertRaw"]
    assert convert["Resource"] == "arn:aws:states:::glue:startJobRun.sync"
    assert convert["Parameters"] == {
        "JobName": "dummy-glue_job_name",
        "Arguments.$": "$.plan.Payload.glue_arguments",
    }
    assert MACHINE["States"]["Plan"]["Next"] == "ConvertRaw"


def _cycles(states: dict[str, Any]) -> list[set[str]]:
    """Strongly connected components with a cycle (Tarjan, small graphs)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in successors(states[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1 or node in successors(states[node]):
                found.append(component)

    for node in states:
        if node not in index:
            visit(node)
    return found


def test_every_loop_is_bounded_by_a_counter() -> None:
    loops = [(where, cycle) for where, m in machines(MACHINE) for cycle in _cycles(m["States"])]
    assert len(loops) == 2  # crawler poll, query poll
    for where, cycle in loops:
        states = dict(machines(MACHINE))[where]["States"]
        counters = [
            s
            for n in cycle
            if (s := states[n])["Type"] == "Pass"
            and "States.MathAdd(" in json.dumps(s.get("Parameters", {}))
        ]
        assert counters, f"loop {cycle} has no counter"
        choices = [states[n] for n in cycle if states[n]["Type"] == "Choice"]
        assert choices
        for choice in choices:
            for rule in choice["Choices"]:
                if rule["Next"] in cycle:
                    flat = json.dumps(rule)
                    assert '"NumericLessThan": 7' in flat, f"unbounded way back in {cycle}"
            assert choice["Default"] not in cycle


def test_failed_and_cancelled_never_lead_back_into_a_wait() -> None:
    for where, machine in machines(MACHINE):
        states = machine["States"]
        for name, state in states.items():
            for rule in state.get("Choices", []):
                if re.search(r'"StringEquals": "(FAILED|CANCELLED)"', json.dumps(rule)):
                    reached, frontier = set(), [rule["Next"]]
                    while frontier:
                        current = frontier.pop()
                        if current not in reached:
                            reached.add(current)
                            frontier.extend(successors(states[current]))
                    waits = {n for n in reached if states[n]["Type"] == "Wait"}
                    assert not waits, f"{where}/{name}: FAILED/CANCELLED reaches {waits}"


def test_tiers_run_in_order_and_models_with_bounded_concurrency() -> None:
    tiers = MACHINE["States"]["Tiers"]
    assert tiers["Type"] == "Map" and tiers["MaxConcurrency"] == 1
    assert tiers["ItemsPath"] == "$.plan.Payload.tiers"
    models = tiers["ItemProcessor"]["States"]["Models"]
    assert models["MaxConcurrency"] == 7
    flow, name = [], models["ItemProcessor"]["StartAt"]
    steps = models["ItemProcessor"]["States"]
    while not steps[name].get("End"):
        flow.append(name)
        state = steps[name]
        name = (
            state["Next"]
            if "Next" in state
            else next(c["Next"] for c in state["Choices"] if "SUCCEEDED" in json.dumps(c))
        )
    assert [s for s in flow if steps[s]["Type"] == "Task"] == [
        "Write",
        "QueryState",
        "Audit",
        "Publish",
    ]
    assert tiers["Next"] == "NotifySuccess"


def test_every_failure_is_notified_then_fails() -> None:
    top = MACHINE["States"]
    assert top["NotifyFailure"]["Next"] == "Failed" and top["Failed"]["Type"] == "Fail"
    for name, state in top.items():
        for catch in state.get("Catch", []):
            if name != "NotifyFailure":
                assert top[catch["Next"]]["Next"] == "NotifyFailure"
