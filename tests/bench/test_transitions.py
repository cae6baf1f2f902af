"""Step Functions is billed per state entered: the benchmark counts transitions from the
run's history, polling loops as the deployed environment would turn them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from etl_local.bench.run import billed_transitions, poll_scale, prod_variable
from etl_local.history import ENTERED, EXECUTION, MAP_ITERATION, StateEvent
from etl_local.plan import LOCAL_PLAN, LocalPlan

T0 = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
MODEL = ("Tiers", 0, "Models", 1)
POLL = ("WaitForQueries", "QueriesState", "CountQueriesPoll", "QueriesDone")


def _state(name: str, path: tuple[object, ...] = ()) -> list[StateEvent]:
    """A state entered, then exited (the history reports both)."""
    return [
        StateEvent(name, "Task", T0, None, ENTERED, path=path),  # type: ignore[arg-type]
        StateEvent(name, "Task", T0, 0.1, "SUCCEEDED", path=path),  # type: ignore[arg-type]
    ]


def _model_run(turns: int) -> list[StateEvent]:
    events = [*_state("Begin"), StateEvent("Models", MAP_ITERATION, T0, None, ENTERED, path=MODEL)]  # type: ignore[arg-type]
    events.append(StateEvent("RunModel", EXECUTION, T0, None, ENTERED, path=MODEL))  # type: ignore[arg-type]
    events += _state("Write", MODEL)
    for _ in range(turns):
        for name in POLL:
            events += _state(name, MODEL)
    events += _state("Publish", MODEL)
    return events


def test_each_state_entered_is_one_transition_and_scopes_none() -> None:
    # Begin, Write, 3 turns of 4 polling states, Publish: 15 states, 34 events.
    assert billed_transitions(_model_run(3), {}) == 15


def test_a_polling_loop_turns_as_often_as_the_deployed_interval_lets_it() -> None:
    # 20 one-second turns locally; polled every 10 s when deployed: 2 turns, 4 states each.
    assert billed_transitions(_model_run(20), {"WaitForQueries": 0.1}) == 3 + 2 * 4
    # A loop that turned once still turns once.
    assert billed_transitions(_model_run(1), {"WaitForQueries": 0.1}) == 3 + 4
    # Loops of other scopes are scaled each on its own.
    other = [
        StateEvent(e.name, e.type, e.start, e.duration, e.outcome, path=("Tiers", 0, "Models", 2))  # type: ignore[arg-type]
        for e in _model_run(20)
        if e.path == MODEL and not e.is_scope
    ]
    assert billed_transitions(_model_run(20) + other, {"WaitForQueries": 0.1}) == 11 + 2 + 8


def test_every_polling_wait_of_the_machines_is_scaled_by_its_own_interval() -> None:
    scale = poll_scale(LocalPlan.load(LOCAL_PLAN).variable)
    assert set(scale) == {"WaitForQueries", "WaitForAudit", "WaitForCrawlers"}
    assert scale["WaitForQueries"] == scale["WaitForAudit"]  # both wait query_poll_seconds
    # a query poll may watch for query_settle_seconds, so a turn lasts that much longer
    local = LocalPlan.load(LOCAL_PLAN).variable
    turn = ("query_poll_seconds", "query_settle_seconds")
    assert scale["WaitForQueries"] == pytest.approx(
        sum(float(local(v)) for v in turn) / sum(prod_variable(v) for v in turn)
    )
    assert scale["WaitForCrawlers"] == pytest.approx(
        float(local("crawler_poll_seconds")) / prod_variable("crawler_poll_seconds")
    )
    assert all(0 < value <= 1 for value in scale.values())  # local polls are never slower
