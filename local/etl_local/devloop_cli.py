"""The developer loop's part of the `etl` CLI, as dbt and SQLMesh users expect it:

  etl check [--select S...]            the declarations and the models' SQL, offline, in seconds
  etl test [--select S...]             the models' unit tests (sql/<tier>/<model>.test.yaml)
  etl load SOURCE PATH... [--arrival D[THH]]   your own raw files into the local raw bucket
  etl run ... --select S...            run the selected models (<model>, <model>+, +<model>)

A selector is dbt's: `<model>`, `<model>+` (and everything downstream), `+<model>` (and
everything upstream); several are their union. `etl run` checks the project first: a mistake
is one line naming the file, line and column, before anything starts.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from etl_lambdas.catalog import Catalog, CatalogError, default_sql_root, load_catalog
from etl_lambdas.selection import SelectionError, select
from etl_lambdas.sources import SourceError
from etl_local import console as render
from etl_local.load import LoadError
from etl_local.model_tests import display_path

# A user's mistake in what they declared, wrote or typed: one line, never a traceback.
USER_ERRORS: tuple[type[Exception], ...] = (CatalogError, SourceError, SelectionError, LoadError)

SELECT_HELP = (
    "models to run: <model>, <model>+ (and everything downstream), +<model> (and everything "
    "upstream); several selectors are their union"
)


def sql_root() -> Path:
    """The project's sql/ (the declarations, the models and their tests)."""
    return default_sql_root()


def catalog() -> Catalog:
    return load_catalog(sql_root())


def add_selection(parser: argparse.ArgumentParser, help_text: str = SELECT_HELP) -> None:
    parser.add_argument(
        "--select",
        "-s",
        nargs="+",
        action="extend",
        default=[],
        metavar="SELECTOR",
        help=help_text,
    )


def add_commands(commands: Any) -> None:
    check = commands.add_parser(
        "check",
        help="validate sources.yaml, models.toml and every model's SQL, offline",
        description="Parse every model's SQL in the deployment's dialect (Athena: Trino SQL) "
        "and resolve its tables and columns against the declarations (the sources' columns, "
        "the upstream models' output columns); check sql/sources.yaml, sql/models.toml and "
        "the model tests. One line per problem: file:line:column: what is wrong. Exit 1 when "
        "there is a problem. No AWS, no Spark.",
    )
    add_selection(check, "check only these models (and what they read)")

    test = commands.add_parser(
        "test",
        help="run the models' unit tests (sql/<tier>/<model>.test.yaml)",
        description="Run each model's unit tests on the local engine: the fixture rows in, "
        "the model's SQL, the expected rows compared (in any order, the columns named). A "
        "failure shows the differing rows. Exit 1 when a test fails.",
    )
    add_selection(test, "test only these models: <model>, <model>+, +<model>")

    load = commands.add_parser(
        "load",
        help="copy your own raw files into the local raw bucket, as the source declares",
        description="Copy files or folders (recursively) into the local raw bucket under the "
        "source's raw_prefix and arrival partition: --arrival, else the year=/month=/day=[/hour=] "
        "folders of a file's path, else its modification time (UTC). Every file is checked "
        "against the source's declared format first; a file that does not match is one line "
        "and nothing is loaded.",
    )
    load.add_argument("source", help="a source of sql/sources.yaml")
    load.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders")
    load.add_argument(
        "--arrival",
        metavar="YYYY-MM-DD[THH]",
        help="the UTC arrival day (daily sources) or hour (hourly sources) of every file",
    )


def run_selection(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, Any]:
    """The execution input's `select` (validated here, expanded by the begin step)."""
    if not args.select:
        return {}
    try:
        select(args.select, catalog())
    except (SelectionError, CatalogError, SourceError) as error:
        parser.error(str(error))
    return {"select": list(args.select)}


def check_before_run(selectors: list[str]) -> int | None:
    """`etl check` of what a run runs (the selected models and what they read, or all)
    before it starts; None when it is fine, else the exit code."""
    from etl_local.check import check

    root = sql_root()
    problems = check(root, select(selectors, load_catalog(root)) if selectors else None)
    if not problems:
        return None
    for problem in problems:
        sys.stderr.write(f"etl run: {problem}\n")
    return 2


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _selected(args: argparse.Namespace) -> list[str] | None:
    return select(args.select, catalog()) if args.select else None


def _check(args: argparse.Namespace, factory: Any) -> int:
    from etl_local.check import check

    started = time.monotonic()
    root = sql_root()
    problems = check(root, _selected(args) if args.select else None)
    # The problems on stdout, one per line (file:line:column: message); the tally apart.
    for problem in problems:
        sys.stdout.write(f"{problem}\n")
    took = time.monotonic() - started
    if problems:
        sys.stderr.write(f"etl check: {_count(len(problems), 'problem')} ({took:.1f} s)\n")
        return 1
    sys.stderr.write(f"etl check: {display_path(root)}: no problems ({took:.1f} s)\n")
    return 0


def _test(args: argparse.Namespace, factory: Any) -> int:
    from etl_local.model_tests import ModelTestError, run_tests

    started = time.monotonic()
    counts = {"pass": 0, "fail": 0, "error": 0}
    for outcome in run_tests(catalog(), _selected(args)):
        if isinstance(outcome, ModelTestError):
            counts["error"] += 1
            sys.stdout.write(f"ERROR {outcome}\n")
            continue
        counts[outcome.status] += 1
        sys.stdout.write(outcome.report() + "\n")
    took = time.monotonic() - started
    total = sum(counts.values())
    sys.stderr.write(
        f"etl test: {counts['pass']} passed, {counts['fail']} failed, {counts['error']} errors "
        f"of {_count(total, 'test')} ({took:.1f} s)\n"
    )
    if total == 0:
        sys.stderr.write("etl test: no tests; add sql/<tier>/<model>.test.yaml (README)\n")
    return 0 if counts["fail"] == counts["error"] == 0 else 1


def _load(args: argparse.Namespace, factory: Any) -> int:
    from etl_local.load import Arrival, by_partition, plan_load

    arrival = Arrival.parse(args.arrival) if args.arrival else None
    source = catalog().sources.get(args.source)
    with factory() as runtime:
        s3 = runtime.client("s3")
        bucket = runtime.settings.raw_bucket
        plan = plan_load(source, args.paths, arrival, _existing(s3, bucket))
        if plan.problems:
            for problem in plan.problems:
                sys.stderr.write(f"etl load: {problem} (nothing loaded)\n")
            return 1
        for upload in plan.uploads:
            with upload.path.open("rb") as body:
                s3.put_object(Bucket=bucket, Key=upload.key, Body=body)
    partitions = by_partition(plan.uploads, source)
    for label, uploads in partitions.items():
        folder = uploads[0].key.rsplit("/", 1)[0] + "/"
        size = render.human_bytes(sum(u.size for u in uploads))
        sys.stdout.write(
            f"  {label}  {_count(len(uploads), 'file')}, {size}  s3://{bucket}/{folder}\n"
        )
    before = f" ({plan.already_loaded} loaded before)" if plan.already_loaded else ""
    sys.stdout.write(
        f"loaded {_count(len(plan.uploads), 'file')} of {source.name} into "
        f"{_count(len(partitions), 'arrival partition')}{before}; a run of day D reads the "
        "arrivals of D-1 .. D+1 (UTC)\n"
    )
    return 0


def _existing(s3: Any, bucket: str) -> Callable[[str], str | None]:
    from botocore.exceptions import ClientError

    def md5(key: str) -> str | None:
        try:
            return str(s3.head_object(Bucket=bucket, Key=key)["ETag"]).strip('"')
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    return md5


def generate_sources(out: Callable[[str], None]) -> list[str]:
    """The sample sources `etl generate` writes; says which declared sources it leaves alone."""
    from etl_local.generate import sample_sources

    declared = catalog().sources
    samples = [source.name for source in sample_sources(declared)]
    for source in declared:
        if source.name not in samples:
            out(
                f"{source.name}: not a sample source, left alone "
                f"(load its files with: etl load {source.name} <path>)"
            )
    return samples


HANDLERS: dict[str, Callable[[argparse.Namespace, Any], int]] = {
    "check": _check,
    "test": _test,
    "load": _load,
}
