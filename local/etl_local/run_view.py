"""The `etl run` view: the execution as the Step Functions console groups it, live.

`RunTree` folds the state events of an execution (etl_local.history) into a tree: the
top-level states are the stages; a Map state holds its iterations and a Task that started a
child execution holds that execution; an iteration is labelled from its input (a model's
name, a tier's); the states of a poll loop (a cycle of the state machine's graph) are one
line with a counter (QueryState x7); `RunProgress` counts the models and chunks done
against the plan's (known once a top-level state's output carries the plan's work items).

`open_view` picks how to show it: on a terminal a live tree redrawn in place with a progress
bar, and the whole tree printed once at the end; elsewhere (CI logs, pipes) plain lines
printed once each, as things finish. `verbose` adds the full transition log.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from etl_local.console import readable_cause
from etl_local.history import ENTERED, Branch, IterationPath, StateEvent, transition_line

__all__ = ["LiveRunView", "PlainRunView", "RunProgress", "RunTree", "RunView", "open_view"]

RUNNING = "RUNNING"
STATE, LOOP, SCOPE = "state", "loop", "scope"

_ICONS = {
    RUNNING: ("…", "cyan"),
    "SUCCEEDED": ("✓", "green"),
    "FAILED": ("✗", "red"),
    "TIMED_OUT": ("✗", "red"),
    "ABORTED": ("-", "red"),
    "CAUGHT": ("!", "yellow"),
}
_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
_TIMES = "\u00d7"  # a loop's rounds: QueryState x7
_SEPARATOR = " \u203a "  # between the levels of a title
_LABEL_WIDTH = 56
_ERROR_WIDTH = 160


@dataclass
class Node:
    """A line of the tree: a state, a poll loop, or an iteration / child execution."""

    label: str
    kind: str
    type: str = ""
    status: str = RUNNING
    start: datetime | None = None
    end: datetime | None = None
    # Times entered (a loop: rounds, counted on the loop's first state).
    rounds: int = 0
    retries: int = 0
    error: str | None = None
    cause: str | None = None
    detail: str = ""
    children: dict[Any, Node] = field(default_factory=dict)
    # In a container: which child key each state name is shown under (its loop's, or its own).
    members: dict[str, Any] = field(default_factory=dict)
    first_member: str | None = None
    open_members: int = 0

    def seconds(self, now: datetime) -> float | None:
        if self.start is None:
            return None
        return ((self.end or now) - self.start).total_seconds()

    @property
    def holds_scopes(self) -> bool:
        return any(child.kind == SCOPE for child in self.children.values())

    @property
    def finished(self) -> bool:
        return self.status != RUNNING


class RunProgress:
    """Models and chunks done, of those the plan lists (work items: `model` and `chunks`)."""

    def __init__(self) -> None:
        self.chunks_by_model: dict[str, int] = {}
        self.done: set[str] = set()
        self.failed: set[str] = set()

    def apply(self, event: StateEvent) -> bool:
        """Count the event; True if it finished a unit of work (a model's iteration)."""
        if event.output is not None and not event.is_scope and not event.path:
            planned = dict(_work_items(event.output))
            if planned:
                self.chunks_by_model = planned
        if not event.is_scope or event.outcome == ENTERED:
            return False
        unit = _work_item(event.input)
        if unit is None:
            return False
        model = unit[0]
        if event.outcome == "SUCCEEDED":
            self.done.add(model)
            self.failed.discard(model)
        elif model not in self.done:
            self.failed.add(model)
        return True

    @property
    def known(self) -> bool:
        return bool(self.chunks_by_model)

    @property
    def total_models(self) -> int:
        return len(self.chunks_by_model)

    @property
    def total_chunks(self) -> int:
        return sum(self.chunks_by_model.values())

    @property
    def done_models(self) -> int:
        return len(self.done & set(self.chunks_by_model))

    @property
    def done_chunks(self) -> int:
        return sum(n for model, n in self.chunks_by_model.items() if model in self.done)

    def summary(self) -> str:
        text = (
            f"{self.done_models}/{self.total_models} models, "
            f"{self.done_chunks}/{self.total_chunks} chunks"
        )
        return text + (f", {len(self.failed)} failed" if self.failed else "")


def _work_item(value: Any) -> tuple[str, int] | None:
    if isinstance(value, Mapping) and isinstance(value.get("model"), str):
        chunks = value.get("chunks")
        if isinstance(chunks, list):
            return value["model"], len(chunks)
    return None


def _work_items(value: Any) -> Iterator[tuple[str, int]]:
    item = _work_item(value)
    if item is not None:
        yield item
    elif isinstance(value, Mapping):
        for inner in value.values():
            yield from _work_items(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _work_items(inner)


class RunTree:
    """The execution's states as a tree (thread-safe: a live view renders it meanwhile)."""

    def __init__(self) -> None:
        self.root = Node("execution", SCOPE)
        self.progress = RunProgress()
        self.origin: datetime | None = None
        self.lock = threading.RLock()

    def apply(self, event: StateEvent) -> Node:
        """Fold one event in; returns the node it changed."""
        with self.lock:
            if self.origin is None:
                self.origin = event.start
            if event.is_scope:
                node = self._scope(event.path)
                _apply_scope(node, event)
            else:
                node = self._state(self.container(event.path), event)
                _apply_state(node, event)
            self.progress.apply(event)
            return node

    def container(self, path: IterationPath) -> Node:
        """The node whose children are the states run on `path`."""
        return self._scope(path) if path else self.root

    def _scope(self, path: IterationPath) -> Node:
        owner = self._member(self.container(path[:-1]), path[-1].state)
        branch = path[-1]
        scope = owner.children.get(branch.key)
        if scope is None:
            scope = owner.children[branch.key] = Node(str(branch), SCOPE)
        return scope

    @staticmethod
    def _member(container: Node, name: str) -> Node:
        key = container.members.setdefault(name, name)
        node = container.children.get(key)
        if node is None:
            node = container.children[key] = Node(name, STATE)
        return node

    @staticmethod
    def _state(container: Node, event: StateEvent) -> Node:
        key = event.loop or event.name
        container.members[event.name] = key
        node = container.children.get(key)
        if node is None:
            kind = LOOP if event.loop else STATE
            node = container.children[key] = Node(key, kind, event.type)
        node.type = node.type or event.type
        return node

    def title(self, path: IterationPath, key: str | None = None) -> str:
        """Where a node is, in words: `Tiers > dwd > traffic_events` (a Map state that is all
        its iteration runs is left out, as in the tree), then `key` if given."""
        parts: list[str] = []
        with self.lock:
            for depth, branch in enumerate(path):
                container = self.container(path[:depth])
                if not (depth and _elided(container)):
                    parts.append(self._member(container, branch.state).label)
                parts.append(self._scope(path[: depth + 1]).label)
            if key is not None:
                parts.append(key)
        return _SEPARATOR.join(parts)


def _apply_state(node: Node, event: StateEvent) -> None:
    if event.outcome == ENTERED:
        if node.kind == LOOP:
            node.open_members += 1
            node.first_member = node.first_member or event.name
            node.rounds += event.name == node.first_member
        else:
            node.rounds += 1
        node.status, node.end = RUNNING, None
        node.start = node.start or event.start
        return
    node.end = event.start + timedelta(seconds=event.duration or 0)
    node.retries += event.retries
    if event.error or event.cause or node.kind == STATE:
        node.error, node.cause = event.error, event.cause
    if node.kind == LOOP:
        node.open_members = max(node.open_members - 1, 0)
        node.status = event.outcome if node.open_members == 0 else RUNNING
    else:
        node.status = event.outcome


def _apply_scope(node: Node, event: StateEvent) -> None:
    if event.outcome == ENTERED:
        node.label = scope_label(event.input, event.path[-1])
        node.detail = chunks_detail(event.input)
        node.start, node.status = event.start, RUNNING
        return
    node.start = node.start or event.start
    node.end = event.start + timedelta(seconds=event.duration or 0)
    node.status, node.error, node.cause = event.outcome, event.error, event.cause


def scope_label(iteration_input: Any, branch: Branch) -> str:
    """An iteration's name, from its input: the model it runs, else its tier or name."""
    if isinstance(iteration_input, Mapping):
        for key in ("model", "tier", "name"):
            if isinstance(iteration_input.get(key), str):
                return str(iteration_input[key])
    return str(branch)


def chunks_detail(iteration_input: Any) -> str:
    """`2 chunks 2026-11-03..2026-11-10` for an input that lists its chunks."""
    chunks = iteration_input.get("chunks") if isinstance(iteration_input, Mapping) else None
    if not isinstance(chunks, list) or not chunks:
        return ""
    text = f"{len(chunks)} chunk{'s' if len(chunks) != 1 else ''}"
    first, last = chunks[0], chunks[-1]
    dated = isinstance(first, Mapping) and isinstance(last, Mapping)
    if dated and first.get("start_date") and last.get("end_date"):
        text += f" {first['start_date']}..{last['end_date']}"
    return text


def _elided(scope: Node) -> bool:
    """An iteration that only runs a Map state shows the Map's iterations directly."""
    if scope.kind != SCOPE or len(scope.children) != 1:
        return False
    only = next(iter(scope.children.values()))
    return only.holds_scopes


# -- rendering ---------------------------------------------------------------------------------


def tree_rows(tree: RunTree) -> list[tuple[int, Node]]:
    """The visible nodes, depth first, with their depth.

    A finished iteration that holds no iterations itself (a model's) is one line; a failed
    or running one shows its states.
    """
    rows: list[tuple[int, Node]] = []

    def states(container: Node, depth: int) -> None:
        for node in container.children.values():
            rows.append((depth, node))
            for scope in _in_order(node.children):
                iteration(scope, depth + 1)

    def iteration(scope: Node, depth: int) -> None:
        rows.append((depth, scope))
        if _elided(scope):
            only = next(iter(scope.children.values()))
            for inner in _in_order(only.children):
                iteration(inner, depth + 1)
        elif not (scope.status == "SUCCEEDED" and not _holds_iterations(scope)):
            states(scope, depth + 1)

    with tree.lock:
        states(tree.root, 0)
    return rows


def _in_order(scopes: dict[Any, Node]) -> list[Node]:
    """Map iterations by index (they start in any order); child executions as started."""
    if all(isinstance(key, int) for key in scopes):
        return [scopes[key] for key in sorted(scopes)]
    return list(scopes.values())


def _holds_iterations(scope: Node) -> bool:
    return any(child.holds_scopes for child in scope.children.values())


def render_rows(rows: list[tuple[int, Node]], now: datetime, spinner: str = "…") -> list[Text]:
    """One Text per row, labels padded so that times line up; errors on their own line."""
    labels = [("  " * depth) + _label(node) for depth, node in rows]
    width = min(max((len(label) for label in labels), default=0), _LABEL_WIDTH)
    lines: list[Text] = []
    for (depth, node), label in zip(rows, labels, strict=True):
        icon, style = _ICONS.get(node.status, ("?", "magenta"))
        if node.status == RUNNING:
            icon = spinner
        line = Text.assemble((icon, style), " ", label.ljust(width), no_wrap=True)
        line.overflow = "ellipsis"
        line.append(f"  {_duration(node.seconds(now)):>7}", style="dim")
        if node.detail:
            line.append(f"  {node.detail}", style="dim")
        lines.append(line)
        if node.status not in (RUNNING, "SUCCEEDED") and (node.error or node.cause):
            error = Text("  " * (depth + 1) + "  " + _error_text(node), style=style, no_wrap=True)
            error.overflow = "ellipsis"
            lines.append(error)
    return lines


def _label(node: Node) -> str:
    text = node.label
    if node.kind == LOOP or node.rounds > 1:
        text += f" {_TIMES}{node.rounds}"
    if node.retries:
        text += f" (retried {node.retries}x)"
    return text


def _error_text(node: Node) -> str:
    cause = readable_cause(node.cause) if node.cause else ""
    text = f"{node.error}: {cause}" if node.error and cause else str(node.error or cause)
    return text[:_ERROR_WIDTH]


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.2f}s" if seconds < 10 else f"{seconds:.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def progress_line(tree: RunTree, now: datetime) -> RenderableType:
    progress = tree.progress
    elapsed = _duration((now - tree.origin).total_seconds()) if tree.origin else ""
    grid = Table.grid(padding=(0, 1))
    if not progress.known:
        grid.add_row(Text("planning…", style="cyan"), Text(elapsed, style="dim"))
        return grid
    bar = ProgressBar(total=progress.total_chunks, completed=progress.done_chunks, width=30)
    grid.add_row(bar, Text(progress.summary()), Text(elapsed, style="dim"))
    return grid


# -- the two views -----------------------------------------------------------------------------


class RunView(Protocol):
    def on_event(self, event: StateEvent) -> None: ...

    def finish(self) -> None: ...


class LiveRunView:
    """On a terminal: the tree and the progress bar, redrawn in place (rich Live)."""

    def __init__(self, console: Console, verbose: bool = False) -> None:
        self.console = console
        self.tree = RunTree()
        self.verbose = verbose
        self._live = Live(
            console=console,
            get_renderable=self._renderable,
            refresh_per_second=8,
            transient=True,
            # Never swap sys.stdout: the functions print in their own processes
            # (etl_local.lambda_workers), into the Lambda log.
            redirect_stdout=False,
            redirect_stderr=False,
        )

    def start(self) -> None:
        self._live.start()

    def on_event(self, event: StateEvent) -> None:
        self.tree.apply(event)
        if self.verbose and event.outcome != ENTERED:
            line = transition_line(event, self.tree.origin)
            self.console.print(line, highlight=False, markup=False, soft_wrap=True)

    def finish(self) -> None:
        """Stop redrawing and print the final tree once, whole."""
        self._live.stop()
        now = datetime.now(UTC)
        with self.tree.lock:
            lines = render_rows(tree_rows(self.tree), now)
            footer = progress_line(self.tree, now) if self.tree.progress.known else None
        self.console.print(Group(*lines, *([footer] if footer else [])))

    def _renderable(self) -> RenderableType:
        now = datetime.now(UTC)
        spinner = _SPINNER[int(time.monotonic() * 10) % len(_SPINNER)]
        with self.tree.lock:
            lines = render_rows(tree_rows(self.tree), now, spinner)
            footer = progress_line(self.tree, now)
        room = max(self.console.size.height - 3, 3)
        if len(lines) > room:
            hidden = len(lines) - room + 1
            lines = [Text(f"… {hidden} lines above", style="dim"), *lines[-(room - 1) :]]
        return Group(*lines, footer)


class PlainRunView:
    """Not a terminal: one line per finished stage, loop, iteration or failure, never
    repeated or redrawn; with `verbose`, the full transition log instead."""

    def __init__(self, console: Console, verbose: bool = False) -> None:
        self.console = console
        self.tree = RunTree()
        self.verbose = verbose
        self._pending_loops: list[tuple[IterationPath, Node]] = []

    def start(self) -> None:
        return None

    def on_event(self, event: StateEvent) -> None:
        node = self.tree.apply(event)
        if self.verbose:
            if event.outcome != ENTERED:
                self._print(transition_line(event, self.tree.origin))
            return
        if event.outcome == ENTERED:
            self._report_finished_loops(event.path, node)
        elif event.is_scope:
            self._report_finished_loops(event.path, node)
            progress = self.tree.progress
            unit = _work_item(event.input) is not None and progress.known
            self._report(node, self.tree.title(event.path), progress.summary() if unit else "")
        elif node.kind == LOOP:
            shown = not event.path or node.status != "SUCCEEDED"
            if shown and all(loop is not node for _, loop in self._pending_loops):
                self._pending_loops.append((event.path, node))
        elif not event.path or (node.status != "SUCCEEDED" and not node.holds_scopes):
            # Inside iterations only what went wrong (a failed Map's iterations say why).
            self._report(node, self.tree.title(event.path, node.label))

    def finish(self) -> None:
        for path, loop in self._pending_loops:
            self._report(loop, self.tree.title(path, loop.label))
        self._pending_loops.clear()
        if self.tree.progress.known and not self.verbose:
            self._print(f"progress: {self.tree.progress.summary()}")

    def _report_finished_loops(self, path: IterationPath, current: Node) -> None:
        """A loop is over once something else starts on its path, or its iteration ends."""
        for pending in list(self._pending_loops):
            loop_path, loop = pending
            if loop_path[: len(path)] == path and loop is not current and not loop.open_members:
                self._pending_loops.remove(pending)
                self._report(loop, self.tree.title(loop_path, loop.label))

    def _report(self, node: Node, title: str, suffix: str = "") -> None:
        origin = self.tree.origin
        after = None if origin is None or node.end is None else (node.end - origin).total_seconds()
        label = title + _label(node)[len(node.label) :]
        text = f"{_duration(after):>8}  {node.status:<9}  {label}"
        text += f"  {_duration(node.seconds(node.end or datetime.now(UTC)))}"
        if node.detail:
            text += f"  ({node.detail})"
        if suffix:
            text += f"  [{suffix}]"
        self._print(text)
        if node.status != "SUCCEEDED" and (node.error or node.cause):
            self._print(f"{'':>10}{_error_text(node)}")

    def _print(self, text: str) -> None:
        self.console.print(text, highlight=False, markup=False, soft_wrap=True)


@contextmanager
def open_view(console: Console, verbose: bool = False) -> Iterator[RunView]:
    """The view that suits the console: live on a terminal, plain lines elsewhere."""
    view: LiveRunView | PlainRunView
    if console.is_terminal and not console.is_dumb_terminal:
        view = LiveRunView(console, verbose)
    else:
        view = PlainRunView(console, verbose)
    view.start()
    try:
        yield view
    finally:
        view.finish()
