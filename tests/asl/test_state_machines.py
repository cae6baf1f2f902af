"""Static checks of the state machine templates (asl/*.asl.json), rendered as Terraform's
templatefile() would render them: structure, guards, bounds, Step Functions' limits."""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from etl_lambdas.catalog import placeholders, render_template
from etl_lambdas.steps import STEPS

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = {
    name: (ROOT / "asl" / f"{name}.asl.json").read_text(encoding="utf-8")
    for name in ("pipeline", "model")
}
NOT_RETRIED = {"InvalidRunRequest", "AuditFailed", "ConfigurationError", "CatalogError"}
NUMBER = 7


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("asl_generate", ROOT / "asl" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATOR = _generator()


def dummy_values(template: str) -> dict[str, str]:
    return {
        name: str(NUMBER) if re.search(r":\s*\$\{" + name + r"\}", template) else f"dummy-{name}"
        for name in placeholders(template)
    }


def render(name: str) -> dict[str, Any]:
    template = TEMPLATES[name]
    return dict(json.loads(render_template(template, dummy_values(template))))


MACHINES = {name: render(name) for name in TEMPLATES}


def scopes(machine: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The machine and every Map's item processor, each with its own States."""
    yield path, machine
    for name, state in machine["States"].items():
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from scopes(processor, f"{path}/{name}")


SCOPES = dict(scope for name, machine in MACHINES.items() for scope in scopes(machine, name))
STATES = [
    (f"{where}/{n}", s) for where, scope in SCOPES.items() for n, s in scope["States"].items()
]
TASKS = [(name, state) for name, state in STATES if state["Type"] == "Task"]


def successors(state: dict[str, Any]) -> set[str]:
    targets = {state[k] for k in ("Next", "Default") if k in state}
    targets |= {choice["Next"] for choice in state.get("Choices", [])}
    targets |= {catch["Next"] for catch in state.get("Catch", [])}
    return targets


def test_the_templates_are_the_generators_output() -> None:
    for name, build in GENERATOR.MACHINES.items():
        assert TEMPLATES[name] == GENERATOR.render(build()), f"run python asl/generate.py ({name})"


def test_every_step_is_called_by_a_machine_and_every_function_is_a_step() -> None:
    called = {
        match
        for template in TEMPLATES.values()
        for match in re.findall(r"\$\{([a-z_]+)_function_arn\}", template)
    }
    assert called == {
        spec.function_arn_placeholder.removesuffix("_function_arn")
        for spec in STEPS.values()
        if spec.invoked_by == "state machine"
    }


def test_numbers_render_as_json_numbers() -> None:
    assert MACHINES["pipeline"]["TimeoutSeconds"] == NUMBER
    assert MACHINES["model"]["TimeoutSeconds"] == NUMBER


@pytest.mark.parametrize("where", sorted(SCOPES))
def test_targets_exist_and_every_state_is_reachable(where: str) -> None:
    scope = SCOPES[where]
    states = scope["States"]
    assert scope["StartAt"] in states
    for name, state in states.items():
        assert successors(state) <= set(states), f"{where}/{name} points outside its scope"
        assert "Next" in state or state.get("End") or state["Type"] in ("Choice", "Succeed", "Fail")
    reached, frontier = set(), [scope["StartAt"]]
    while frontier:
        name = frontier.pop()
        if name not in reached:
            reached.add(name)
            frontier.extend(successors(states[name]))
    assert reached == set(states), f"unreachable in {where}: {set(states) - reached}"


@pytest.mark.parametrize(("name", "task"), TASKS, ids=[n for n, _ in TASKS])
def test_every_task_is_guarded(name: str, task: dict[str, Any]) -> None:
    assert task["TimeoutSeconds"] == NUMBER
    retry = task["Retry"]
    assert retry[-1]["ErrorEquals"] == ["States.ALL"] and retry[-1]["MaxAttempts"] <= 3
    assert all("States.ALL" not in r["ErrorEquals"] for r in retry[:-1])
    catch = task["Catch"]
    assert [c["ErrorEquals"] for c in catch] == [["States.ALL"]]
    assert catch[0]["ResultPath"] not in (None, "$")  # the state's input survives with the error
    for rule in retry:
        if NOT_RETRIED & set(rule["ErrorEquals"]):
            assert rule["MaxAttempts"] == 0, f"{name} retries a permanent error"
    throttling = {"Throttled", "Glue.ThrottlingException", "StepFunctions.ThrottlingException"}
    throttled = [r for r in retry if throttling & set(r["ErrorEquals"])]
    assert throttled, f"{name} has no throttling retry"
    for rule in throttled:
        assert rule["JitterStrategy"] == "FULL" and rule["BackoffRate"] > 1
        assert rule["MaxDelaySeconds"] > 0


def test_only_errors_a_step_can_raise_are_listed_as_never_retried() -> None:
    """AuditFailed is raised by audit-verdict only: no other task lists it."""
    for name, task in TASKS:
        listed = {e for r in task["Retry"] if r.get("MaxAttempts") == 0 for e in r["ErrorEquals"]}
        assert ("AuditFailed" in listed) == name.endswith("/AuditVerdict"), name


@pytest.mark.parametrize(
    ("name", "task"),
    [t for t in TASKS if "lambda" in t[1]["Resource"]],
    ids=[n for n, t in TASKS if "lambda" in t["Resource"]],
)
def test_lambda_tasks_call_a_declared_step(name: str, task: dict[str, Any]) -> None:
    assert task["Resource"] == "arn:aws:states:::lambda:invoke"
    function = task["Parameters"]["FunctionName"]
    assert function.startswith("dummy-") and function.endswith("_function_arn")
    assert task["ResultSelector"]["Payload.$"] == "$.Payload"


def test_each_model_runs_in_a_child_execution_of_the_model_machine() -> None:
    tiers = MACHINES["pipeline"]["States"]["Tiers"]
    assert tiers["Type"] == "Map" and tiers["MaxConcurrency"] == 1
    models = tiers["ItemProcessor"]["States"]["Models"]
    assert models["MaxConcurrency"] == NUMBER
    run = models["ItemProcessor"]["States"]["RunModel"]
    assert run["Resource"] == "arn:aws:states:::states:startExecution.sync:2"
    assert run["Parameters"]["StateMachineArn"] == "dummy-model_state_machine_arn"
    assert (
        run["Parameters"]["Input"]["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$"]
        == "$$.Execution.Id"
    )
    # Only the child's summary travels back into the pipeline's state.
    assert run["OutputPath"] == "$.Output"


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
    loops = [
        (where, cycle) for where, scope in SCOPES.items() for cycle in _cycles(scope["States"])
    ]
    # crawler polls (pipeline); query polls, audit polls with its retried attempts (model)
    assert sorted(where for where, _ in loops) == ["model", "model", "pipeline"]
    for where, cycle in loops:
        states = SCOPES[where]["States"]
        counters = [
            n
            for n in cycle
            if states[n]["Type"] == "Pass"
            and "States.MathAdd(" in json.dumps(states[n].get("Parameters", {}))
        ]
        assert counters, f"loop {cycle} has no counter"
        choices = [states[n] for n in cycle if states[n]["Type"] == "Choice"]
        assert choices
        for choice in choices:
            for rule in choice["Choices"]:
                if rule["Next"] in cycle:
                    assert f'"NumericLessThan": {NUMBER}' in json.dumps(rule), (
                        f"unbounded way back in {cycle}"
                    )
            assert choice["Default"] not in cycle


def test_a_failed_query_waits_again_only_as_a_bounded_retry() -> None:
    for where, scope in SCOPES.items():
        states = scope["States"]
        for name, state in states.items():
            for rule in state.get("Choices", []):
                flat = json.dumps(rule)
                if not re.search(r'"StringEquals": "(FAILED|CANCELLED)"', flat):
                    continue
                reached, frontier = set(), [rule["Next"]]
                while frontier:
                    current = frontier.pop()
                    if current not in reached:
                        reached.add(current)
                        frontier.extend(successors(states[current]))
                if any(states[n]["Type"] == "Wait" for n in reached):
                    assert '"BooleanEquals": true' in flat and "NumericLessThan" in flat, (
                        f"{where}/{name}"
                    )


def test_every_failure_releases_the_lease_then_notifies_then_fails() -> None:
    top = MACHINES["pipeline"]["States"]
    assert top["ReleaseLease"]["Parameters"]["Payload"] == {
        "status": "FAILED",
        "execution.$": "$$.Execution.Id",
    }
    assert top["ReleaseLease"]["Next"] == top["ReleaseLease"]["Catch"][0]["Next"] == "FailureIntake"
    # what the run's conversion took in goes with the failure, when Register got that far
    intake = top["FailureIntake"]
    assert intake["Choices"][0]["Variable"] == "$.register.Payload.intake"
    assert {intake["Choices"][0]["Next"], intake["Default"]} == {"IntakeKnown", "IntakeUnknown"}
    assert top["IntakeKnown"]["Next"] == top["IntakeUnknown"]["Next"] == "NotifyFailure"
    assert top["NotifyFailure"]["Parameters"]["Payload"]["intake.$"] == "$.intake.intake"
    assert top["NotifyFailure"]["Next"] == "Failed" and top["Failed"]["Type"] == "Fail"
    for name, state in top.items():
        for catch in state.get("Catch", []):
            if name not in ("ReleaseLease", "NotifyFailure", "MeasureCost"):
                recorded = top[catch["Next"]]
                assert recorded["ResultPath"] == "$.failure" and recorded["Next"] == "ReleaseLease"
    assert top["Tiers"]["Next"] == "Finish" and top["Finish"]["Next"] == "MeasureCost"
    assert top["MeasureCost"]["Next"] == "NotifySuccess"


def test_a_cost_that_cannot_be_measured_does_not_fail_the_run() -> None:
    # given the success path after the lease is back
    top = MACHINES["pipeline"]["States"]
    measure = top["MeasureCost"]
    # then measuring the cost is caught into the notification, with why, never a failure
    (caught,) = measure["Catch"]
    assert caught == {
        "ErrorEquals": ["States.ALL"],
        "ResultPath": "$.cost_error",
        "Next": "CostUnavailable",
    }
    unavailable = top["CostUnavailable"]
    assert unavailable["ResultPath"] == "$.cost" and unavailable["Next"] == "NotifySuccess"
    assert unavailable["Parameters"] == {"Payload": {"unavailable.$": "$.cost_error"}}
    assert top["NotifySuccess"]["Parameters"]["Payload"]["cost.$"] == "$.cost.Payload"
    # and the states still to come, which its history cannot hold yet, are counted
    after, state = 0, measure["Next"]
    while state:
        after, state = after + 1, top[state].get("Next")
    assert measure["Parameters"]["Payload"]["transitions_after"] == after == 2


def test_a_models_failure_fails_its_iteration_with_the_cause() -> None:
    model = MACHINES["model"]["States"]
    for name, state in model.items():
        for catch in state.get("Catch", []):
            caught = model[catch["Next"]]
            # recorded under $.failure, directly or after the Choice that names the reason
            recorders = (
                [model[target] for target in successors(caught)]
                if caught["Type"] == "Choice"
                else [caught]
            )
            for recorder in recorders:
                assert recorder["ResultPath"] == "$.failure", name
                assert recorder["Next"] == "ModelFailed", name
    assert model["ModelFailed"] == {
        "Type": "Fail",
        "Error": "ModelFailed",
        "CausePath": "States.JsonToString($.failure)",
    }


def test_every_lambda_task_retries_the_lambda_service_errors_aws_names() -> None:
    """ "Handle Lambda service exceptions" (Step Functions Developer Guide): retry
    Lambda.ClientExecutionTimeoutException, ServiceException, AWSLambdaException and
    SdkClientException."""
    recommended = {
        "Lambda.ClientExecutionTimeoutException",
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
    }
    for name, task in TASKS:
        if "lambda" not in task["Resource"]:
            continue
        retried = {e for r in task["Retry"] if r["MaxAttempts"] > 0 for e in r["ErrorEquals"]}
        assert recommended <= retried, f"{name} does not retry {recommended - retried}"


def test_a_model_that_gives_up_on_its_queries_stops_them_first() -> None:
    """Athena runs a query to its end (and bills it) unless it is stopped: every way the model
    machine fails on its queries passes a query-state call that stops those still running."""
    states = MACHINES["model"]["States"]
    stops = {
        name
        for name, state in states.items()
        if state["Type"] == "Task" and state["Parameters"]["Payload"].get("stop_running") is True
    }
    assert stops == {"StopQueries", "StopAudit"}
    for name in stops:
        assert states[name]["Parameters"]["FunctionName"] == "dummy-query_state_function_arn"
    giving_up = {"QueriesUnsuccessful", "QueriesTimedOut", "AuditUnsuccessful", "AuditTimedOut"}
    assert giving_up <= set(states)
    # without the stops, no state that fails the model on its queries is reachable
    reached, frontier = set(), [MACHINES["model"]["StartAt"]]
    while frontier:
        name = frontier.pop()
        if name not in reached and name not in stops:
            reached.add(name)
            frontier.extend(successors(states[name]))
    assert not giving_up & reached
