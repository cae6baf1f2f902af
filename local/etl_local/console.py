"""Terminal rendering for the `etl` CLI: errors as one readable line, the per-model summary,
the run's status line, and query results (the execution itself: etl_local.run_view).

Rendering only: nothing here talks to the runtime. Values are read by attribute so that any
object of the runtime's ModelSummary shape renders.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC
from typing import Any

from rich.markup import escape
from rich.table import Table

_STATUS_STYLE = {
    "SUCCEEDED": "green",
    "FAILED": "red",
    "TIMED_OUT": "red",
    "ABORTED": "red",
    "CAUGHT": "yellow",
    "RETRIED": "yellow",
    "CANCELLED": "yellow",
}


def _style(outcome: str) -> str:
    return _STATUS_STYLE.get(outcome.upper(), "cyan")


def readable_cause(cause: object) -> str:
    """The message inside a Step Functions cause, without the JSON envelopes around it.

    A Lambda error's cause is its JSON payload (errorType, errorMessage, stackTrace), and
    the pipeline's Fail states wrap that again with the failing state: show what failed
    and why, as one line, and leave the stack trace to the execution history.
    """
    if cause is None:
        return ""
    if isinstance(cause, str):
        try:
            parsed = json.loads(cause)
        except ValueError:
            return " ".join(cause.split())
        return readable_cause(parsed) if isinstance(parsed, dict | str) else cause
    if not isinstance(cause, dict):
        return " ".join(str(cause).split())
    if "errorMessage" in cause:
        kind = cause.get("errorType")
        message = " ".join(str(cause["errorMessage"]).split())
        return f"{kind}: {message}" if kind else message
    if "JobRunState" in cause:  # a Glue job run, as a failed .sync task reports it
        message = " ".join(str(cause.get("ErrorMessage", "")).split())
        return f"Glue job run {cause['JobRunState']}: {message}".rstrip(": ")
    if "failed_state" in cause:
        inner = readable_cause(cause.get("error"))
        return f"in {cause['failed_state']}: {inner}" if inner else f"in {cause['failed_state']}"
    if "Cause" in cause or "Error" in cause:
        return readable_cause(cause.get("Cause")) or str(cause.get("Error", ""))
    return " ".join(json.dumps(cause).split())


def models_table(models: Iterable[Any]) -> Table:
    table = Table(title="Models", title_justify="left")
    table.add_column("model")
    table.add_column("tier")
    table.add_column("table")
    table.add_column("rows written", justify="right")
    table.add_column("partitions", justify="right")
    table.add_column("bytes read", justify="right")
    for model in models:
        if getattr(model, "skipped", None):
            table.add_row(model.model, model.tier, model.table, "[yellow]SKIPPED[/]", "-", "-")
            continue
        table.add_row(
            model.model,
            model.tier,
            model.table,
            f"{model.rows_written:,}",
            f"{model.partitions_written:,}",
            human_bytes(model.bytes_read),
        )
    return table


def skipped_lines(models: Iterable[Any]) -> list[str]:
    """Why each skipped model was skipped."""
    return [
        f"[yellow]Skipped[/] {escape(model.model)}: {escape(str(model.skipped))}"
        for model in models
        if getattr(model, "skipped", None)
    ]


def source_lines(sources: Sequence[Mapping[str, Any]], waiting: Sequence[str]) -> list[str]:
    """Per source, what the run's conversion took in and dropped: new events, partitions,
    malformed lines (and the files that held the most), events without a readable time."""
    lines = []
    for row in sources:
        name = str(row.get("source"))
        if name in waiting:
            lines.append(f"[yellow]Source {escape(name)}:[/] no data yet")
            continue
        text = (
            f"Source {escape(name)}: {int(row.get('new_events') or 0):,} new events in "
            f"{int(row.get('partitions_converted') or 0):,} partition(s)"
        )
        malformed = int(row.get("malformed_lines") or 0)
        if malformed:
            files = [
                f"{f.get('file')} ({int(f.get('lines') or 0):,})"
                for f in row.get("malformed_files") or []
            ]
            more = int(row.get("malformed_files_not_named") or 0)
            if more:
                files.append(f"{more:,} more file(s)")
            text += f", [bold red]{malformed:,} malformed lines dropped[/]"
            text += f" in {escape(', '.join(files))}" if files else ""
        unparsable = int(row.get("unparsable_event_times") or 0)
        if unparsable:
            text += f", {unparsable:,} events without a readable event time"
        lines.append(text)
    listed = {str(row.get("source")) for row in sources}
    lines += [
        f"[yellow]Source {escape(name)}:[/] no data yet" for name in waiting if name not in listed
    ]
    return lines


def run_scope_lines(
    caught_up: Mapping[str, Any] | None,
    missed: Mapping[str, Any] | None,
    schema_changes: Sequence[Mapping[str, Any]],
) -> list[str]:
    """Days the run caught up after an outage (or could not), and schemas it applied."""
    lines = []
    if caught_up:
        lines.append(
            f"[bold]Caught up[/] {caught_up.get('start_date')}..{caught_up.get('end_date')}: "
            "no run had published those days"
        )
    if missed:
        lines.append(
            f"[bold yellow]Not caught up[/] {missed.get('start_date')}..{missed.get('end_date')}"
            ": older than the look-back bound; backfill them (etl run --start ... --end ...)"
        )
    for change in schema_changes:
        retyped = ", ".join(
            f"{t.get('column')} {t.get('from')} -> {t.get('to')}" for t in change.get("retyped", [])
        )
        line = f"[bold]Schema[/] {escape(str(change.get('table')))} set to the declaration"
        line += f" ({escape(retyped)})" if retyped else ""
        again = change.get("convert_again")
        if again:
            line += (
                f"; {change.get('unreadable_partitions')} older partition(s) keep types Athena "
                f"cannot read as the new ones: etl run --start {again.get('start_date')} "
                f"--end {again.get('end_date')} converts them again (raw files are kept)"
            )
        lines.append(line)
    return lines


def changes_table(changes: Iterable[Any]) -> Table:
    """`etl changes`: per model, the days to restate and why (etl_local.backfill)."""
    table = Table(
        title="Published partitions that the SQL in sql/ would compute differently",
        title_justify="left",
    )
    table.add_column("model")
    table.add_column("tier")
    table.add_column("days")
    table.add_column("stale partitions", justify="right")
    table.add_column("why")
    for change in changes:
        table.add_row(
            change.model,
            change.tier,
            escape(", ".join(_span(r.start.isoformat(), r.end.isoformat()) for r in change.ranges)),
            f"{change.stale_partitions:,}",
            escape("; ".join(change.reasons)),
        )
    return table


def _span(first: str, last: str) -> str:
    return first if first == last else f"{first}..{last}"


def late_data_lines(
    restated: Sequence[Mapping[str, Any]], beyond_lookback: Sequence[Mapping[str, Any]]
) -> list[str]:
    """What the run did about late data: the days it restated and why (the new events each
    received, per source), and the days too old to restate."""
    lines = []
    if restated:
        lines.append("[bold]Restated for late data:[/] " + _days(restated))
    if beyond_lookback:
        lines.append(
            "[bold yellow]Late data older than the look-back bound, not restated[/] "
            "(re-run those days to include it): " + _days(beyond_lookback)
        )
    return lines


def _days(rows: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(
        escape(
            f"{row.get('date')} ("
            + ", ".join(
                f"{count:,} new {source} events"
                for source, count in dict(row.get("events") or {}).items()
            )
            + ")"
        )
        for row in rows
    )


def human_bytes(count: int) -> str:
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{count} B"


def cost_line(cost: Mapping[str, Any]) -> str:
    """The run's cost (etl_lambdas.run_cost's document) in a line: the total, each service,
    where the prices come from; or why it was not measured."""
    if "total_usd" not in cost:
        reason = readable_cause(cost.get("unavailable")) or "no figure"
        return f"[bold]Cost:[/] not measured ({escape(reason)})"
    services = cost.get("services") or {}
    parts = ", ".join(
        f"{name} ${float(detail.get('usd', 0)):.4f}"
        for name, detail in services.items()
        if isinstance(detail, Mapping)
    )
    return (
        f"[bold]Cost:[/] ${float(cost['total_usd']):.4f} ({escape(parts)}) "
        f"[dim]at {escape(str(cost.get('prices', 'list prices')))}[/]"
    )


def duration_text(seconds: float) -> str:
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def runs_table(rows: Iterable[Any], title: str = "Runs") -> Table:
    """`etl runs`: one line per execution (etl_local.remote.RunRow), newest first."""
    table = Table(title=title, title_justify="left")
    for column in ("started (UTC)", "days", "status", "duration", "restated", "malformed"):
        table.add_column(column, justify="right" if column == "malformed" else "left")
    table.add_column("cost (USD)", justify="right")
    table.add_column("execution")
    for row in rows:
        cost = row.cost_usd
        table.add_row(
            row.started.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
            escape(row.days),
            f"[{_style(row.status)}]{row.status}[/]",
            duration_text(row.seconds),
            escape(", ".join(row.restated)) or "-",
            "-" if row.malformed_lines is None else f"{row.malformed_lines:,}",
            f"{cost:.4f}" if cost is not None else escape(row.cost_note or "-"),
            escape(row.name),
        )
    return table


def status_line(status: str, error: str | None) -> str:
    text = f"[bold {_style(status)}]{escape(status)}[/]"
    return f"{text}  {escape(error)}" if error else text


def rows_as_objects(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    return [dict(zip(columns, row, strict=True)) for row in rows]


def render_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str) -> str | Table:
    """Query results as a rich Table (`table`), CSV text or a JSON list of row objects."""
    if fmt == "json":
        return json.dumps(rows_as_objects(columns, rows), default=str, ensure_ascii=False)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
        return buffer.getvalue().rstrip("\n")
    table = Table(show_lines=False)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("NULL" if v is None else str(v) for v in row))
    table.caption = f"{len(rows)} row{'s' if len(rows) != 1 else ''}"
    return table
