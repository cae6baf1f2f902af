"""The README's tables of the root module's inputs and outputs, made from variables.tf and
outputs.tf (name, type, default, description), so that they are written once, in Terraform.

    python -m tools.readme_terraform          # rewrite the tables in README.md
    python -m tools.readme_terraform --check  # exit 1 when README.md is not up to date
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import hcl2

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def _blocks(path: Path, kind: str) -> list[tuple[str, dict[str, Any]]]:
    with path.open(encoding="utf-8") as handle:
        document = hcl2.load(handle)
    return [
        (name.strip('"'), body) for block in document.get(kind, []) for name, body in block.items()
    ]


def _text(value: str) -> str:
    """A quoted HCL string or a `${...}` expression as Terraform shows it."""
    if value.startswith("${") and value.endswith("}"):
        return value[2:-1]
    return value.removeprefix('"').removesuffix('"').replace('\\"', '"')


def _default(body: dict[str, Any]) -> str:
    if "default" not in body:
        return "required"
    value = body["default"]
    if isinstance(value, str):
        return f"`{value}`"
    return f"`{json.dumps(value)}`"


def inputs_table(root: Path = ROOT) -> str:
    rows = [
        f"| `{name}` | `{_text(body['type'])}` | {_default(body)} | {_text(body['description'])} |"
        for name, body in _blocks(root / "variables.tf", "variable")
    ]
    return "\n".join(
        ["| name | type | default | description |", "| --- | --- | --- | --- |", *rows]
    )


def outputs_table(root: Path = ROOT) -> str:
    rows = [
        f"| `{name}` | {_text(body['description'])} |"
        for name, body in _blocks(root / "outputs.tf", "output")
    ]
    return "\n".join(["| name | description |", "| --- | --- |", *rows])


def _replace_table(text: str, heading: str, table: str) -> str:
    """The table right under `heading` replaced (it ends at the first line not a row)."""
    start = text.index(f"\n{heading}\n") + len(heading) + 2
    end = start
    while text.startswith("|", end):
        end = text.index("\n", end) + 1
    return f"{text[:start]}{table}\n{text[end:]}"


def readme_with_tables(text: str, root: Path = ROOT) -> str:
    text = _replace_table(text, "### Inputs", inputs_table(root))
    return _replace_table(text, "### Outputs", outputs_table(root))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check README.md")
    args = parser.parse_args(argv)
    current = README.read_text(encoding="utf-8")
    wanted = readme_with_tables(current)
    if args.check:
        if current != wanted:
            print("README.md: stale inputs/outputs tables; run python -m tools.readme_terraform")
            return 1
        return 0
    if current != wanted:
        README.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
