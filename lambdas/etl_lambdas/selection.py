"""Model selection as dbt writes it: `<model>`, `<model>+` (it and everything downstream),
`+<model>` (it and everything upstream), `+<model>+` (both).

Pure: the graph is the model catalogue's `sources` (a model reads the models it lists). The
begin step expands the execution input's `select` with it; `etl run --select`, `etl test
--select` and `etl check --select` expand the same selectors on this machine, so a selector
means the same thing locally and on AWS.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from etl_lambdas.catalog import SOURCE_TIERS, Catalog

# A model name (etl_lambdas.catalog), with an optional '+' before and after.
_SELECTOR = re.compile(r"^(\+?)([a-z][a-z0-9_]{0,62})(\+?)$")


class SelectionError(ValueError):
    """A selector is malformed or names no model; the message names it."""


@dataclass(frozen=True)
class Selector:
    model: str
    upstream: bool
    downstream: bool

    def __str__(self) -> str:
        return f"{'+' if self.upstream else ''}{self.model}{'+' if self.downstream else ''}"


def parse_selector(text: object, known: Sequence[str]) -> Selector:
    """One selector, checked against the known model names."""
    if not isinstance(text, str):
        raise SelectionError(f"selector {text!r} must be a string such as 'sensor_hourly+'")
    found = _SELECTOR.match(text.strip())
    if found is None:
        raise SelectionError(
            f"selector {text!r} must be <model>, <model>+ (and downstream), "
            "+<model> (and upstream) or +<model>+"
        )
    upstream, model, downstream = found.groups()
    if model not in known:
        raise SelectionError(f"selector {text!r}: no model {model!r}; known: {', '.join(known)}")
    return Selector(model, bool(upstream), bool(downstream))


def model_parents(catalog: Catalog) -> dict[str, set[str]]:
    """For every model, the models it reads (ODS sources are not models)."""
    return {
        model.name: {
            source.partition(".")[2]
            for source in model.sources
            if source.partition(".")[0] in SOURCE_TIERS[1:]
        }
        for model in catalog.models
    }


def _closure(start: str, edges: Mapping[str, Iterable[str]]) -> set[str]:
    found: set[str] = set()
    pending = [start]
    while pending:
        for name in edges.get(pending.pop(), ()):
            if name not in found:
                found.add(name)
                pending.append(name)
    return found


def select(selectors: Iterable[object], catalog: Catalog) -> list[str]:
    """The models the selectors name (their union), in the catalogue's tier order."""
    parents = model_parents(catalog)
    children: dict[str, set[str]] = {name: set() for name in parents}
    for child, reads in parents.items():
        for parent in reads:
            children[parent].add(child)
    chosen: set[str] = set()
    for text in selectors:
        selector = parse_selector(text, catalog.names())
        chosen.add(selector.model)
        if selector.upstream:
            chosen |= _closure(selector.model, parents)
        if selector.downstream:
            chosen |= _closure(selector.model, children)
    return [model.name for model in catalog.in_tier_order() if model.name in chosen]


def selectors_of(value: object) -> list[str]:
    """The execution input's `select`: a non-empty list of selector strings (or one string)."""
    if isinstance(value, str):
        value = value.split()
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(item, str) and item.strip() for item in value)
    ):
        raise SelectionError(
            f"select {value!r} must be a non-empty list of selectors such as ['sensor_hourly+']"
        )
    return [item.strip() for item in value]
