"""The repository's Terraform, parsed with python-hcl2, for the structure tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import hcl2

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
MODULE_NAMES = tuple(
    sorted(p.name for p in (REPOSITORY_ROOT / "modules").iterdir() if (p / "main.tf").is_file())
)
MODULE_DIRS = (REPOSITORY_ROOT, *(REPOSITORY_ROOT / "modules" / name for name in MODULE_NAMES))


def unquote(value: object) -> object:
    """python-hcl2 keeps string literals quoted ('"x"'); expressions come as '${...}'."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


@cache
def parse(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        document: dict[str, Any] = hcl2.load(handle)
    return document


def terraform_files() -> list[Path]:
    return [path for directory in MODULE_DIRS for path in sorted(directory.glob("*.tf"))]


@dataclass(frozen=True)
class Block:
    path: Path
    labels: tuple[str, ...]
    body: dict[str, Any]

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPOSITORY_ROOT)}: {'.'.join(self.labels)}"


def blocks(kind: str, paths: list[Path] | None = None) -> Iterator[Block]:
    """Top-level blocks of one kind ("variable", "output", "resource", "data", "locals")."""
    for path in paths or terraform_files():
        for entry in parse(path).get(kind, []):
            if kind == "locals":
                yield Block(path, ("locals",), entry)
            elif kind in ("resource", "data"):
                for type_name, instances in entry.items():
                    for name, body in instances.items():
                        yield Block(path, (str(unquote(type_name)), str(unquote(name))), body)
            else:
                for name, body in entry.items():
                    yield Block(path, (str(unquote(name)),), body)


def policy_statements(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Statements of an aws_iam_policy_document, static and dynamic (their content)."""
    yield from document.get("statement", [])
    for dynamic in document.get("dynamic", []):
        for label, spec in dynamic.items():
            if unquote(label) == "statement":
                yield from spec.get("content", [])


def comments(body: dict[str, Any]) -> str:
    return " ".join(c["value"] for c in body.get("__comments__", []))
