"""ASL -> Mermaid: every state is drawn, every transition is an edge, Map iterators nest."""

from __future__ import annotations

import json
import re
from typing import Any

from etl_local.deploy import render_state_machine
from etl_local.graph import asl_to_mermaid
from etl_local.settings import LocalSettings

SMALL_ASL = {
    "StartAt": "Plan",
    "States": {
        "Plan": {
            "Type": "Task",
            "Resource": "arn:aws:lambda:eu-west-1:1:function:plan",
            "Next": "Poll",
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "NotifyFailure"}],
        },
        "Poll": {"Type": "Wait", "Seconds": 1, "Next": "Crawled?"},
        "Crawled?": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.state", "StringEquals": "SUCCEEDED", "Next": "Models"},
                {
                    "Or": [
                        {"Variable": "$.state", "StringEquals": "FAILED"},
                        {"Variable": "$.state", "StringEquals": "CANCELLED"},
                    ],
                    "Next": "NotifyFailure",
                },
            ],
            "Default": "Poll",
        },
        "Models": {
            "Type": "Map",
            "MaxConcurrency": 2,
            "ItemProcessor": {
                "StartAt": "Write",
                "States": {
                    "Write": {"Type": "Task", "Resource": "x", "Next": "Publish"},
                    "Publish": {"Type": "Task", "Resource": "x", "End": True},
                },
            },
            "Next": "Done",
            "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "NotifyFailure"}],
        },
        "NotifyFailure": {"Type": "Task", "Resource": "x", "Next": "Failed"},
        "Failed": {"Type": "Fail", "Error": "PipelineFailed"},
        "Done": {"Type": "Succeed"},
    },
}


def _edges(text: str) -> set[tuple[str, str, str]]:
    """(source, arrow, target) of every edge line, the label dropped."""
    found = set()
    for line in text.splitlines():
        match = re.match(r"^\s+(\S+) (-->|-\.->)(?:\|\"[^\"]*\"\|)? (\S+)$", line)
        if match:
            source, arrow, target = match.groups()
            found.add((source, arrow, target))
    return found


def test_every_state_appears_with_its_shape() -> None:
    text = asl_to_mermaid(SMALL_ASL)
    assert text.startswith("flowchart TD\n")
    assert 's_Plan["Plan"]' in text
    assert 's_Poll(["Poll (wait)"])' in text
    assert re.search(r's_Crawled__\d+\{"Crawled\?"\}', text)
    assert 'subgraph s_Models["Models (Map)"]' in text
    assert 's_Models__s_Write["Write"]' in text
    assert 's_Failed[["Failed (fail)"]]' in text
    assert 's_Done(["Done"])' in text


def test_edges_follow_next_choices_default_catch_and_end() -> None:
    text = asl_to_mermaid(json.dumps(SMALL_ASL))
    crawled = re.search(r"(s_Crawled__\d+)\{", text)
    assert crawled
    choice = crawled.group(1)
    assert _edges(text) == {
        ("start_", "-->", "s_Plan"),
        ("s_Plan", "-->", "s_Poll"),
        ("s_Plan", "-.->", "s_NotifyFailure"),
        ("s_Poll", "-->", choice),
        (choice, "-->", "s_Models"),
        (choice, "-->", "s_NotifyFailure"),
        (choice, "-->", "s_Poll"),
        ("s_Models", "-->", "s_Done"),
        ("s_Models", "-.->", "s_NotifyFailure"),
        ("s_Models__start_", "-->", "s_Models__s_Write"),
        ("s_Models__s_Write", "-->", "s_Models__s_Publish"),
        ("s_Models__s_Publish", "-->", "s_Models__end_"),
        ("s_NotifyFailure", "-->", "s_Failed"),
        ("s_Failed", "-->", "end_"),
        ("s_Done", "-->", "end_"),
    }


def test_edge_labels_name_conditions_and_caught_errors() -> None:
    text = asl_to_mermaid(SMALL_ASL)
    assert '-->|"$.state == #quot;SUCCEEDED#quot;"|' in text
    assert "or $.state == #quot;CANCELLED#quot;)" in text
    assert '-->|"default"| s_Poll' in text
    assert '-.->|"catch States.TaskFailed"| s_NotifyFailure' in text


def test_subgraph_is_closed_and_nodes_are_declared_once() -> None:
    lines = asl_to_mermaid(SMALL_ASL).splitlines()
    assert sum(1 for line in lines if line.strip().startswith("subgraph")) == sum(
        1 for line in lines if line.strip() == "end"
    )
    declared = [line.split("[")[0].split("(")[0].split("{")[0].strip() for line in lines]
    nodes = [d for d in declared if d.startswith("s_") and " " not in d]
    assert len(nodes) == len(set(nodes))


def _state_names(machine: dict[str, Any]) -> list[str]:
    names = []
    for name, state in machine["States"].items():
        names.append(name)
        processor = state.get("ItemProcessor") or state.get("Iterator")
        for nested in [processor] if processor else state.get("Branches", []):
            names.extend(_state_names(nested))
    return names


def test_the_pipeline_state_machine_renders_every_state() -> None:
    definition = json.loads(render_state_machine(LocalSettings()))
    text = asl_to_mermaid(definition)
    names = _state_names(definition)
    assert len(names) > 10
    for name in names:
        assert re.search(rf'[\[({{>]"{re.escape(name)}[" ]', text), name
    # Every edge target is a declared node, subgraph or terminal.
    declared = set(re.findall(r"^\s+(?:subgraph )?(\S+?)[\[({>]", text, flags=re.MULTILINE))
    for source, _, target in _edges(text):
        assert source in declared, source
        assert target in declared, target
