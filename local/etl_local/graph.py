"""An ASL state machine as a Mermaid flowchart: what `etl graph` prints.

States become nodes (shape by type), transitions become edges: `Next`, a Choice's rules and
`Default`, `Catch` (dotted, labelled with the errors caught), `End` to a terminal node. Map
iterators and Parallel branches become subgraphs, so the nested flow stays readable; edges
into or out of a Map or Parallel state attach to its subgraph.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_]")
_START = "start_"
_END = "end_"


def asl_to_mermaid(definition: Mapping[str, Any] | str) -> str:
    """Mermaid `flowchart TD` text for an ASL definition (a dict or its JSON text)."""
    machine = json.loads(definition) if isinstance(definition, str) else definition
    lines = ["flowchart TD", f"    {_START}((start))", f"    {_END}((end))"]
    edges: list[str] = []
    start = _render_scope(machine, "", lines, edges, indent="    ")
    edges.insert(0, f"    {_START} --> {start}")
    return "\n".join([*lines, *edges]) + "\n"


def _render_scope(
    machine: Mapping[str, Any],
    scope: str,
    lines: list[str],
    edges: list[str],
    indent: str,
) -> str:
    """Render one `States` scope; returns the node id of its StartAt state."""
    states: Mapping[str, Mapping[str, Any]] = machine.get("States", {})
    end = f"{scope}{_END}" if scope else _END
    if scope:
        lines.append(f"{indent}{end}((done))")
    for name, state in states.items():
        node = _node_id(scope, name)
        kind = state.get("Type", "")
        nested = _nested_machines(state)
        if nested:
            lines.append(f'{indent}subgraph {node}["{_label(name)} ({kind})"]')
            lines.append(f"{indent}    direction TB")
            for index, branch in enumerate(nested):
                branch_scope = f"{node}__{index}__" if len(nested) > 1 else f"{node}__"
                branch_start = _render_scope(branch, branch_scope, lines, edges, indent + "    ")
                entry = f"{branch_scope}{_START}"
                lines.append(f"{indent}    {entry}((start))")
                edges.append(f"    {entry} --> {branch_start}")
            lines.append(f"{indent}end")
        else:
            lines.append(f"{indent}{node}{_shape(kind, name)}")
        _add_edges(state, node, scope, end, edges)
    return _node_id(scope, str(machine.get("StartAt", "")))


def _nested_machines(state: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if state.get("Type") == "Map":
        processor = state.get("ItemProcessor") or state.get("Iterator")
        return [processor] if isinstance(processor, Mapping) else []
    if state.get("Type") == "Parallel":
        return [b for b in state.get("Branches", []) if isinstance(b, Mapping)]
    return []


def _add_edges(state: Mapping[str, Any], node: str, scope: str, end: str, edges: list[str]) -> None:
    kind = state.get("Type")
    if "Next" in state:
        edges.append(f"    {node} --> {_node_id(scope, state['Next'])}")
    if state.get("End") is True or kind in ("Succeed", "Fail"):
        edges.append(f"    {node} --> {end}")
    for rule in state.get("Choices", []):
        if "Next" in rule:
            label = _label(_condition(rule))
            edges.append(f'    {node} -->|"{label}"| {_node_id(scope, rule["Next"])}')
    if "Default" in state:
        edges.append(f'    {node} -->|"default"| {_node_id(scope, state["Default"])}')
    for catcher in state.get("Catch", []):
        if "Next" in catcher:
            errors = _label(", ".join(catcher.get("ErrorEquals", [])))
            edges.append(f'    {node} -.->|"catch {errors}"| {_node_id(scope, catcher["Next"])}')


def _condition(rule: Mapping[str, Any]) -> str:
    """A short, readable form of a Choice rule (JSONPath comparators or a JSONata Condition)."""
    if "Condition" in rule:
        return str(rule["Condition"])
    for combinator, joiner in (("And", " and "), ("Or", " or ")):
        if combinator in rule:
            return "(" + joiner.join(_condition(r) for r in rule[combinator]) + ")"
    if "Not" in rule:
        return f"not {_condition(rule['Not'])}"
    variable = rule.get("Variable", "")
    for key, value in rule.items():
        if key in ("Variable", "Next"):
            continue
        operator = _operator(key)
        return f"{variable} {operator} {json.dumps(value)}"
    return str(variable)


def _operator(comparator: str) -> str:
    path = comparator.endswith("Path")
    base = comparator[: -len("Path")] if path else comparator
    for suffix, symbol in (
        ("GreaterThanEquals", ">="),
        ("LessThanEquals", "<="),
        ("GreaterThan", ">"),
        ("LessThan", "<"),
        ("Equals", "=="),
        ("Matches", "matches"),
    ):
        if base.endswith(suffix):
            return symbol
    return base  # IsPresent, IsNull, IsNumeric, ...


def _node_id(scope: str, name: str) -> str:
    # Mermaid ids must be plain words; a hash of the name keeps two similar names distinct.
    safe = _UNSAFE_ID.sub("_", name)
    if safe != name:
        safe = f"{safe}_{sum(ord(c) for c in name) % 997}"
    return f"{scope}s_{safe}"


def _label(text: str) -> str:
    """Text safe inside a quoted Mermaid label."""
    return text.replace('"', "#quot;").replace("\n", " ")


def _shape(kind: str, name: str) -> str:
    label = f"{_label(name)}"
    if kind == "Choice":
        return '{"' + label + '"}'
    if kind == "Wait":
        return f'(["{label} (wait)"])'
    if kind == "Succeed":
        return f'(["{label}"])'
    if kind == "Fail":
        return f'[["{label} (fail)"]]'
    if kind == "Pass":
        return f'>"{label}"]'
    return f'["{label}"]'
