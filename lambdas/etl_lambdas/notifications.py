"""The run's outcome as a notification: a success summary or the failure, readable."""

from __future__ import annotations

import json
from typing import Any

from etl_lambdas.errors import InvalidRunRequest

SUBJECT_LIMIT = 100  # SNS rejects longer subjects


def subject(text: str) -> str:
    # SNS subjects: printable ASCII, no line breaks, at most 100 characters.
    flat = " ".join(text.split()).encode("ascii", "replace").decode("ascii")
    return flat if len(flat) <= SUBJECT_LIMIT else flat[: SUBJECT_LIMIT - 3] + "..."


def _models(results: object) -> list[dict[str, Any]]:
    """Flatten the tiers Map's output (a list per tier of model results)."""
    flat: list[dict[str, Any]] = []
    if isinstance(results, list):
        for item in results:
            if isinstance(item, list):
                flat.extend(_models(item))
            elif isinstance(item, dict):
                flat.append(item)
    return flat


def _cause(error: dict[str, Any]) -> str:
    """The Catch error's Cause; a Lambda's is JSON with errorMessage."""
    cause = error.get("Cause")
    if isinstance(cause, str):
        try:
            decoded = json.loads(cause)
        except ValueError:
            return cause
        if isinstance(decoded, dict) and "errorMessage" in decoded:
            return str(decoded["errorMessage"])
        return cause
    return "" if cause is None else json.dumps(cause)


def _innermost(state: str, error: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Follow a failure down to where it happened. A model's failure arrives as ModelFailed
    whose Cause is our failure record {"failed_state", "model", "error"}; a failed child
    execution (startExecution.sync) as States.TaskFailed whose Cause is the child's
    DescribeExecution output {"Status": "FAILED", "Error", "Cause"}. Report the innermost
    state, model and error."""
    for _ in range(8):  # nesting is shallow; the bound keeps a malformed cause harmless
        try:
            inner = json.loads(error.get("Cause") or "")
        except (TypeError, ValueError):
            return state, error
        if not isinstance(inner, dict):
            return state, error
        if isinstance(inner.get("error"), dict) and "failed_state" in inner:
            state = f"{state} > {inner['failed_state']}"
            if inner.get("model"):
                state += f" ({inner['model']})"
            error = inner["error"]
        elif (inner.get("Status") or inner.get("status")) == "FAILED":
            error = {
                "Error": inner.get("Error", inner.get("error")),
                "Cause": inner.get("Cause", inner.get("cause")),
            }
        else:
            return state, error
    return state, error


def success_message(event: dict[str, Any]) -> tuple[str, str]:
    plan = event.get("plan") or {}
    register = event.get("register") or {}
    models = _models(event.get("results"))
    run = plan.get("run_id", "?")
    window = f"{plan.get('start_date', '?')}..{plan.get('end_date', '?')}"
    lines = [f"Run {run} SUCCEEDED for {window}.", ""]
    lines += _catch_up_lines(plan)
    for model in models:
        name = model.get("table", model.get("model"))
        if model.get("skipped"):
            lines.append(f"- {name}: SKIPPED, {model['skipped']}")
            continue
        lines.append(
            f"- {name}: {model.get('partitions', '?')} partition(s) published"
            + (f", {model['rows']} rows" if "rows" in model else "")
        )
    intake = register.get("intake") or []
    waiting = register.get("waiting_for_data") or []
    lines += _intake_lines(intake, waiting)
    lines += _schema_lines(register.get("schema_changes") or [])
    restated = event.get("restated") or []
    beyond = event.get("beyond_lookback") or []
    future = event.get("future_events") or []
    if restated:
        lines += ["", "Restated for late data: " + ", ".join(_day_line(r) for r in restated)]
    if beyond:
        lines += [
            "",
            "Late data older than the look-back bound, NOT restated (re-run those days to "
            "include it): " + ", ".join(_day_line(r) for r in beyond),
        ]
    if future:
        lines += [
            "",
            "Events dated after the run's day, NOT published (check the sources' clocks): "
            + ", ".join(_day_line(r) for r in future),
        ]
    cost = event.get("cost")
    if isinstance(cost, dict):
        lines += ["", *cost_lines(cost)]
    body = {
        "status": "SUCCEEDED",
        "run_id": run,
        "start_date": plan.get("start_date"),
        "end_date": plan.get("end_date"),
        "caught_up": plan.get("caught_up"),
        "missed": plan.get("missed"),
        "models": models,
        "sources": intake,
        "waiting_for_data": waiting,
        "schema_changes": register.get("schema_changes") or [],
        "restated": restated,
        "beyond_lookback": beyond,
        "future_events": future,
        "cost": cost,
    }
    text = "\n".join(lines) + "\n\n" + json.dumps(body, indent=2, sort_keys=True)
    return subject(f"ETL run {run} SUCCEEDED {window}"), text


def _catch_up_lines(plan: dict[str, Any]) -> list[str]:
    lines = []
    caught, missed = plan.get("caught_up"), plan.get("missed")
    if isinstance(caught, dict):
        lines.append(
            f"Caught up {caught.get('start_date')}..{caught.get('end_date')}: no run had "
            "published those days since the last one (an outage or failed runs)."
        )
    if isinstance(missed, dict):
        lines.append(
            f"NOT caught up {missed.get('start_date')}..{missed.get('end_date')}: older than "
            "the look-back bound; run a backfill of those days."
        )
    return [*lines, ""] if lines else []


def _intake_lines(intake: list[Any], waiting: list[Any]) -> list[str]:
    """Per source: what the run's conversion took in, and what it dropped."""
    lines = []
    for row in intake:
        if not isinstance(row, dict):
            continue
        source = row.get("source")
        if source in waiting:
            lines.append(f"- source {source}: no data yet (its models are skipped until then)")
            continue
        line = (
            f"- source {source}: {row.get('new_events', 0):,} new events in "
            f"{row.get('partitions_converted', 0)} partition(s) converted"
        )
        if row.get("malformed_lines"):
            line += f", {row['malformed_lines']:,} MALFORMED lines dropped" + _files(row)
        if row.get("unparsable_event_times"):
            line += f", {row['unparsable_event_times']:,} events without a readable event time"
        lines.append(line)
    listed = {row.get("source") for row in intake if isinstance(row, dict)}
    lines += [
        f"- source {name}: no data yet (its models are skipped until then)"
        for name in waiting
        if name not in listed
    ]
    return ["", "Sources:", *lines] if lines else []


def _files(row: dict[str, Any]) -> str:
    files = [
        f"{f.get('partition', '')}{f.get('file')} ({f.get('lines')})"
        for f in row.get("malformed_files") or []
        if isinstance(f, dict)
    ]
    more = row.get("malformed_files_not_named") or 0
    if more:
        files.append(f"{more} more file(s)")
    return f" (in {', '.join(files)})" if files else ""


def _schema_lines(changes: list[Any]) -> list[str]:
    lines = []
    for change in changes:
        if not isinstance(change, dict):
            continue
        retyped = ", ".join(
            f"{t.get('column')} {t.get('from')} -> {t.get('to')}" for t in change.get("retyped", [])
        )
        line = f"- {change.get('table')}: columns set to the declaration ({retyped or 'renamed'})"
        again = change.get("convert_again")
        if isinstance(again, dict):
            line += (
                f"; {change.get('unreadable_partitions')} older partition(s) keep types Athena "
                "cannot read as the declared ones: convert them again with a backfill "
                f"{again.get('start_date')}..{again.get('end_date')} (the raw files are kept)"
            )
        lines.append(line)
    return ["", "Schema changes:", *lines] if lines else []


def cost_lines(cost: dict[str, Any]) -> list[str]:
    """The run's cost (etl_lambdas.run_cost's document), or why it could not be measured."""
    if "total_usd" not in cost:
        reason = cost.get("unavailable")
        if isinstance(reason, dict):
            reason = f"{reason.get('Error', '')}: {_cause(reason)}".strip(": ")
        return [f"Cost: not measured ({reason or 'no figure'})."]
    services = cost.get("services") or {}
    lines = [f"Cost: ${cost['total_usd']:.4f} at {cost.get('prices', 'list prices')}:"]
    for name, detail in services.items():
        if isinstance(detail, dict):
            lines.append(f"- {name}: ${float(detail.get('usd', 0)):.4f} ({_usage(name, detail)})")
    for item in cost.get("unpriced") or []:
        lines.append(f"- not priced: {item}")
    lines.append(f"Not included: {cost.get('not_included', '')}")
    return lines


def _usage(service: str, detail: dict[str, Any]) -> str:
    if service == "athena":
        scanned = int(detail.get("scanned_bytes") or 0) / 1024**2
        return f"{detail.get('queries', 0)} queries, {scanned:,.1f} MiB scanned"
    if service == "glue_job":
        runs = [r for r in detail.get("runs") or [] if isinstance(r, dict)]
        return (
            ", ".join(
                f"{r.get('dpu_seconds')} DPU-s {r.get('execution_class')} "
                f"({r.get('workers')} x {r.get('worker_type')})"
                for r in runs
            )
            or "no job run"
        )
    if service == "step_functions":
        return (
            f"{detail.get('state_transitions', 0)} state transitions in "
            f"{detail.get('executions', 0)} executions"
        )
    if service == "lambda":
        return f"{detail.get('invocations', 0)} invocations, {detail.get('gb_seconds', 0)} GB-s"
    if service == "crawler":
        return f"{detail.get('crawls', 0)} crawls, estimated"
    return ""


def _day_line(row: object) -> str:
    if not isinstance(row, dict):
        return str(row)
    events = row.get("events") or {}
    detail = ", ".join(f"{source} {count}" for source, count in events.items())
    return f"{row.get('date')} ({detail} events)"


def failure_message(event: dict[str, Any]) -> tuple[str, str]:
    error = event.get("error") or {}
    if not isinstance(error, dict):
        error = {"Cause": str(error)}
    state = str(event.get("failed_state") or "unknown state")
    execution = event.get("execution", "?")
    state, error = _innermost(state, error)
    name = str(error.get("Error", "Error"))
    cause = _cause(error)
    intake = event.get("intake") or []
    waiting = event.get("waiting_for_data") or []
    converted = "\n".join(_intake_lines(intake, waiting)).strip()
    text = (
        f"Execution {execution} FAILED in {state}.\n\nError: {name}\nCause: {cause}\n\n"
        + (f"{converted}\n\n" if converted else "")
        + json.dumps(
            {
                "status": "FAILED",
                "execution": execution,
                "failed_state": state,
                "error": name,
                "cause": cause,
                "input": event.get("input"),
                "sources": intake,
                "waiting_for_data": waiting,
            },
            indent=2,
            sort_keys=True,
            default=str,
        )
    )
    return subject(f"ETL FAILED in {state}: {name}"), text


def message(event: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) for {"status": "SUCCEEDED", ...} or {"status": "FAILED", ...}."""
    status = event.get("status")
    if status == "SUCCEEDED":
        return success_message(event)
    if status == "FAILED":
        return failure_message(event)
    raise InvalidRunRequest(f"status {status!r} must be SUCCEEDED or FAILED")
