"""The models in DuckDB SQL, for a workgroup on Athena's DuckDB engine (`make build`).

Models are written once, in Athena engine version 3 (Trino) SQL. Athena does not translate
between its engines ("SQL differences from Athena v3", Athena User Guide), so `make build`
does: every `sql/<tier>/<name>.sql` becomes `build/sql/duckdb/<tier>/<name>.sql`, which the
Lambda zip ships as `sql/duckdb/` and the local runtime runs, untranslated, on the DuckDB
release Athena runs. The translation is the local Athena's (etl_local.sql_dialect), with
the helper macros it calls written out in place (athena_to_plain_duckdb): Athena's DuckDB engine
runs no macros of ours ("You cannot install or load other extensions", "Built-in extensions").
A construct the translation refuses fails the build, naming the model and the construct.

    python -m tools.translate_models [--sql-root sql] [--output build/sql/duckdb]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from etl_lambdas.catalog import TRANSLATED_SQL_DIR, load_catalog
from etl_local.sql_dialect import athena_to_plain_duckdb, install_functions

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPOSITORY_ROOT / "build" / "sql" / TRANSLATED_SQL_DIR
_PLACEHOLDER = re.compile(r"(?<!\$)\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}")
_SENTINEL = "__lakepipe_placeholder_{}__"
_SENTINELS = re.compile(r"__lakepipe_placeholder_([A-Za-z_][A-Za-z0-9_]*?)__")


class TranslationError(ValueError):
    """A model cannot be run on Athena's DuckDB engine as translated."""


class _MacroNames:
    """Records the macros install_functions defines: what translated SQL may call locally
    only."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def execute(self, sql: str, *args: Any) -> None:
        match = re.match(r"\s*CREATE\s+OR\s+REPLACE\s+MACRO\s+(\w+)", sql, re.IGNORECASE)
        if match:
            self.names.add(match.group(1).lower())


def local_only_functions() -> set[str]:
    recorder = _MacroNames()
    install_functions(recorder)
    return recorder.names


def translate(sql: str, name: str = "model") -> str:
    """One model's SQL, `${...}` placeholders kept, in DuckDB SQL.

    Placeholders stand in for identifiers, predicates and string contents; each is swapped
    for an identifier for the translation and back after it (the values they take, such as
    the partition predicates, are SQL both engines read alike)."""
    masked = _PLACEHOLDER.sub(lambda m: _SENTINEL.format(m.group(1)), sql)
    translated = athena_to_plain_duckdb(masked)
    called = {m.lower() for m in re.findall(r"\b(\w+)\s*\(", translated)}
    local_only = sorted(called & local_only_functions())
    if local_only:
        raise TranslationError(
            f"{name}: the DuckDB translation needs {', '.join(local_only)}, a helper of the local "
            "engine that Athena's DuckDB engine does not have; write the model so that it "
            "translates to plain DuckDB SQL"
        )
    return _SENTINELS.sub(lambda m: "${" + m.group(1) + "}", translated)


def translate_models(sql_root: Path, output: Path) -> list[Path]:
    catalog = load_catalog(sql_root)
    written = []
    for model in catalog.in_tier_order():
        text = translate(catalog.sql(model), f"{sql_root.name}/{model.sql_path}")
        target = output / model.sql_path
        target.parent.mkdir(parents=True, exist_ok=True)
        header = (
            f"-- {model.tier}.{model.name} for Athena's DuckDB engine: written by make build "
            f"(tools/translate_models.py)\n-- from sql/{model.sql_path}; edit that file, not "
            "this one.\n"
        )
        target.write_text(header + text + "\n", encoding="utf-8")
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sql-root", type=Path, default=REPOSITORY_ROOT / "sql")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    try:
        written = translate_models(args.sql_root, args.output)
    except (TranslationError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {len(written)} DuckDB models under {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
