"""Build build/lambda.zip: the etl_lambdas package, the sql/ models (with their DuckDB
translation from build/sql/duckdb/, as sql/duckdb/) and their runtime deps.

The zip is reproducible (sorted entries, fixed timestamps and modes) so that
Terraform's `source_code_hash` changes only when the content does.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
SKIP_PARTS = {"__pycache__"}
SKIP_SUFFIXES = {".pyc", ".pyo"}


def install_dependencies(uv: Path, requirements: Path, python_version: str, target: Path) -> None:
    """Install the locked wheels for the Lambda's Python and platform, not this machine's.

    The requirements are exported from uv.lock with hashes: exactly those files, or nothing.
    """
    subprocess.run(
        [
            str(uv), "pip", "install", "--quiet", "--no-deps", "--require-hashes",
            "--target", str(target),
            "--python-version", python_version,
            "--python-platform", "x86_64-manylinux_2_17",
            "--only-binary", ":all:",
            "--requirement", str(requirements),
        ],
        check=True,
    )  # fmt: skip


def files_under(base: Path, prefix: str) -> list[tuple[str, Path]]:
    entries = []
    for path in sorted(base.rglob("*")):
        if not path.is_file() or SKIP_PARTS & set(path.parts) or path.suffix in SKIP_SUFFIXES:
            continue
        entries.append((f"{prefix}{path.relative_to(base).as_posix()}", path))
    return entries


def write_zip(entries: list[tuple[str, Path]], output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_suffix(".zip.tmp")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, path in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    partial.replace(output)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--uv", type=Path, required=True, help="the uv executable")
    parser.add_argument("--requirements", type=Path, required=True)
    parser.add_argument("--python-version", required=True)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        deps = Path(scratch)
        install_dependencies(args.uv, args.requirements, args.python_version, deps)
        entries = files_under(deps, "")
        entries += files_under(ROOT / "lambdas" / "etl_lambdas", "etl_lambdas/")
        # The models' unit tests run on this machine (etl test), never in a function.
        entries += [
            entry
            for entry in files_under(ROOT / "sql", "sql/")
            if not entry[0].endswith(".test.yaml")
        ]
        # The models as tools/translate_models.py wrote them for a DuckDB workgroup.
        translated = ROOT / "build" / "sql" / "duckdb"
        entries += [
            e for e in files_under(translated, "sql/duckdb/") if not e[0].endswith("/.translated")
        ]
        write_zip(entries, args.output)
    print(f"wrote {args.output} ({args.output.stat().st_size // 1024} KiB, {len(entries)} files)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
