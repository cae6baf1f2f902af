"""Check every `resource` and `data` block of a Terraform tree against the AWS provider schema.

What `terraform validate` would catch if the provider could be downloaded: unknown resource
or data source types, unknown arguments, unknown nested blocks, missing required arguments
and blocks. Expressions are not evaluated (values are not type-checked).

    python -m tools.terraform_schema_check [ROOT]   # exit 1 and one line per problem
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hcl2

from tools.provider_schema import DEFAULT_CACHE_DIR, load_schema

# Meta-arguments Terraform accepts on every resource / data block, whatever the provider.
META_ARGUMENTS = frozenset({"count", "for_each", "depends_on", "provider"})
META_BLOCKS = frozenset({"lifecycle", "provisioner", "connection"})
_BLOCK_MARKER = "__is_block__"
# python-hcl2 keeps comments and the block marker as "__name__" keys beside the arguments.
_PARSER_KEYS = frozenset({_BLOCK_MARKER, "__comments__", "__inline_comments__"})


def _unquote(label: str) -> str:
    return label[1:-1] if len(label) >= 2 and label[0] == label[-1] == '"' else label


def _is_block(value: object) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(item, dict) and item.get(_BLOCK_MARKER) for item in value)
    )


def terraform_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*.tf")):
        if not any(part.startswith(".") for part in path.relative_to(root).parts):
            yield path


def check_text(text: str, schema: dict[str, Any], where: str = "<text>") -> list[str]:
    """Problems in one file's `resource` and `data` blocks, one message each."""
    document = hcl2.loads(text)
    problems: list[str] = []
    for section, kinds, label in (
        ("resource", schema["resources"], "resource type"),
        ("data", schema["data_sources"], "data source type"),
    ):
        for entry in document.get(section, []):
            for quoted_type, instances in entry.items():
                type_name = _unquote(quoted_type)
                for quoted_name, body in instances.items():
                    address = f"{where}: {'data.' if section == 'data' else ''}{type_name}."
                    address += _unquote(quoted_name)
                    if type_name not in kinds:
                        problems.append(f"{address}: unknown {label} {type_name!r}")
                        continue
                    struct = schema["structs"][kinds[type_name]]
                    problems += _check_body(body, struct, schema, address, top_level=True)
    return problems


def _check_body(
    body: dict[str, Any],
    struct: dict[str, Any],
    schema: dict[str, Any],
    address: str,
    *,
    top_level: bool = False,
) -> list[str]:
    problems: list[str] = []
    arguments: dict[str, bool] = struct["arguments"]
    blocks: dict[str, dict[str, Any]] = struct["blocks"]
    present: set[str] = set()
    for key, value in body.items():
        if key in _PARSER_KEYS:
            continue
        if top_level and (key in META_ARGUMENTS or key in META_BLOCKS):
            continue
        if key == "dynamic" and isinstance(value, list):
            for dynamic in value:
                for quoted_name, spec in dynamic.items():
                    if quoted_name in _PARSER_KEYS:
                        continue
                    name = _unquote(quoted_name)
                    present.add(name)
                    if name not in blocks:
                        problems.append(f"{address}: unknown nested block {name!r} (dynamic)")
                        continue
                    nested = schema["structs"][blocks[name]["struct"]]
                    for content in spec.get("content", []):
                        problems += _check_body(content, nested, schema, f"{address}.{name}")
            continue
        present.add(key)
        if _is_block(value):
            if key not in blocks:
                hint = " (it is an argument: use `=`)" if key in arguments else ""
                problems.append(f"{address}: unknown nested block {key!r}{hint}")
                continue
            nested = schema["structs"][blocks[key]["struct"]]
            for item in value:
                problems += _check_body(item, nested, schema, f"{address}.{key}")
        elif key not in arguments and key not in blocks:
            # Struct-typed properties may be nested object attributes (`key = {...}`).
            problems.append(f"{address}: unknown argument {key!r}")
    for name, required in sorted(arguments.items()):
        if required and name not in present:
            problems.append(f"{address}: missing required argument {name!r}")
    for name, spec in sorted(blocks.items()):
        if spec["required"] and name not in present:
            problems.append(f"{address}: missing required block {name!r}")
    return problems


def check_tree(root: Path, schema: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for path in terraform_files(root):
        text = path.read_text(encoding="utf-8")
        problems += check_text(text, schema, str(path.relative_to(root)))
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", type=Path, default=Path())
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR)
    args = parser.parse_args(argv)
    problems = check_tree(args.root, load_schema(args.cache_dir))
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
