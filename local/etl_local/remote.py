"""`etl --env <name>`: the pipeline's commands against a deployed environment.

`start_run` starts the deployed state machine with the same input a local run gets, and
`follow_run` follows it with the local runs' follower and view (etl_local.execution), at a
pace Step Functions' API throttling allows. `recent_runs` lists the machine's executions as
on-call people ask about them: the days, status, duration, restated days, malformed lines
and cost (the run's own measurement, or measured now from AWS's reports for a run that
ended without one; etl_lambdas.run_cost). The environment's names and clients come from
etl_local.deployed.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from botocore.exceptions import BotoCoreError, ClientError

from etl_lambdas import run_cost
from etl_local.deployed import Deployment
from etl_local.execution import (
    RunResult,
    cost_in_output,
    follow_execution,
    model_summaries,
)
from etl_local.history import StateEvent

__all__ = [
    "RunRow",
    "console_url",
    "execution_name",
    "follow_run",
    "malformed_lines",
    "recent_runs",
    "start_run",
]

# Each poll reads one page of every running execution's history: every 2 s keeps a run of
# a few parallel models well inside GetExecutionHistory's refill rate.
REMOTE_POLL_SECONDS = 2.0
RUNNING = "RUNNING"
# Step Functions execution names: 1-80 characters, no whitespace, brackets, wildcards or
# `" # % \ ^ | ~ ` $ & , ; : /` ("Step Functions service quotas", general quotas).
_NAME_LIMIT = 80


def execution_name(payload: Mapping[str, Any], now: datetime | None = None) -> str:
    """A name that says what was asked: `etl-2026-11-19-...`, `etl-2026-11-01_2026-11-07-...`
    (unique: the time and a random suffix; a name is reserved for 90 days)."""
    moment = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    if "date" in payload:
        days = str(payload["date"])
    elif "start_date" in payload:
        days = f"{payload['start_date']}_{payload['end_date']}"
    else:
        days = "yesterday"
    models = "-models" if payload.get("models") else ""
    name = f"etl-{days}{models}-{moment}-{uuid.uuid4().hex[:6]}"
    return name[:_NAME_LIMIT]


def start_run(deployment: Deployment, payload: Mapping[str, Any]) -> str:
    """Start the deployed pipeline with `payload`; its execution ARN."""
    response = deployment.client("stepfunctions").start_execution(
        stateMachineArn=deployment.state_machine_arn,
        name=execution_name(payload),
        input=json.dumps(dict(payload)),
    )
    return str(response["executionArn"])


def console_url(execution_arn: str) -> str:
    region = execution_arn.split(":")[3]
    return (
        f"https://{region}.console.aws.amazon.com/states/home?region={region}"
        f"#/v2/executions/details/{execution_arn}"
    )


def follow_run(
    deployment: Deployment,
    execution_arn: str,
    *,
    on_event: Callable[[StateEvent], None] | None = None,
    log_dir: Path | None = None,
    poll_seconds: float = REMOTE_POLL_SECONDS,
) -> RunResult:
    """Follow the execution to its end (the machine's own TimeoutSeconds bounds it; nothing
    here stops it) and summarise it as a local run is."""
    followed = follow_execution(
        deployment.client("stepfunctions"),
        execution_arn,
        on_event=on_event,
        timeout=math.inf,
        log_dir=log_dir,
        poll_seconds=poll_seconds,
    )
    description = followed.description
    return RunResult(
        status=description["status"],
        error=description.get("error") or followed.last_error,
        cause=description.get("cause") or followed.last_cause,
        execution_arn=execution_arn,
        events=[event for event in followed.events if not event.is_scope],
        models=model_summaries(followed.output, followed.events),
        output=followed.output,
        log_path=followed.log_path,
    )


# -- etl runs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunRow:
    """One execution of the pipeline, as `etl runs` lists it."""

    name: str
    execution_arn: str
    status: str
    started: datetime
    stopped: datetime | None
    days: str
    restated: list[str]
    malformed_lines: int | None
    cost: Mapping[str, Any] | None
    # Why the cost is missing (a running execution, a measurement that failed).
    cost_note: str = ""

    @property
    def seconds(self) -> float:
        end = self.stopped or datetime.now(UTC)
        return (end - self.started).total_seconds()

    @property
    def cost_usd(self) -> float | None:
        if self.cost is None or "total_usd" not in self.cost:
            return None
        return float(self.cost["total_usd"])

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "execution_arn": self.execution_arn,
            "status": self.status,
            "started": self.started.isoformat(),
            "stopped": self.stopped.isoformat() if self.stopped else None,
            "seconds": round(self.seconds, 1),
            "days": self.days,
            "restated": self.restated,
            "malformed_lines": self.malformed_lines,
            "cost_usd": self.cost_usd,
            "cost": self.cost,
            "cost_note": self.cost_note or None,
        }


def recent_runs(
    deployment: Deployment,
    *,
    limit: int,
    status: str | None = None,
    cost_cache: Path | None = None,
) -> list[RunRow]:
    """The pipeline's latest executions, newest first."""
    sfn = deployment.client("stepfunctions")
    # ListExecutions returns at most 1,000 per page (Step Functions API Reference).
    request: dict[str, Any] = {
        "stateMachineArn": deployment.state_machine_arn,
        "maxResults": min(limit, 1000),
    }
    if status:
        request["statusFilter"] = status
    listed = sfn.list_executions(**request)["executions"]
    rows = []
    for item in listed[:limit]:
        description = sfn.describe_execution(executionArn=item["executionArn"])
        rows.append(_row(deployment, description, cost_cache))
    return rows


def _row(deployment: Deployment, description: Mapping[str, Any], cost_cache: Path | None) -> RunRow:
    output = _json(description.get("output"))
    request = _json(description.get("input"))
    cost: Mapping[str, Any] | None = cost_in_output(output)
    note = ""
    status = str(description["status"])
    if (cost is None or "total_usd" not in cost) and status != RUNNING:
        cost, note = _measured(deployment, description, cost_cache)
    elif status == RUNNING:
        note = "running"
    return RunRow(
        name=str(description["name"]),
        execution_arn=str(description["executionArn"]),
        status=status,
        started=description["startDate"],
        stopped=description.get("stopDate"),
        days=_days(request, output, deployment.time_zone),
        restated=[str(row.get("date")) for row in _restated(output)],
        malformed_lines=malformed_lines(output),
        cost=cost,
        cost_note=note,
    )


def _measured(
    deployment: Deployment, description: Mapping[str, Any], cache: Path | None
) -> tuple[Mapping[str, Any] | None, str]:
    """An ended execution's cost, measured from AWS's reports (kept: an ended execution's
    history does not change)."""
    path = cache / f"{description['name']}.json" if cache is not None else None
    if path is not None and path.is_file():
        return json.loads(path.read_text(encoding="utf-8")), "measured by etl runs"
    try:
        document = run_cost.measure(deployment.client, str(description["executionArn"]))
    except (ClientError, BotoCoreError) as error:
        return None, f"not measured: {' '.join(str(error).split())}"
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document), encoding="utf-8")
    return document, "measured by etl runs"


def _json(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return None


def _days(request: Any, output: Any, time_zone: str | None) -> str:
    """The logical days the run covered: from its plan (output), else from its input."""
    run = output.get("run") if isinstance(output, Mapping) else None
    plan = run.get("Payload") if isinstance(run, Mapping) else None
    models = request.get("models") if isinstance(request, Mapping) else None
    suffix = f" ({', '.join(map(str, models))})" if isinstance(models, list) and models else ""
    if isinstance(plan, Mapping) and plan.get("start_date"):
        return _range(str(plan["start_date"]), str(plan.get("end_date"))) + suffix
    if not isinstance(request, Mapping):
        return "?"
    if "date" in request:
        return str(request["date"]) + suffix
    if "start_date" in request:
        return _range(str(request["start_date"]), str(request.get("end_date"))) + suffix
    if "time" in request:
        return _scheduled_day(str(request["time"]), time_zone) + suffix
    return "?"


def _range(start: str, end: str) -> str:
    return start if start == end else f"{start}..{end}"


def _scheduled_day(time: str, time_zone: str | None) -> str:
    """The schedule's day: the day before the event time, in the pipeline's time zone."""
    try:
        moment = datetime.fromisoformat(time.replace("Z", "+00:00"))
    except ValueError:
        return f"scheduled {time}"
    if time_zone is None:
        return f"scheduled {time}"
    return (moment.astimezone(ZoneInfo(time_zone)).date() - timedelta(days=1)).isoformat()


def _restated(output: Any) -> list[Mapping[str, Any]]:
    restate = output.get("restate") if isinstance(output, Mapping) else None
    payload = restate.get("Payload") if isinstance(restate, Mapping) else None
    rows = payload.get("restated") if isinstance(payload, Mapping) else None
    return [row for row in rows if isinstance(row, Mapping)] if isinstance(rows, list) else []


def malformed_lines(output: Any) -> int | None:
    """The malformed lines the run dropped, as its steps reported them in the execution's
    output (the Register step's intake, one row per source: `$.register.Payload.intake`);
    counts found at the shallowest level are added (a run's total before any per-file
    detail); None when no step reported any."""
    level = [output]
    while level:
        found = [
            item["malformed_lines"]
            for item in level
            if isinstance(item, Mapping) and "malformed_lines" in item
        ]
        counts = [_count(value) for value in found]
        if found and None not in counts:
            return sum(count for count in counts if count is not None)
        following: list[Any] = []
        for item in level:
            if isinstance(item, Mapping):
                following.extend(item.values())
            elif isinstance(item, list):
                following.extend(item)
        level = following
    return None


def _count(value: Any) -> int | None:
    """A count, or counts per source added up."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, Mapping) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value.values()
    ):
        return sum(value.values())
    return None
