"""The run view on real execution histories (recorded from the local runtime, see
fixtures/record_histories.py): grouping by stage, Map iteration and poll loop, the progress
count, and plain lines off a terminal."""

from __future__ import annotations

import gzip
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from etl_local.execution import model_summaries
from etl_local.history import ENTERED, HistoryFollower, StateEvent, poll_loops
from etl_local.run_view import (
    LOOP,
    LiveRunView,
    PlainRunView,
    RunTree,
    open_view,
    tree_rows,
)

FIXTURES = Path(__file__).parent / "fixtures"
STAGES = ["Plan", "ConvertRaw", "StartCrawler", "CrawlerState", "Tiers"]
MODELS_BY_TIER = {
    "dwd": ["traffic_events"],
    "dws": ["sensor_hourly", "daily_active_sensors"],
    "ads": ["segment_congestion_daily"],
}


def recorded(name: str) -> dict[str, Any]:
    with gzip.open(FIXTURES / f"{name}.json.gz", "rt", encoding="utf-8") as handle:
        document: dict[str, Any] = json.load(handle)
    for event in document["events"]:
        event["timestamp"] = datetime.fromisoformat(event["timestamp"])
    return document


def state_events(document: dict[str, Any]) -> list[StateEvent]:
    follower = HistoryFollower(definition=document["definition"])
    follower.consume(document["events"])
    return follower.events


def tree_of(events: list[StateEvent]) -> RunTree:
    tree = RunTree()
    for event in events:
        tree.apply(event)
    return tree


def outline(tree: RunTree) -> list[tuple[int, str, str]]:
    return [(depth, node.label, node.status) for depth, node in tree_rows(tree)]


def test_a_day_is_stages_then_tiers_then_models_one_line_each() -> None:
    document = recorded("history_one_day")

    rows = outline(tree_of(state_events(document)))

    expected = [(0, stage, "SUCCEEDED") for stage in STAGES]
    for tier, models in MODELS_BY_TIER.items():
        expected.append((1, tier, "SUCCEEDED"))
        expected += [(2, model, "SUCCEEDED") for model in models]
    expected += [(0, "NotifySuccess", "SUCCEEDED"), (0, "Succeeded", "SUCCEEDED")]
    assert rows == expected
    assert len(document["events"]) > 10 * len(rows)


def test_a_poll_loop_is_one_line_counting_its_rounds() -> None:
    document = recorded("history_one_day")
    tree = tree_of(state_events(document))
    # the rounds, counted in the raw history: QueryState entered with this model's input
    polls = sum(
        1
        for event in document["events"]
        if event["type"] == "TaskStateEntered"
        and event["stateEnteredEventDetails"]["name"] == "QueryState"
        and json.loads(event["stateEnteredEventDetails"]["input"])["model"] == "traffic_events"
    )

    iteration = next(
        scope
        for tier in tree.root.children["Tiers"].children.values()
        for scope in tier.children["Models"].children.values()
        if scope.label == "traffic_events"
    )

    assert list(iteration.children) == ["Write", "QueryState", "Audit", "Publish", "ModelSummary"]
    loop = iteration.children["QueryState"]
    assert (loop.kind, loop.rounds, loop.status) == (LOOP, polls, "SUCCEEDED")
    assert polls > 1
    crawler = tree.root.children["CrawlerState"]
    assert (crawler.kind, crawler.rounds) == (LOOP, 1)


def test_poll_loops_are_the_cycles_of_the_definition_named_by_their_tasks() -> None:
    loops = poll_loops(recorded("history_one_day")["definition"])

    crawler = {"WaitForCrawler", "CrawlerState", "CountCrawlerPoll", "CrawlerDone"}
    queries = {"WaitForQueries", "QueryState", "CountQueryPoll", "QueriesDone"}
    assert {name for name, loop in loops.items() if loop == "CrawlerState"} == crawler
    assert {name for name, loop in loops.items() if loop == "QueryState"} == queries
    assert "Write" not in loops and "Tiers" not in loops


def test_progress_is_known_from_the_plan_and_counts_chunks_of_finished_models() -> None:
    events = state_events(recorded("history_backfill"))
    tree = RunTree()
    seen: list[tuple[bool, int, int, int]] = []
    for event in events:
        tree.apply(event)
        progress = tree.progress
        snapshot = (
            progress.known,
            progress.done_models,
            progress.done_chunks,
            progress.total_chunks,
        )
        if not seen or seen[-1] != snapshot:
            seen.append(snapshot)

    # Unknown until Plan exits; then 4 models, 6 chunks (the hourly ones in two chunks of
    # at most 100 partitions); done in the order the models finish.
    assert seen[0] == (False, 0, 0, 0)
    assert seen[1] == (True, 0, 0, 6)
    assert [s[2] for s in seen[1:]] == sorted(s[2] for s in seen[1:])
    assert seen[-1] == (True, 4, 6, 6)
    assert tree.progress.summary() == "4/4 models, 6/6 chunks"
    chunks = {
        node.label: node.detail
        for depth, node in tree_rows(tree)
        if node.label in {"traffic_events", "daily_active_sensors"}
    }
    assert chunks == {
        "traffic_events": "2 chunks 2026-03-02..2026-03-06",
        "daily_active_sensors": "1 chunk 2026-03-02..2026-03-06",
    }


def test_a_failed_model_shows_its_states_and_a_cut_sibling_is_aborted() -> None:
    events = state_events(recorded("history_model_failed"))
    tree = tree_of(events)

    rows = outline(tree)

    assert rows[rows.index((1, "dws", "FAILED")) + 1 :][:6] == [
        (2, "sensor_hourly", "FAILED"),
        (3, "Write", "SUCCEEDED"),
        (3, "QueryState", "SUCCEEDED"),
        (3, "QueriesUnsuccessful", "SUCCEEDED"),
        (3, "ModelFailed", "FAILED"),
        (2, "daily_active_sensors", "ABORTED"),
    ]
    assert (0, "Tiers", "CAUGHT") in rows and (0, "Failed", "FAILED") in rows
    # The Audit call the Lambda service failed once was retried, inside a finished model.
    dwd = tree.root.children["Tiers"].children[0]
    assert dwd.children["Models"].children[0].children["Audit"].retries == 1
    assert tree.progress.summary() == "1/4 models, 1/4 chunks, 2 failed"


def test_model_summaries_come_from_the_output_or_from_finished_iterations() -> None:
    day = recorded("history_one_day")
    output = json.loads(day["description"]["output"])
    summaries = {m.model: m for m in model_summaries(output)}
    assert set(summaries) == {m for models in MODELS_BY_TIER.values() for m in models}
    events = summaries["traffic_events"]
    published = output["results"][0][0]
    assert (events.rows_written, events.partitions_written, events.bytes_read) == (
        published["rows"],
        published["partitions"],
        published["data_scanned_bytes"],
    )

    failed = recorded("history_model_failed")
    assert "output" not in failed["description"]
    partial = model_summaries(None, state_events(failed))
    assert [m.model for m in partial] == ["traffic_events"]


def _replay(view: Any, document: dict[str, Any]) -> None:
    follower = HistoryFollower(view.on_event, definition=document["definition"])
    follower.consume(document["events"])
    view.finish()


def test_off_a_terminal_each_line_is_printed_once_without_redrawing() -> None:
    document = recorded("history_backfill")
    out = io.StringIO()
    console = Console(file=out, width=200, force_terminal=False)

    with open_view(console) as view:
        assert isinstance(view, PlainRunView)
        follower = HistoryFollower(view.on_event, definition=document["definition"])
        follower.consume(document["events"])

    text = out.getvalue()
    lines = text.splitlines()
    assert "\r" not in text and "\x1b" not in text
    assert len(lines) == len(set(lines)) < 25
    assert sum("CrawlerState \u00d71" in line for line in lines) == 1
    finished = [line for line in lines if "traffic_events" in line]
    assert len(finished) == 1
    assert "SUCCEEDED" in finished[0] and "[1/4 models, 2/6 chunks]" in finished[0]
    assert lines[-1] == "progress: 4/4 models, 6/6 chunks"


def test_verbose_prints_the_full_transition_log() -> None:
    document = recorded("history_model_failed")
    out = io.StringIO()
    _replay(PlainRunView(Console(file=out, width=200), verbose=True), document)

    exits = [e for e in state_events(document) if e.outcome != ENTERED]
    lines = out.getvalue().splitlines()
    assert len([line for line in lines if line.startswith(" ")]) >= len(exits)
    assert any("Tiers[1]/Models[0]/ModelFailed" in line and "FAILED" in line for line in lines)


def test_on_a_terminal_the_view_is_live_and_the_final_tree_is_printed_once() -> None:
    document = recorded("history_one_day")
    out = io.StringIO()
    console = Console(file=out, width=120, height=40, force_terminal=True)

    with open_view(console) as view:
        assert isinstance(view, LiveRunView)
        follower = HistoryFollower(view.on_event, definition=document["definition"])
        follower.consume(document["events"])

    printed = out.getvalue()
    final = printed[printed.rindex("Plan") :]
    assert final.count("segment_congestion_daily") == 1
    assert "4/4 models, 4/4 chunks" in final


@pytest.mark.parametrize("name", ["history_one_day", "history_model_failed", "history_backfill"])
def test_every_state_entered_is_exited_and_every_iteration_closed(name: str) -> None:
    events = state_events(recorded(name))
    opened = [(e.path, e.name, e.type) for e in events if e.outcome == ENTERED]
    closed = [(e.path, e.name, e.type) for e in events if e.outcome != ENTERED]
    assert sorted(opened, key=repr) == sorted(closed, key=repr)
