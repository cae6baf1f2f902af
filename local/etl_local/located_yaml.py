"""YAML read with the line and column of everything in it, so that a problem found in what a
user wrote is reported at its place in their file (`etl check`, `etl test`).

Mappings load as `LocatedDict` and sequences as `LocatedList`: ordinary dicts and lists that
also know where they start and where each of their keys, values and items is (1-based line and
column). `typed=False` reads every plain scalar as text except `null`/`~`/an empty value (the
model tests' fixtures: a value's type is its column's, so `07` stays `07` and `NO` stays `NO`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

Mark = tuple[int, int]  # (line, column), 1-based


class LocatedDict(dict[Any, Any]):
    line: int = 0
    col: int = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_marks: dict[Any, Mark] = {}
        self.value_marks: dict[Any, Mark] = {}

    def mark_of(self, key: Any) -> Mark:
        """Where the value of `key` is; where the mapping is when the key is absent."""
        return self.value_marks.get(key, (self.line, self.col))


class LocatedList(list[Any]):
    line: int = 0
    col: int = 0

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.item_marks: list[Mark] = []

    def mark_of(self, index: int) -> Mark:
        if 0 <= index < len(self.item_marks):
            return self.item_marks[index]
        return (self.line, self.col)


class YamlError(ValueError):
    """The text is not YAML; `line` and `col` say where the parser stopped."""

    def __init__(self, message: str, line: int, col: int) -> None:
        super().__init__(message)
        self.line = line
        self.col = col


def _mark(node: Node) -> Mark:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _LocatedLoader(yaml.SafeLoader):
    def construct_mapping(self, node: MappingNode, deep: bool = False) -> LocatedDict:
        self.flatten_mapping(node)
        mapping = LocatedDict()
        mapping.line, mapping.col = _mark(node)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in mapping:
                line, col = _mark(key_node)
                raise YamlError(f"key {key!r} appears twice in one mapping", line, col)
            mapping[key] = self.construct_object(value_node, deep=True)
            mapping.key_marks[key] = _mark(key_node)
            mapping.value_marks[key] = _mark(value_node)
        return mapping

    def construct_sequence(self, node: SequenceNode, deep: bool = False) -> LocatedList:
        sequence = LocatedList(self.construct_object(child, deep=True) for child in node.value)
        sequence.line, sequence.col = _mark(node)
        sequence.item_marks = [_mark(child) for child in node.value]
        return sequence


def _construct_mapping(loader: _LocatedLoader, node: MappingNode) -> LocatedDict:
    return loader.construct_mapping(node)


def _construct_sequence(loader: _LocatedLoader, node: SequenceNode) -> LocatedList:
    return loader.construct_sequence(node)


_LocatedLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_LocatedLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


class _TextLoader(_LocatedLoader):
    """Plain scalars are text, but for null."""


_TextLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag == "tag:yaml.org,2002:null"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def loads(text: str, *, typed: bool = True) -> Any:
    """The document, located; raises YamlError naming where the text stops being YAML."""
    loader = _LocatedLoader(text) if typed else _TextLoader(text)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = error.problem or error.context or "not valid YAML"
        raise YamlError(" ".join(str(problem).split()), line, col) from None
    except yaml.YAMLError as error:
        raise YamlError(" ".join(str(error).split()), 1, 1) from None
    finally:
        loader.dispose()


def load(path: Path, *, typed: bool = True) -> Any:
    return loads(path.read_text(encoding="utf-8"), typed=typed)
