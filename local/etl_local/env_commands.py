"""The `etl --env <name>` commands: run, runs and query on a deployed environment.

Each prints what the local command prints (the same run view, models table, late-data,
cost and status lines; the same query output), from the deployed account's answers
(etl_local.remote). An AWS error (no credentials, access denied, throttled beyond the
retries) is one line on stderr and exit code 1, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.markup import escape

from etl_lambdas import prices
from etl_local import console as render
from etl_local import remote, run_view
from etl_local.athena_client import QueryError, run_query
from etl_local.deployed import Deployment
from etl_local.state import etl_home

# A query on AWS may queue and scan for a while; Athena's own timeout is the workgroup's.
QUERY_TIMEOUT_SECONDS = 3600
QUERY_POLL_SECONDS = 0.5
INTERRUPTED = 130


class _AwsFailure(Exception):
    """An AWS call failed; the message is one line."""


@contextmanager
def _aws_errors() -> Iterator[None]:
    try:
        yield
    except ClientError as error:
        detail = error.response.get("Error", {})
        raise _AwsFailure(
            f"{detail.get('Code', 'Error')}: {detail.get('Message', '')}".strip(": ")
        ) from None
    except BotoCoreError as error:
        raise _AwsFailure(str(error)) from None


def _fail(command: str, deployment: Deployment, error: Exception) -> int:
    text = " ".join(str(error).split())
    sys.stderr.write(f"etl --env {deployment.env} {command}: {text}\n")
    return 1


def env_home(deployment: Deployment) -> Path:
    """Where `etl --env` keeps what it writes for an environment (logs, measured costs)."""
    return etl_home(None) / "envs" / deployment.env


def run(
    args: argparse.Namespace,
    deployment: Deployment,
    out: Console,
    report: Callable[[Console, argparse.Namespace, Any], int],
) -> int:
    """Start the deployed pipeline and follow it live; exit 0 only when it succeeded."""
    payload = args.execution_input
    try:
        with _aws_errors():
            execution_arn = remote.start_run(deployment, payload)
    except _AwsFailure as error:
        return _fail("run", deployment, error)
    out.print(f"[bold]Execution[/] {escape(json.dumps(payload))} on {escape(deployment.env)}")
    out.print(f"[dim]{escape(execution_arn)}\n{escape(remote.console_url(execution_arn))}[/]")
    try:
        with _aws_errors(), run_view.open_view(out, verbose=args.verbose) as view:
            result = remote.follow_run(
                deployment,
                execution_arn,
                on_event=view.on_event,
                log_dir=env_home(deployment) / "logs" / "executions",
            )
    except KeyboardInterrupt:
        out.print(
            f"stopped following; the execution goes on: etl --env {escape(deployment.env)} runs"
        )
        return INTERRUPTED
    except _AwsFailure as error:
        return _fail("run", deployment, error)
    return report(out, args, result)


def runs(args: argparse.Namespace, deployment: Deployment, out: Console) -> int:
    """The latest executions, newest first (a table, or one JSON list with --json)."""
    try:
        with _aws_errors():
            rows = remote.recent_runs(
                deployment,
                limit=args.limit,
                status=args.status,
                cost_cache=env_home(deployment) / "costs",
            )
    except _AwsFailure as error:
        return _fail("runs", deployment, error)
    if args.json:
        sys.stdout.write(json.dumps([row.to_json() for row in rows]) + "\n")
        return 0
    if not rows:
        out.print(f"no executions of {escape(deployment.state_machine_arn)}")
        return 0
    out.print(render.runs_table(rows, title=f"{deployment.env}: latest runs"))
    return 0


def query(
    args: argparse.Namespace,
    deployment: Deployment,
    resolve_aliases: Callable[[str, Callable[[str], str]], str],
    out: Console,
) -> int:
    """Athena SQL in the deployment's workgroup; what it scanned and cost on stderr."""
    sql = resolve_aliases(args.sql, deployment.database)
    try:
        with _aws_errors():
            result = run_query(
                deployment.client("athena"),
                sql,
                workgroup=deployment.workgroup,
                timeout=QUERY_TIMEOUT_SECONDS,
                poll_seconds=QUERY_POLL_SECONDS,
            )
    except QueryError as error:
        sys.stderr.write(f"etl --env {deployment.env} query: {' '.join(error.reason.split())}\n")
        return 1
    except _AwsFailure as error:
        return _fail("query", deployment, error)
    except KeyboardInterrupt:
        sys.stderr.write("query stopped\n")
        return INTERRUPTED
    output = render.render_rows(list(result.columns), [list(r) for r in result.rows], args.format)
    if isinstance(output, str):
        sys.stdout.write(output + "\n")
    else:
        out.print(output)
    price = prices.for_region(deployment.region)
    sys.stderr.write(
        f"scanned {render.human_bytes(result.bytes_scanned)}, "
        f"${prices.athena_query_cost(price, result.bytes_scanned):.6f} at {price.describe()}\n"
    )
    return 0
