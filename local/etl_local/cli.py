"""`etl`: run the pipeline on this machine, query its lake, draw its state machine.

The contract scripts and CI rely on:
  etl [--env NAME [--outputs FILE] [--profile NAME]] COMMAND ...
  etl run [--date D | --start D --end D] [--model M]... [--select S...] [--changed]
          [--fault KIND]... [--json] [--verbose]
  etl runs [--limit N] [--status S] [--json]                 (with --env)
  etl query "SQL" [--format table|csv|json] [--engine duckdb|trino]
  etl changes [--start D] [--end D] [--json]
  etl docs [--output FILE]
  etl graph | etl reset | etl generate [--start D --end D] [--sensors N] [--seed S] [--if-absent]
  etl check | etl test | etl load SOURCE PATH...  (etl_local.devloop_cli)
With --env, run, runs and query act on the deployed environment (etl_local.deployed,
etl_local.remote) instead of the local runtime.
Exit codes: 0 success; 1 the execution did not succeed / the query failed; 2 a bad argument
or a mistake in the project's declarations or SQL (one line each on stderr naming it, before
anything is started or written; never a traceback).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import sqlglot
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from sqlglot import exp

from etl_lambdas.catalog import DATABASE_TIERS, load_catalog
from etl_lambdas.errors import InvalidRunRequest
from etl_lambdas.fingerprints import fingerprints
from etl_lambdas.planning import requested_range
from etl_local import console as render
from etl_local import devloop_cli, run_view
from etl_local.deploy import DeploymentFailed, PlanNamesAnotherLake
from etl_local.plan import PlanMissing
from etl_local.settings import LocalSettings

# `etl generate` without dates: the last few days up to yesterday, enough for a first run
# (yesterday's late events land in today's prefixes, which are generated too).
DEFAULT_GENERATE_DAYS = 3
DEFAULT_SENSORS = 100
# Bare tier names a user may type as databases in `etl query`.
TIER_ALIASES = DATABASE_TIERS

# `etl run --changed --json` when no published partition was computed by other SQL.
NOTHING_TO_RESTATE: dict[str, Any] = {
    "status": "NOTHING_TO_RESTATE",
    "error": None,
    "cause": None,
    "models": [],
    "restated": [],
    "beyond_lookback": [],
}
# Where `etl docs` writes its page.
DOCS_OUTPUT = Path("build/docs/index.html")
# Output width when stdout/stderr is not a terminal (rich would assume 80 columns).
PIPE_WIDTH = 160

RuntimeFactory = Callable[..., Any]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr and exit code 2 (no usage dump)."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def _date_argument(text: str) -> date:
    try:
        if not _DATE.match(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid date {text!r} (expected YYYY-MM-DD)") from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _int_argument(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer {text!r}") from None


def _fault_argument(text: str) -> Any:
    from etl_local.faults import parse_fault

    try:
        return parse_fault(text)
    except ValueError as error:
        # parse_fault's message names the bad kind or argument.
        raise argparse.ArgumentTypeError(str(error)) from None


QUERY_HELP = """\
Run Athena SQL on the local lake (DuckDB behind a local Athena).

Tier names work as database names: `ods`, `dwd`, `dws`, `ads` and `staging` in a qualified
table name (e.g. `SELECT * FROM ads.segment_congestion_daily`) are rewritten to the local Glue
databases (<glue_prefix>_<tier>, e.g. lakepipe_local_ads). Fully qualified names, CTE names and
unqualified names are left as written.
"""


def build_parser() -> argparse.ArgumentParser:
    # Longer than most functions here: it is the command line's declaration, one
    # add_argument per option, read top to bottom like the --help it prints.
    parser = _OneLineParser(
        prog="etl",
        description="Run the data-lake pipeline locally (moto + DuckDB + local Spark), or "
        "with --env on a deployed environment.",
    )
    parser.add_argument(
        "--env",
        metavar="NAME",
        help="act on the deployed environment NAME (run, runs, query): its names from "
        "`terraform output -json`, credentials from your AWS profile",
    )
    parser.add_argument(
        "--outputs",
        type=Path,
        metavar="FILE",
        help="with --env: the environment's `terraform output -json` (default: "
        "envs/NAME.outputs.json if present, else `terraform output -json` at the root)",
    )
    parser.add_argument(
        "--profile", metavar="NAME", help="with --env: the AWS profile (default: AWS_PROFILE)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="run the pipeline for one day or a range",
        description="Start one execution of the state machine and follow it. Without dates: "
        "yesterday in the pipeline's time zone. --start/--end is one backfill execution "
        '({"start_date", "end_date"}), as in production.',
    )
    run.add_argument("--date", type=_date_argument, help="the logical day, YYYY-MM-DD")
    run.add_argument("--start", type=_date_argument, help="first day of a backfill (inclusive)")
    run.add_argument("--end", type=_date_argument, help="last day of a backfill (inclusive)")
    run.add_argument(
        "--changed",
        action="store_true",
        help="restate only the models whose published partitions other SQL computed, and "
        "those downstream, on their days within the dates (default: all of them; etl changes)",
    )
    run.add_argument(
        "--model",
        dest="models",
        action="append",
        metavar="NAME",
        help='only this model (repeatable): the input\'s "models" (docs/contracts.md)',
    )
    run.add_argument(
        "--fault",
        type=_fault_argument,
        action="append",
        default=[],
        metavar="KIND",
        help="inject a fault (repeatable): crawler-failed, crawler-cancelled, "
        "query-failed:<model>, athena-throttle:<n>, lambda-error:<step>:<n>",
    )
    run.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object on stdout (status, error, cause, models, sources: malformed "
        "lines per source); logs go to stderr",
    )
    run.add_argument(
        "--verbose",
        action="store_true",
        help="also print the full transition log: every state of every iteration (it is "
        "always written to $ETL_HOME/logs/executions/<execution name>.log)",
    )
    devloop_cli.add_selection(run)

    changes = commands.add_parser(
        "changes",
        help="list the models whose published partitions other SQL computed",
        description="Compare what computed each published partition (recorded by Publish in "
        "the Glue catalogue) with the SQL and declarations in sql/: the changed models, those "
        "downstream of them, and the days to restate (etl run --changed restates them).",
    )
    changes.add_argument("--start", type=_date_argument, help="only days from this one")
    changes.add_argument("--end", type=_date_argument, help="only days up to this one")
    changes.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: the changes and the execution input that restates them",
    )

    docs = commands.add_parser(
        "docs",
        help="write the models' documentation: one static HTML page, works offline",
        description="One HTML page (CSS and script inline, nothing fetched): the model graph, "
        "each model's description, SQL, partitioning, checks, unit tests, column lineage "
        "(sqlglot) and recent local runs (rows, bytes scanned, audits, restated days).",
    )
    docs.add_argument(
        "--output", type=Path, default=DOCS_OUTPUT, help=f"the page (default {DOCS_OUTPUT})"
    )

    runs = commands.add_parser(
        "runs",
        help="with --env: the latest executions (days, status, duration, restated, cost)",
        description="List the deployed pipeline's latest executions, newest first: the days "
        "each covered, status, duration, the days it restated for late data, the malformed "
        "lines it dropped and what it cost (measured from what AWS reports; etl_lambdas."
        "run_cost).",
    )
    runs.add_argument("--limit", type=_positive_int, default=10, help="how many (default 10)")
    runs.add_argument(
        "--status",
        choices=("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"),
        help="only executions with this status",
    )
    runs.add_argument("--json", action="store_true", help="one JSON list on stdout")

    query = commands.add_parser(
        "query",
        help="run Athena SQL on the local lake",
        description=QUERY_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    query.add_argument("sql", help="one Athena SQL statement")
    query.add_argument(
        "--format",
        choices=("table", "csv", "json"),
        default="table",
        help="output format (json: a list of row objects)",
    )
    query.add_argument(
        "--engine",
        choices=("duckdb", "trino"),
        default="duckdb",
        help="duckdb: the local Athena (default); trino: the real Trino that `make setup` "
        "installs, over the same lake (started on first use, then reused)",
    )

    commands.add_parser(
        "graph",
        help="print the state machine as a Mermaid flowchart",
        description=(
            "Print asl/pipeline.asl.json, rendered with the local placeholder values, as Mermaid."
        ),
    )
    commands.add_parser("reset", help="delete all local state ($ETL_HOME, default .local/)")
    report = commands.add_parser(
        "iam-report",
        help="least privilege, measured: per principal the actions used, the unused grants",
        description="Merge the IAM ledgers of the local runs ($ETL_HOME/iam) into "
        "build/iam-report.json and build/iam-report.txt: per principal, the actions it used, "
        "the requests it was denied, and the statements no request used (each needs a "
        "reason in local/terraform/iam-unused.yaml). Exit 1 on a denial or an unexplained "
        "unused statement.",
    )
    report.add_argument("--ledgers", type=Path, help="ledger directory (default $ETL_HOME/iam)")
    report.add_argument("--output", type=Path, help="report file (default build/iam-report.json)")

    generate = commands.add_parser(
        "generate",
        help="write deterministic sample data of the sample sources into the raw bucket",
        description="Generate the sample sources' raw data (traffic: one event per sensor per "
        "minute of each local day; app_activity: the actions of the app's users), as "
        "Firehose-style objects by arrival time. A declared source that is not a sample source "
        "is left alone (etl load brings its files in). Without dates: the last "
        f"{DEFAULT_GENERATE_DAYS} days up to yesterday.",
    )
    generate.add_argument("--start", type=_date_argument, help="first local day (inclusive)")
    generate.add_argument("--end", type=_date_argument, help="last local day (inclusive)")
    generate.add_argument(
        "--sensors", type=_positive_int, default=DEFAULT_SENSORS, help="number of sensors"
    )
    generate.add_argument("--seed", type=_int_argument, default=0, help="random seed")
    generate.add_argument(
        "--if-absent",
        action="store_true",
        help="leave alone every sample source whose raw prefix already holds data",
    )
    devloop_cli.add_commands(commands)
    return parser


def _check_range(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if (args.start is None) != (args.end is None):
        given = "--start" if args.start is not None else "--end"
        parser.error(f"{given} needs both --start and --end")
    if args.start is not None and args.start > args.end:
        parser.error(f"--start {args.start} is after --end {args.end}")


# The commands `--env` runs against a deployed environment.
ENV_COMMANDS = ("run", "runs", "query")


def main(argv: Sequence[str] | None = None, runtime_factory: RuntimeFactory | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command in ("run", "generate"):
        _check_range(parser, args)
    if args.command == "run" and args.date is not None and args.start is not None:
        parser.error("--date cannot be combined with --start/--end")
    if args.command == "changes" and None not in (args.start, args.end) and args.start > args.end:
        parser.error(f"--start {args.start} is after --end {args.end}")
    if args.command == "run" and args.models:
        _check_models(parser, args.models)
    if args.env is not None or args.command == "runs":
        return _main_remote(parser, args)
    if args.outputs is not None or args.profile is not None:
        parser.error("--outputs and --profile go with --env")
    if args.command == "run" and not args.changed:
        try:
            settings = LocalSettings()
            args.execution_input = _checked_execution_input(
                parser, args, settings.time_zone, settings.max_backfill_days
            )
        except PlanMissing as error:
            sys.stderr.write(f"etl run: {error}\n")
            return 2
        args.execution_input.update(devloop_cli.run_selection(parser, args))
        refused = devloop_cli.check_before_run(args.select)
        if refused is not None:
            return refused
    factory = runtime_factory or _default_runtime_factory
    handlers: dict[str, Callable[[argparse.Namespace, RuntimeFactory], int]] = {
        "run": _run,
        "changes": _changes,
        "docs": _docs,
        "query": _query,
        "graph": _graph,
        "reset": _reset,
        "generate": _generate,
        "iam-report": _iam_report,
        **devloop_cli.HANDLERS,
    }
    try:
        return handlers[args.command](args, factory)
    except (PlanMissing, DeploymentFailed, PlanNamesAnotherLake) as error:
        # The local deployment failed as `terraform apply` would (deploy.py): Terraform's lines.
        sys.stderr.write(f"etl {args.command}: {error}\n")
        return 2
    except devloop_cli.USER_ERRORS as error:
        sys.stderr.write(f"etl {args.command}: {_one_line(str(error))}\n")
        return 2


def _main_remote(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """`--env`: run, runs and query on the deployed environment (etl_local.env_commands)."""
    if args.env is None:
        parser.error(
            f"etl {args.command} needs --env NAME (local executions are not kept between "
            "commands; their transition logs are in $ETL_HOME/logs/executions)"
        )
    if args.command not in ENV_COMMANDS:
        parser.error(f"etl {args.command} works on the local lake only: leave out --env")
    if args.command == "run" and args.fault:
        parser.error("--fault injects faults into the local runtime only: leave out --env")
    from etl_local import env_commands
    from etl_local.deployed import DeploymentError, load

    try:
        deployment = load(args.env, outputs_path=args.outputs, profile=args.profile)
    except DeploymentError as error:
        sys.stderr.write(f"etl --env {args.env}: {_one_line(str(error))}\n")
        return 2
    if args.command == "run":
        if args.changed:
            parser.error("--changed compares with the local lake's partitions: leave out --env")
        args.execution_input = _checked_execution_input(
            parser, args, deployment.time_zone, deployment.max_backfill_days
        )
        args.execution_input.update(devloop_cli.run_selection(parser, args))
        return env_commands.run(args, deployment, _console(stderr=args.json), _report_run)
    if args.command == "runs":
        return env_commands.runs(args, deployment, _console())
    return env_commands.query(args, deployment, resolve_tier_aliases, _console())


def command() -> NoReturn:
    """The `etl` command: `main`, then the process ends without the interpreter's teardown.

    Freeing every object of every module one by one (moto's backends, botocore's service
    models, the DuckDB database) took about 0.3 s of an `etl query` that answers in 1.7. What
    an ordinary exit does that matters still happens: the exit functions run (logging's
    flush, temporary directories' removal), the streams are flushed. Were a thread other
    than a daemon still running, the ordinary exit waits for it, so this one is taken."""
    code = main()
    if _threads_still_running():
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def _threads_still_running() -> bool:
    main_thread = threading.main_thread()
    return any(
        t is not main_thread and not t.daemon and t.is_alive() for t in threading.enumerate()
    )


def _iam_report(args: argparse.Namespace, factory: RuntimeFactory) -> int:
    from etl_local import iam_report
    from etl_local.state import etl_home

    ledgers = args.ledgers or etl_home(None) / "iam"
    output = args.output or iam_report.REPORT_JSON
    report = iam_report.write(ledgers, output)
    sys.stdout.write(iam_report.render_text(report))
    sys.stdout.write(f"wrote {output} and {output.with_suffix('.txt')}\n")
    return 1 if report["denied"] or report["unexplained_unused_statements"] else 0


def _default_runtime_factory(**kwargs: Any) -> Any:
    from etl_local.runtime import LocalRuntime

    return LocalRuntime(**kwargs)


def _console(stderr: bool = False) -> Console:
    """A rich console; when not a terminal (CI logs, pipes) wide enough not to fold tables."""
    console = Console(stderr=stderr, highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(stderr=stderr, highlight=False, width=PIPE_WIDTH)
    return console


def yesterday(time_zone: str, now: datetime | None = None) -> date:
    """The default logical date: the day before today in the pipeline's time zone."""
    moment = now or datetime.now(ZoneInfo(time_zone))
    return moment.astimezone(ZoneInfo(time_zone)).date() - timedelta(days=1)


# -- run -------------------------------------------------------------------------------------


def execution_input(
    day: date | None,
    start: date | None,
    end: date | None,
    models: Sequence[str] | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any]
    if start is not None and end is not None and start != end:
        payload = {"start_date": start.isoformat(), "end_date": end.isoformat()}
    else:
        only = day or start
        assert only is not None
        payload = {"date": only.isoformat()}
    if models:
        payload["models"] = list(dict.fromkeys(models))
    return payload


def _check_models(parser: argparse.ArgumentParser, models: Sequence[str]) -> None:
    from etl_lambdas.catalog import load_catalog

    known = load_catalog().names()
    unknown = [name for name in models if name not in known]
    if unknown:
        parser.error(
            f"unknown model(s) {', '.join(unknown)}; sql/models.toml declares: {', '.join(known)}"
        )


def _checked_execution_input(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    time_zone: str | None,
    max_days: int | None,
) -> dict[str, Any]:
    """The execution input, validated by Plan's own rules before anything starts.

    A day that is not over yet or a range longer than the maximum is a bad argument here
    (one line, exit 2), rather than an execution that fails in its first state. Without the
    pipeline's time zone (a deployment's outputs from before `pipeline_time_zone`), a run
    without dates is the schedule's input, `{"time": now}`, and Begin validates the rest.
    """
    day = args.date
    if day is None and args.start is None:
        if time_zone is None:
            payload: dict[str, Any] = {"time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
            if args.models:
                payload["models"] = list(dict.fromkeys(args.models))
            return payload
        day = yesterday(time_zone)
    payload = execution_input(day, args.start, args.end, args.models)
    if time_zone is None or max_days is None:
        return payload
    try:
        requested_range(
            payload,
            now=datetime.now(ZoneInfo(time_zone)),
            time_zone=time_zone,
            max_days=max_days,
        )
    except InvalidRunRequest as error:
        parser.error(str(error))
    return payload


def _run(args: argparse.Namespace, factory: RuntimeFactory) -> int:
    out = _console(stderr=args.json)
    quiet_stdout = _stdout_to_stderr() if args.json else contextlib.nullcontext()
    with quiet_stdout, factory(faults=tuple(args.fault)) as runtime:
        payload = _changed_input(args, runtime, out) if args.changed else args.execution_input
        if not isinstance(payload, int):
            out.print(f"[bold]Execution[/] {escape(json.dumps(payload))}")
            with run_view.open_view(out, verbose=args.verbose) as view:
                result = runtime.run(payload, on_event=view.on_event)
    if isinstance(payload, int):  # --changed without an execution to start
        if args.json and payload == 0:
            sys.stdout.write(json.dumps(NOTHING_TO_RESTATE) + "\n")
        return payload
    return _report_run(out, args, result)


def _report_run(out: Console, args: argparse.Namespace, result: Any) -> int:
    """The run's outcome after its view: the JSON document, or the models, intake, late data,
    cost and status lines; exit 0 only when it succeeded."""
    if args.json:
        sys.stdout.write(json.dumps(result.to_json()) + "\n")
        sys.stdout.flush()
    else:
        if result.models:
            out.print(render.models_table(result.models))
        for line in [
            *render.run_scope_lines(result.caught_up, result.missed, result.schema_changes),
            *render.skipped_lines(result.models),
            *render.source_lines(result.sources, result.waiting_for_data),
            *render.late_data_lines(result.restated, result.beyond_lookback),
        ]:
            out.print(line)
        if result.cost is not None:
            out.print(render.cost_line(result.cost))
        out.print(render.status_line(result.status, _error_text(result)))
    if result.log_path is not None:
        out.print(f"[dim]transition log: {escape(str(result.log_path))}[/]")
    return 0 if result.status == "SUCCEEDED" else 1


def _changed_input(args: argparse.Namespace, runtime: Any, out: Console) -> dict[str, Any] | int:
    """`run --changed`: the input restating the changed models' days within the dates, or an
    exit code (0: nothing to restate; 2: the days are not a valid run)."""
    from etl_local import backfill

    start = args.date or args.start
    end = args.date or args.end
    changes = backfill.within(_model_changes(runtime), start, end)
    payload = backfill.restatement_input(changes)
    if payload is None:
        out.print("No published partition in those days was computed by other SQL: nothing to do.")
        return 0
    settings = runtime.settings
    try:
        requested_range(
            payload,
            now=datetime.now(ZoneInfo(settings.time_zone)),
            time_zone=settings.time_zone,
            max_days=settings.max_backfill_days,
        )
    except InvalidRunRequest as error:
        sys.stderr.write(f"etl run: error: --changed: {error}; narrow it with --start/--end\n")
        return 2
    return payload


def _model_changes(runtime: Any) -> list[Any]:
    from etl_local import backfill

    catalog = runtime.catalog()
    published = backfill.read_published(runtime.client("glue"), catalog, runtime.settings.database)
    return backfill.model_changes(catalog, published)


def _changes(args: argparse.Namespace, factory: RuntimeFactory) -> int:
    from etl_local import backfill

    with _stdout_to_stderr(), factory() as runtime:
        changes = backfill.within(_model_changes(runtime), args.start, args.end)
        current = fingerprints(runtime.catalog())
    restate = backfill.restatement_input(changes)
    if args.json:
        document = {
            "changes": [c.to_json() for c in changes],
            "restate_input": restate,
            # What the SQL in sql/ records on the partitions it publishes, by model.
            "fingerprints": {name: f.as_dict() for name, f in sorted(current.items())},
        }
        sys.stdout.write(json.dumps(document) + "\n")
        return 0
    out = _console()
    if not changes:
        out.print("Every published partition was computed by the SQL in sql/: nothing to restate.")
        return 0
    out.print(render.changes_table(changes))
    assert restate is not None
    out.print(
        "Restate them: [bold]etl run --changed[/]"
        + ("" if args.start is None else f" --start {args.start}")
        + ("" if args.end is None else f" --end {args.end}")
        + f"  (input {escape(json.dumps(restate))})"
    )
    return 0


def _docs(args: argparse.Namespace, factory: RuntimeFactory) -> int:
    from etl_local import docs_data, docs_page
    from etl_local.state import catalog_root, etl_home

    home = etl_home()
    time_zone = LocalSettings().time_zone
    # The catalogue is read when there is a local lake; none is created to be read.
    if catalog_root(home).is_dir():
        with _stdout_to_stderr(), factory() as runtime:
            data = docs_data.gather(runtime.catalog(), time_zone, home, runtime)
    else:
        data = docs_data.gather(load_catalog(), time_zone, home, None)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(docs_page.render(data), encoding="utf-8")
    _console().print(
        f"wrote {escape(str(args.output))}: {len(data.catalog.models)} models, "
        f"{len(data.runs)} recorded runs; open it in a browser (it needs no network)"
    )
    return 0


def _error_text(result: Any) -> str | None:
    error, cause = getattr(result, "error", None), getattr(result, "cause", None)
    if not error and not cause:
        return None
    readable = render.readable_cause(cause) if cause else ""
    return f"{error}: {readable}" if error and readable else str(error or readable)


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Send file descriptor 1 to stderr, so that nothing (Python, Spark's JVM, moto) can print
    on the stdout that carries the one JSON object."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


# -- query -----------------------------------------------------------------------------------


def resolve_tier_aliases(sql: str, database_of: Callable[[str], str]) -> str:
    """Rewrite `<tier>.<table>` (tier in TIER_ALIASES, any case) to `<database_of(tier)>.<table>`.

    SQL that sqlglot cannot parse, or that names no tier, is returned unchanged: Athena then
    reports its own error.
    """
    try:
        statements = [s for s in sqlglot.parse(sql, read="athena") if s is not None]
    except sqlglot.errors.SqlglotError:
        return sql
    changed = False
    for statement in statements:
        for table in statement.find_all(exp.Table):
            tier = table.db.lower()
            if tier in TIER_ALIASES and not table.catalog:
                table.set("db", exp.to_identifier(database_of(tier)))
                changed = True
        for column in statement.find_all(exp.Column):
            tier = column.db.lower()
            if tier in TIER_ALIASES and not column.catalog:
                column.set("db", exp.to_identifier(database_of(tier)))
                changed = True
    if not changed:
        return sql
    return ";\n".join(s.sql(dialect="athena") for s in statements)


def _query(args: argparse.Namespace, factory: RuntimeFactory) -> int:
    from etl_local.runtime import QueryError

    # stdout carries only the result (a script may parse its CSV or JSON).
    with _stdout_to_stderr(), factory() as runtime:
        sql = resolve_tier_aliases(args.sql, runtime.settings.database)
        if getattr(args, "engine", "duckdb") == "trino":
            answer = _query_trino(runtime, sql)
            if answer is None:
                return 1
            columns, rows = answer
        else:
            try:
                result = runtime.query(sql)
            except QueryError as error:
                reason = str(getattr(error, "reason", error))
                sys.stderr.write(f"etl query: {_one_line(reason)}\n")
                return 1
            columns, rows = list(result.columns), [list(r) for r in result.rows]
    output = render.render_rows(columns, rows, args.format)
    if isinstance(output, str):
        sys.stdout.write(output + "\n")
    else:
        _console().print(output)
    return 0


def _query_trino(runtime: Any, sql: str) -> tuple[list[str], list[list[Any]]] | None:
    """The query's columns and rows from Trino over the local lake; None when it failed
    (said on stderr)."""
    from etl_local.trino import TrinoQueryError, TrinoServerError
    from etl_local.trino.lake_query import TrinoUnavailable, query_lake

    try:
        result = query_lake(runtime.endpoint_url, runtime.settings.region, sql)
    except (TrinoQueryError, TrinoServerError, TrinoUnavailable) as error:
        sys.stderr.write(f"etl query: {_one_line(str(error))}\n")
        return None
    return [c.name for c in result.columns], [list(r) for r in result.rows]


def _one_line(text: str) -> str:
    return " ".join(text.split())


# -- graph, reset, generate ----------------------------------------------------------------


def _graph(args: argparse.Namespace, factory: RuntimeFactory) -> int:
    from etl_local.deploy import ASL_TEMPLATE, render_state_machine
    from etl_local.graph import asl_to_mermaid

    if not ASL_TEMPLATE.is_file():
        sys.stderr.write(f"etl graph: no state machine template at {ASL_TEMPLATE}\n")
        return 1
    sys.stdout.write(asl_to_mermaid(render_state_machine(LocalSettings())))
    return 0


def _reset(args: argparse.Namespace, factory: RuntimeFactory) -> int:
    from etl_local.state import etl_home, reset

    home = etl_home()
    reset(home)
    _console().print(f"cleared {home}")
    return 0


def generate_range(
    start: date | None, end: date | None, time_zone: str, now: datetime | None = None
) -> tuple[date, date]:
    if start is not None and end is not None:
        return start, end
    last = yesterday(time_zone, now)
    return last - timedelta(days=DEFAULT_GENERATE_DAYS - 1), last


def _generate(args: argparse.Namespace, factory: RuntimeFactory) -> int:
    from etl_lambdas.sources import Sources
    from etl_local.generate import generate_events, local_day_bounds

    out = _console()
    names = devloop_cli.generate_sources(lambda line: out.print(escape(line)))
    with factory() as runtime:
        if args.if_absent:
            present = [name for name in names if runtime.raw_object_count(name)]
            for name in present:
                out.print(f"{name}: raw data present, nothing generated")
            names = [name for name in names if name not in present]
        if not names:
            return 0
        start, end = generate_range(args.start, args.end, runtime.settings.time_zone)
        # Four Firehose buffers per hour, from the first local midnight to the late window.
        first, _ = local_day_bounds(start)
        _, last = local_day_bounds(end)
        buffers = int((last - first).total_seconds() // 900) + 4 * 7
        counted = _Counted()
        with Progress(
            TextColumn(f"generating {start} .. {end}, {args.sensors} sensors"),
            BarColumn(),
            TextColumn("{task.completed} objects"),
            TimeElapsedColumn(),
            console=out,
            transient=True,
        ) as progress:
            task = progress.add_task("generate", total=buffers)
            sources = runtime.settings.sources
            chosen = Sources(sources.path, tuple(s for s in sources if s.name in names))
            objects = generate_events(start, end, args.sensors, args.seed, sources=chosen)
            runtime.put_raw_objects(counted.wrap(objects, lambda: progress.advance(task)))
    out.print(
        f"wrote {counted.objects} objects ({render.human_bytes(counted.bytes)}) of raw events "
        f"of {', '.join(names)} for {start} .. {end}, {args.sensors} sensors, seed {args.seed}"
    )
    return 0


class _Counted:
    def __init__(self) -> None:
        self.objects = 0
        self.bytes = 0

    def wrap(
        self, items: Iterable[tuple[str, bytes]], tick: Callable[[], None]
    ) -> Iterator[tuple[str, bytes]]:
        for key, body in items:
            self.objects += 1
            self.bytes += len(body)
            tick()
            yield key, body
