"""One execution of a state machine, followed to its end: its state events as they happen,
its full transition log on disk, and its result (status, error, the models it published).

`follow_execution` polls DescribeExecution and GetExecutionHistory, feeds the events to a
HistoryFollower, and follows the child executions a Task starts (a `states:startExecution`
integration) with their own followers, placed under that Task. The per-model summaries come
from the execution's output: the tiers Map's result lists what each model published.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from etl_local.history import (
    ENTERED,
    ChildExecution,
    HistoryFollower,
    IterationPath,
    StateEvent,
    transition_line,
)

__all__ = [
    "ModelSummary",
    "RunResult",
    "cost_in_output",
    "follow_execution",
    "model_summaries",
]

_TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
_POLL_SECONDS = 0.25
# GetExecutionHistory's largest page (its API reference: "the max allowed page size is 1000").
_HISTORY_PAGE_MAX = 1000


@dataclass(frozen=True)
class ModelSummary:
    model: str
    tier: str
    table: str
    rows_written: int
    partitions_written: int
    bytes_read: int
    # Why the model was skipped (its sources have no rows in its days); None: it ran.
    skipped: str | None = None


@dataclass(frozen=True)
class RunResult:
    status: str
    error: str | None
    cause: str | None
    execution_arn: str
    # Every state entered and exited (Map iterations and child executions are not listed).
    events: list[StateEvent] = field(default_factory=list)
    models: list[ModelSummary] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    output: Any = None
    # The full transition log of the execution (every state, iteration and error).
    log_path: Path | None = None

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"

    @property
    def restated(self) -> list[dict[str, Any]]:
        """Earlier days this run restated for late data: date and new events per source."""
        return _late_days(self.output, "restated")

    @property
    def beyond_lookback(self) -> list[dict[str, Any]]:
        """Days that received late data older than the look-back bound: not restated."""
        return _late_days(self.output, "beyond_lookback")

    @property
    def future_events(self) -> list[dict[str, Any]]:
        """Days after the run's day that events are dated on: reported, not published."""
        return _late_days(self.output, "future_events")

    @property
    def sources(self) -> list[dict[str, Any]]:
        """Per declared source, what the run's conversion took in: new events, partitions
        converted, malformed lines dropped (and in which files). From the Register step's
        result, which a failed execution has too when it got that far."""
        rows = self._register.get("intake")
        return (
            [dict(row) for row in rows if isinstance(row, Mapping)]
            if isinstance(rows, list)
            else []
        )

    @property
    def waiting_for_data(self) -> list[str]:
        """Declared sources that have no data yet."""
        return [str(name) for name in self._register.get("waiting_for_data") or []]

    @property
    def schema_changes(self) -> list[dict[str, Any]]:
        return [dict(change) for change in self._register.get("schema_changes") or []]

    @property
    def caught_up(self) -> dict[str, Any] | None:
        """The days before its window the run published because no run had (an outage)."""
        return self._plan.get("caught_up") or None

    @property
    def missed(self) -> dict[str, Any] | None:
        """Unpublished days too old to catch up: to be backfilled."""
        return self._plan.get("missed") or None

    @property
    def _register(self) -> Mapping[str, Any]:
        return _step_result(
            self.output, self.events, "register", ("Register", "RegisterAfterCrawl")
        )

    @property
    def _plan(self) -> Mapping[str, Any]:
        return _step_result(self.output, self.events, "run", ("Begin",))

    @property
    def cost(self) -> dict[str, Any] | None:
        """What the run cost (etl_lambdas.run_cost's document), as its run-cost step measured
        it; None when the run ended before that step."""
        return cost_in_output(self.output)

    def to_json(self) -> dict[str, Any]:
        """The `etl run --json` document."""
        return {
            "status": self.status,
            "error": self.error,
            "cause": self.cause,
            "caught_up": self.caught_up,
            "missed": self.missed,
            "models": [
                {
                    "model": m.model,
                    "tier": m.tier,
                    "table": m.table,
                    "rows_written": int(m.rows_written),
                    "partitions_written": int(m.partitions_written),
                    "bytes_read": int(m.bytes_read),
                    "skipped": m.skipped,
                }
                for m in self.models
            ],
            "sources": self.sources,
            "waiting_for_data": self.waiting_for_data,
            "schema_changes": self.schema_changes,
            "restated": self.restated,
            "beyond_lookback": self.beyond_lookback,
            "future_events": self.future_events,
            "cost": self.cost,
        }


def _step_result(
    output: Any, events: list[StateEvent], key: str, states: tuple[str, ...]
) -> Mapping[str, Any]:
    """A top-level step's result (`$.<key>.Payload`): from the execution's output, or, when
    it failed and has none, from the output of the last of `states` that exited."""
    found = output.get(key) if isinstance(output, Mapping) else None
    if not isinstance(found, Mapping):
        exited = [
            e for e in events if e.name in states and not e.path and isinstance(e.output, Mapping)
        ]
        found = exited[-1].output.get(key) if exited else None
    payload = found.get("Payload") if isinstance(found, Mapping) else None
    return payload if isinstance(payload, Mapping) else {}


def cost_in_output(output: Any) -> dict[str, Any] | None:
    """The run-cost step's document in an execution's output (`$.cost.Payload`, where the
    MeasureCost state's ResultSelector and ResultPath put it)."""
    cost = output.get("cost") if isinstance(output, Mapping) else None
    payload = cost.get("Payload") if isinstance(cost, Mapping) else None
    return dict(payload) if isinstance(payload, Mapping) else None


def _late_days(output: Any, key: str) -> list[dict[str, Any]]:
    """The Restate step's `key` rows from the execution output (`$.restate.Payload`, where
    the Restate state's ResultSelector and ResultPath put them)."""
    restate = output.get("restate") if isinstance(output, Mapping) else None
    payload = restate.get("Payload") if isinstance(restate, Mapping) else None
    rows = payload.get(key) if isinstance(payload, Mapping) else None
    return [dict(row) for row in rows if isinstance(row, Mapping)] if isinstance(rows, list) else []


@dataclass
class FollowedExecution:
    """What following an execution saw: its last description and every state event."""

    description: dict[str, Any]
    events: list[StateEvent]
    last_error: str | None
    last_cause: str | None
    log_path: Path | None

    @property
    def output(self) -> Any:
        output = self.description.get("output")
        return json.loads(output) if isinstance(output, str) else output


def follow_execution(
    sfn: Any,
    execution_arn: str,
    *,
    on_event: Callable[[StateEvent], None] | None = None,
    timeout: float,
    log_dir: Path | None = None,
    poll_seconds: float = _POLL_SECONDS,
) -> FollowedExecution:
    """Follow an execution (and the child executions it starts) until it ends.

    Past `timeout` seconds the execution is stopped (error Local.WaitExceeded); children
    still running then are left to end on their own. With
    `log_dir`, the transition log is written to `<log_dir>/<execution name>.log` as the
    states finish.
    """
    name = execution_arn.rsplit(":", 1)[-1]
    with _transition_log(log_dir, name, execution_arn) as log:
        events: list[StateEvent] = []

        def record(event: StateEvent) -> None:
            events.append(event)
            log(event)
            if on_event is not None:
                on_event(event)

        root = _Followed(sfn, execution_arn, record, ())
        followed = [root]
        deadline = time.monotonic() + timeout
        while True:
            description = sfn.describe_execution(executionArn=execution_arn)
            _poll_all(sfn, followed, record)
            # A child started without .sync may outlive its parent: follow it to its end too.
            if description["status"] in _TERMINAL and all(f.ended(sfn) for f in followed[1:]):
                break
            if time.monotonic() > deadline:
                sfn.stop_execution(
                    executionArn=execution_arn,
                    error="Local.WaitExceeded",
                    cause=f"the local runtime stopped waiting after {timeout:.0f} s",
                )
                description = sfn.describe_execution(executionArn=execution_arn)
                break
            time.sleep(poll_seconds)
        _poll_all(sfn, followed, record)
        log.finish(description)
    return FollowedExecution(
        description=description,
        events=events,
        last_error=root.follower.last_error,
        last_cause=root.follower.last_cause,
        log_path=log.path,
    )


class _Followed:
    """One execution's follower, placed at `prefix` (a child under the Task that started it)."""

    def __init__(
        self,
        sfn: Any,
        execution_arn: str,
        on_event: Callable[[StateEvent], None],
        prefix: IterationPath,
    ) -> None:
        self.execution_arn = execution_arn
        self.follower = HistoryFollower(
            on_event, definition=_definition(sfn, execution_arn), prefix=prefix
        )

        self._ended = False

    def poll(self, sfn: Any) -> None:
        if self.follower.ended:
            return  # its last event is read: an ended execution's history does not change
        self.follower.consume(_history(sfn, self.execution_arn, self.follower.seen))

    def ended(self, sfn: Any) -> bool:
        if not self._ended:
            status = sfn.describe_execution(executionArn=self.execution_arn)["status"]
            self._ended = status in _TERMINAL
        return self._ended


def _poll_all(sfn: Any, followed: list[_Followed], record: Callable[[StateEvent], None]) -> None:
    """One round over every followed execution, children found on the way included."""
    position = 0
    while position < len(followed):
        current = followed[position]
        current.poll(sfn)
        known = {f.execution_arn for f in followed}
        for child in current.follower.children:
            if child.execution_arn not in known:
                followed.append(_child(sfn, child, record))
        position += 1


def _child(sfn: Any, child: ChildExecution, record: Callable[[StateEvent], None]) -> _Followed:
    return _Followed(sfn, child.execution_arn, record, child.path)


def _definition(sfn: Any, execution_arn: str) -> str | None:
    """The execution's state machine definition (for its poll loops), if it can be read."""
    try:
        machine = sfn.describe_execution(executionArn=execution_arn)["stateMachineArn"]
        definition: str = sfn.describe_state_machine(stateMachineArn=machine)["definition"]
    except Exception:  # the view loses its loop grouping, nothing else
        return None
    return definition


def _history(sfn: Any, execution_arn: str, seen: int) -> list[dict[str, Any]]:
    """History events after the first `seen` ones, oldest first.

    A poll reads what is new, not the whole history again: the newest event first (an
    execution that did nothing since is one event read), then, newest first, exactly as many
    as follow the last one seen. Events "are numbered sequentially, starting at one"
    (HistoryEvent, AWS Step Functions API Reference)."""
    page = sfn.get_execution_history(executionArn=execution_arn, reverseOrder=True, maxResults=1)
    newest_first: list[dict[str, Any]] = list(page["events"])
    token = page.get("nextToken")
    while token and newest_first and newest_first[-1]["id"] > seen + 1:
        missing = newest_first[-1]["id"] - seen - 1
        page = sfn.get_execution_history(
            executionArn=execution_arn,
            reverseOrder=True,
            maxResults=min(missing, _HISTORY_PAGE_MAX),
            nextToken=token,
        )
        newest_first.extend(page["events"])
        token = page.get("nextToken")
    return [event for event in reversed(newest_first) if event["id"] > seen]


class _TransitionLog:
    """Writes every finished state to the execution's log file, line by line."""

    def __init__(self, stream: TextIO | None, path: Path | None) -> None:
        self._stream = stream
        self.path = path
        self._origin: datetime | None = None

    def __call__(self, event: StateEvent) -> None:
        if self._origin is None:
            self._origin = event.start
        if self._stream is None or event.outcome == ENTERED:
            return
        self._stream.write(transition_line(event, self._origin) + "\n")
        self._stream.flush()

    def finish(self, description: Mapping[str, Any]) -> None:
        if self._stream is None:
            return
        status = description.get("status", "")
        self._stream.write(f"execution {status}")
        for key in ("error", "cause"):
            if description.get(key):
                self._stream.write(f"\n{key}: {description[key]}")
        self._stream.write("\n")


@contextmanager
def _transition_log(
    log_dir: Path | None, name: str, execution_arn: str
) -> Iterator[_TransitionLog]:
    if log_dir is None:
        yield _TransitionLog(None, None)
        return
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / f"{name}.log"
    with path.open("w", encoding="utf-8") as stream:
        stream.write(f"execution {execution_arn}\n")
        yield _TransitionLog(stream, path)


# -- what the run published --------------------------------------------------------------------

# The per-model result the tiers' Map collects (the ModelSummary state of the ASL).
_SUMMARY_KEYS = ("model", "table", "partitions", "rows")


def model_summaries(output: Any, events: list[StateEvent] | None = None) -> list[ModelSummary]:
    """Per model, what the run published: from the execution's output (the tiers Map's
    result), or, when the execution failed and has none, from the results of the model
    iterations that finished (what the Map would have collected)."""
    found = list(_summaries_in(output))
    if not found and events:
        for event in events:
            if event.is_scope and event.outcome == "SUCCEEDED":
                found.extend(_summaries_in(event.output))
    by_model: dict[str, ModelSummary] = {}
    for item in found:
        by_model[str(item["model"])] = ModelSummary(
            model=str(item["model"]),
            tier=str(item.get("tier", "")),
            table=str(item["table"]),
            rows_written=int(item["rows"] or 0),
            partitions_written=int(item["partitions"] or 0),
            bytes_read=int(item.get("data_scanned_bytes") or 0),
            skipped=str(item["skipped"]) if item.get("skipped") else None,
        )
    return list(by_model.values())


def _summaries_in(value: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(value, Mapping):
        if all(key in value for key in _SUMMARY_KEYS):
            yield value
            return
        for item in value.values():
            yield from _summaries_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _summaries_in(item)
