"""An execution's history, read as the Step Functions console reads it.

GetExecutionHistory returns flat events (TaskStateEntered, TaskScheduled, MapIterationStarted,
...). `HistoryFollower` turns them into `StateEvent`s: a state entered, a state exited with
its outcome, duration, retries and error, and the Map iterations and child executions that
group states. Each event sits on an *iteration path*: the Map iterations (and child
executions) it runs in, outermost first, so that parallel iterations of the same states
stay apart. Events of one iteration chain through `previousEventId`; that is how an event
is placed.

States that form a cycle of the state machine's graph (a poll loop: Wait -> Task -> Pass ->
Choice -> Wait) are marked with the loop's name, so that a view can show the loop as one
line with a counter. The loops come from the definition, not from state names.

Pure: nothing here calls AWS (see etl_local.execution for the polling).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "ENTERED",
    "EXECUTION",
    "MAP_ITERATION",
    "Branch",
    "ChildExecution",
    "HistoryFollower",
    "IterationPath",
    "StateEvent",
    "describe_path",
    "poll_loops",
    "transition_line",
]

# The outcome of an entered event: the state (or iteration) is running, it has no status yet.
ENTERED = "ENTERED"
# StateEvent.type of the events that open and close a Map iteration or a child execution.
MAP_ITERATION = "MapIteration"
EXECUTION = "Execution"

_TASK_SCHEDULED = ("TaskScheduled", "LambdaFunctionScheduled", "ActivityScheduled")
_TASK_SUCCEEDED = ("TaskSucceeded", "LambdaFunctionSucceeded", "ActivitySucceeded")
_ITERATION_ENDED = ("MapIterationSucceeded", "MapIterationFailed", "MapIterationAborted")
_EXECUTION_ENDED = (
    "ExecutionSucceeded",
    "ExecutionFailed",
    "ExecutionAborted",
    "ExecutionTimedOut",
)


@dataclass(frozen=True)
class Branch:
    """One level of an iteration path: a Map state's iteration (`key`: its index) or a child
    execution a Task state started (`key`: the child execution's name)."""

    state: str
    key: int | str

    def __str__(self) -> str:
        return f"{self.state}[{self.key}]"


IterationPath = tuple[Branch, ...]


@dataclass(frozen=True)
class StateEvent:
    """A state entered (outcome ENTERED) or exited (SUCCEEDED, FAILED, CAUGHT, ABORTED).

    With type MAP_ITERATION or EXECUTION, the event opens or closes a Map iteration or a
    child execution instead: `path` is then that iteration's own path, `input` its input
    and `output` (on exit) its result. States exited at the top of the execution carry
    their `output` too (the plan a view counts its progress from is there).
    """

    name: str
    type: str
    start: datetime
    duration: float | None
    outcome: str
    error: str | None = None
    cause: str | None = None
    path: IterationPath = ()
    loop: str | None = None
    retries: int = 0
    input: Any = None
    output: Any = None

    @property
    def is_scope(self) -> bool:
        """Whether this opens or closes a Map iteration or a child execution."""
        return self.type in (MAP_ITERATION, EXECUTION)


@dataclass(frozen=True)
class ChildExecution:
    """An execution a Task state started (its output carried the ExecutionArn)."""

    execution_arn: str
    path: IterationPath


@dataclass
class _OpenState:
    path: IterationPath
    name: str
    type: str
    start: datetime
    attempts: int = 0
    failed: bool = False
    error: str | None = None
    cause: str | None = None


@dataclass
class _OpenScope:
    path: IterationPath
    type: str
    start: datetime
    announced: bool = False
    input: Any = None
    # The raw output of the last state exited in this scope: an iteration's result.
    last_output: str | None = None
    error: str | None = None
    cause: str | None = None


@dataclass
class _Placed:
    """What an event means once placed: its path, and what it opened or closed."""

    path: IterationPath
    closes: list[_OpenState] = field(default_factory=list)


class HistoryFollower:
    """Consumes an execution's history events in order; emits StateEvents as they happen.

    `prefix` places a child execution's events under the Task that started it (its own
    follower); `definition` (the ASL, dict or JSON) gives the poll loops.
    """

    def __init__(
        self,
        on_event: Callable[[StateEvent], None] | None = None,
        *,
        definition: Mapping[str, Any] | str | None = None,
        prefix: IterationPath = (),
    ) -> None:
        self._on_event = on_event
        self._prefix = prefix
        self._loops = poll_loops(definition) if definition else {}
        self.seen = 0
        self.events: list[StateEvent] = []
        self.children: list[ChildExecution] = []
        self.last_error: str | None = None
        self.last_cause: str | None = None
        self.ended = False  # the execution's last event (succeeded, failed, ...) was consumed
        self._path_of: dict[int, IterationPath] = {}
        self._open: list[_OpenState] = []
        self._scopes: dict[IterationPath, _OpenScope] = {}

    def consume(self, events: Iterable[Mapping[str, Any]]) -> None:
        for event in events:
            self.seen += 1
            self._path_of[event["id"]] = self._consume(event)

    # -- one event ---------------------------------------------------------------------------
    def _consume(self, event: Mapping[str, Any]) -> IterationPath:
        """Handle one event; returns the path its successors continue on."""
        kind: str = event["type"]
        details: Mapping[str, Any] = next(
            (v for k, v in event.items() if k.endswith("EventDetails")), {}
        )
        path = self._path_of.get(event.get("previousEventId", 0), self._prefix)
        timestamp: datetime = event["timestamp"]
        if kind.endswith("StateEntered"):
            return self._entered(kind, details, path, timestamp)
        if kind.endswith("StateExited"):
            return self._exited(details, path, timestamp)
        if kind == "MapIterationStarted":
            return self._iteration_started(details, path, timestamp)
        if kind in _ITERATION_ENDED:
            return self._iteration_ended(kind, details, path, timestamp)
        if kind == "ExecutionStarted":
            if self._prefix:
                self._open_scope(self._prefix, EXECUTION, timestamp, details.get("input"))
            return self._prefix
        if kind in _EXECUTION_ENDED:
            self._execution_ended(kind, details, timestamp)
            return self._prefix
        if kind.startswith("MapState"):
            return self._map_state_event(kind, details, path)
        if kind in _TASK_SCHEDULED:
            state = self._nearest(lambda s: True, path)
            if state is not None:
                state.attempts += 1
        elif kind in ("TaskSubmitted", *_TASK_SUCCEEDED):
            self._task_output(kind, details, path)
        elif kind.endswith("Failed") or kind.endswith("TimedOut"):
            self._task_failed(kind, details, path)
        return path

    def _entered(
        self, kind: str, details: Mapping[str, Any], path: IterationPath, timestamp: datetime
    ) -> IterationPath:
        scope = self._scopes.get(path)
        if scope is not None and not scope.announced:
            scope.input = _parsed(details.get("input"))
            self._announce(scope)
        state = _OpenState(path, details["name"], kind[: -len("StateEntered")], timestamp)
        self._open.append(state)
        self._emit(
            StateEvent(
                state.name, state.type, timestamp, None, ENTERED, path=path, loop=self._loop(state)
            )
        )
        return path

    def _exited(
        self, details: Mapping[str, Any], path: IterationPath, timestamp: datetime
    ) -> IterationPath:
        name = details["name"]
        state = self._nearest(lambda s: s.name == name, path)
        if state is None:
            return path
        output = details.get("output")
        scope = self._scopes.get(state.path)
        if scope is not None:
            scope.last_output = output
        top_level = state.path == () and not self._prefix
        self._close(
            state,
            timestamp,
            "CAUGHT" if state.failed else "SUCCEEDED",
            output=_parsed(output) if top_level else None,
        )
        return state.path

    def _iteration_started(
        self, details: Mapping[str, Any], path: IterationPath, timestamp: datetime
    ) -> IterationPath:
        name = details.get("name", "")
        # The Map state this iteration belongs to: its path is the iteration's parent path
        # (the previous event may be the end of the previous iteration, one level deeper).
        map_state = self._nearest(lambda s: s.name == name and s.type == "Map", path)
        parent = map_state.path if map_state is not None else path
        iteration = (*parent, Branch(name, int(details.get("index", 0))))
        self._open_scope(iteration, MAP_ITERATION, timestamp, None)
        return iteration

    def _iteration_ended(
        self, kind: str, details: Mapping[str, Any], path: IterationPath, timestamp: datetime
    ) -> IterationPath:
        branch = Branch(details.get("name", ""), int(details.get("index", 0)))
        candidates = [p for p in self._scopes if p and p[-1] == branch]
        inside = [p for p in candidates if path[: len(p)] == p]
        if not (inside or candidates):
            return path
        iteration = max(inside or candidates, key=len)
        scope = self._scopes[iteration]
        outcome = {"MapIterationFailed": "FAILED", "MapIterationAborted": "ABORTED"}.get(
            kind, "SUCCEEDED"
        )
        # A Fail state is never exited: it ends with its iteration, which then failed.
        # Anything else still running inside was cut short: a nested iteration's states
        # when their Map failed, or a state whose iteration moto reports "succeeded" after
        # a sibling failed (AWS aborts such iterations).
        inside_states = [s for s in self._open if s.path[: len(iteration)] == iteration]
        for state in inside_states:
            failed_here = outcome == "FAILED" and state.path == iteration
            self._close(state, timestamp, "FAILED" if failed_here else "ABORTED")
        for nested in sorted(self._scopes.values(), key=lambda s: -len(s.path)):
            if len(nested.path) > len(iteration) and nested.path[: len(iteration)] == iteration:
                self._close_scope(nested, timestamp, "ABORTED")
        if outcome == "SUCCEEDED" and inside_states:
            outcome = "ABORTED"
        self._close_scope(scope, timestamp, outcome)
        return iteration[:-1]

    def _execution_ended(self, kind: str, details: Mapping[str, Any], timestamp: datetime) -> None:
        self.ended = True
        outcome = {
            "ExecutionSucceeded": "SUCCEEDED",
            "ExecutionAborted": "ABORTED",
            "ExecutionTimedOut": "TIMED_OUT",
        }.get(kind, "FAILED")
        if outcome != "SUCCEEDED" and (details.get("error") or details.get("cause")):
            self.last_error, self.last_cause = details.get("error"), details.get("cause")
        for state in list(self._open):
            self._close(state, timestamp, outcome)
        for scope in sorted(self._scopes.values(), key=lambda s: -len(s.path)):
            if scope.path != self._prefix:
                self._close_scope(scope, timestamp, outcome)
        execution = self._scopes.get(self._prefix)
        if execution is not None:
            execution.last_output = details.get("output", execution.last_output)
            execution.error, execution.cause = details.get("error"), details.get("cause")
            self._close_scope(execution, timestamp, outcome)

    def _map_state_event(
        self, kind: str, details: Mapping[str, Any], path: IterationPath
    ) -> IterationPath:
        """MapStateStarted / Succeeded / Failed / Aborted: about the nearest open Map state."""
        map_state = self._nearest(lambda s: s.type == "Map", path)
        if map_state is None:
            return path
        if kind in ("MapStateFailed", "MapStateAborted"):
            map_state.failed = True
            # MapStateFailed carries no error: the iteration's is in the caught output.
            map_state.error = details.get("error") or map_state.error
            map_state.cause = details.get("cause") or map_state.cause
        return map_state.path

    def _task_output(self, kind: str, details: Mapping[str, Any], path: IterationPath) -> None:
        state = self._nearest(lambda s: True, path)
        if state is None:
            return
        if kind != "TaskSubmitted":
            # A retried task that finally succeeds is a success.
            state.failed, state.error, state.cause = False, None, None
        arn = _execution_arn(_parsed(details.get("output")))
        if arn and all(child.execution_arn != arn for child in self.children):
            branch = Branch(state.name, arn.rsplit(":", 1)[-1])
            self.children.append(ChildExecution(arn, (*state.path, branch)))

    def _task_failed(self, kind: str, details: Mapping[str, Any], path: IterationPath) -> None:
        error, cause = details.get("error"), details.get("cause")
        if error or cause:
            self.last_error, self.last_cause = error, cause
        state = self._nearest(lambda s: True, path)
        if state is not None:
            state.failed = True
            state.error = error or state.error or kind
            state.cause = cause or state.cause

    # -- bookkeeping -------------------------------------------------------------------------
    def _nearest(
        self, match: Callable[[_OpenState], bool], path: IterationPath
    ) -> _OpenState | None:
        """The latest open state matching, on this path or the nearest enclosing one."""
        candidates = [s for s in self._open if match(s) and path[: len(s.path)] == s.path]
        if not candidates:
            candidates = [s for s in self._open if match(s)]
        if not candidates:
            return None
        order = {id(s): n for n, s in enumerate(self._open)}
        return max(candidates, key=lambda s: (len(s.path), order[id(s)]))

    def _loop(self, state: _OpenState) -> str | None:
        return self._loops.get(state.name)

    def _close(self, state: _OpenState, end: datetime, outcome: str, output: Any = None) -> None:
        self._open.remove(state)
        self._emit(
            StateEvent(
                state.name,
                state.type,
                state.start,
                (end - state.start).total_seconds(),
                outcome,
                state.error,
                state.cause,
                path=state.path,
                loop=self._loop(state),
                retries=max(state.attempts - 1, 0),
                output=output,
            )
        )

    def _open_scope(
        self, path: IterationPath, kind: str, start: datetime, raw_input: str | None
    ) -> None:
        scope = _OpenScope(path, kind, start)
        self._scopes[path] = scope
        if raw_input is not None:
            scope.input = _parsed(raw_input)
            self._announce(scope)

    def _announce(self, scope: _OpenScope) -> None:
        scope.announced = True
        self._emit(
            StateEvent(
                scope.path[-1].state,
                scope.type,
                scope.start,
                None,
                ENTERED,
                path=scope.path,
                input=scope.input,
            )
        )

    def _close_scope(self, scope: _OpenScope, end: datetime, outcome: str) -> None:
        if not scope.announced:
            self._announce(scope)
        del self._scopes[scope.path]
        self._emit(
            StateEvent(
                scope.path[-1].state,
                scope.type,
                scope.start,
                (end - scope.start).total_seconds(),
                outcome,
                scope.error,
                scope.cause,
                path=scope.path,
                input=scope.input,
                output=_parsed(scope.last_output),
            )
        )

    def _emit(self, event: StateEvent) -> None:
        self.events.append(event)
        if self._on_event is not None:
            self._on_event(event)


def _parsed(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _execution_arn(output: Any) -> str | None:
    """The child execution in a Task's output: StartExecution's response (TaskSubmitted of
    .sync, TaskSucceeded otherwise) or DescribeExecution's (TaskSucceeded of .sync)."""
    if not isinstance(output, Mapping):
        return None
    arn = output.get("ExecutionArn") or output.get("executionArn")
    return arn if isinstance(arn, str) and ":execution:" in arn else None


# -- poll loops ------------------------------------------------------------------------------


def poll_loops(definition: Mapping[str, Any] | str) -> dict[str, str]:
    """State name -> loop name, for every state on a cycle of the state machine's graph.

    A loop is named after its Task states (the work each round repeats, e.g. "QueryState"),
    or its first state when it has none. Nested machines (Map, Parallel) count separately.
    """
    machine = json.loads(definition) if isinstance(definition, str) else definition
    loops: dict[str, str] = {}
    for states in _state_scopes(machine):
        for component in _cycles(states):
            tasks = [name for name in states if name in component and _is_task(states[name])]
            label = "/".join(tasks) or next(name for name in states if name in component)
            loops.update(dict.fromkeys(component, label))
    return loops


def _is_task(state: Any) -> bool:
    return isinstance(state, Mapping) and state.get("Type") == "Task"


def _state_scopes(machine: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    states = machine.get("States")
    if not isinstance(states, Mapping):
        return
    yield states
    for state in states.values():
        if not isinstance(state, Mapping):
            continue
        nested = [state.get("ItemProcessor"), state.get("Iterator"), *state.get("Branches", [])]
        for machine_inside in nested:
            if isinstance(machine_inside, Mapping):
                yield from _state_scopes(machine_inside)


def _successors(state: Mapping[str, Any]) -> list[str]:
    targets = [state.get("Next"), state.get("Default")]
    targets += [rule.get("Next") for rule in state.get("Choices", []) if isinstance(rule, Mapping)]
    targets += [rule.get("Next") for rule in state.get("Catch", []) if isinstance(rule, Mapping)]
    return [t for t in targets if isinstance(t, str)]


def _cycles(states: Mapping[str, Any]) -> list[set[str]]:
    """The strongly connected components with a cycle (Tarjan's algorithm, iterative)."""
    graph = {
        name: [t for t in _successors(state) if t in states]
        for name, state in states.items()
        if isinstance(state, Mapping)
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for root in graph:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            successors = graph[node]
            if child < len(successors):
                work.append((node, child + 1))
                target = successors[child]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if low[node] == index[node]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    found.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


# -- the transition log ------------------------------------------------------------------------


def describe_path(path: IterationPath) -> str:
    """An iteration path as text: `Tiers[1]/Models[0]` (empty at the top level)."""
    return "/".join(str(branch) for branch in path)


def transition_line(event: StateEvent, origin: datetime | None) -> str:
    """One line of the full transition log (a state or iteration exited), `origin` being
    the execution's start; with the error and cause on a second line when there is one."""
    after = "" if origin is None else f"{(event.start - origin).total_seconds():.1f}s"
    where = describe_path(event.path if not event.is_scope else event.path[:-1])
    name = str(event.path[-1]) if event.is_scope else event.name
    state = f"{where}/{name}" if where else name
    took = "" if event.duration is None else f"{event.duration:.2f}s"
    outcome = event.outcome + (f" (retried {event.retries}x)" if event.retries else "")
    line = f"{after:>9}  {state:<48} {event.type:<12} {outcome:<10} {took:>9}"
    detail = ": ".join(text for text in (event.error, event.cause) if text)
    if detail:
        line += f"\n{'':>11}{' '.join(detail.split())[:500]}"
    return line.rstrip()
