"""The local execution history: one JSON record per execution under $ETL_HOME/runs/.

moto keeps executions in memory only, so each `LocalRuntime.run` writes what the execution
did before the process ends: its input, status and readable error, what each model published
(rows, partitions, bytes scanned), the audit of each model that passed it (every check with
its value; the history checks with their day and numbers), the days restated for late data.
`etl docs` reads the newest ones. Records beyond `KEEP` are deleted, oldest first.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RUNS_DIRECTORY = "runs"
KEEP = 200


def runs_directory(home: Path) -> Path:
    return home / RUNS_DIRECTORY


def audits_from(results: Iterable[tuple[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Each model's checks, from the audit-verdict step's results (the last one per model)."""
    audits: dict[str, list[dict[str, Any]]] = {}
    for step, result in results:
        if step == "audit-verdict" and isinstance(result, Mapping) and "checks" in result:
            audits[str(result.get("model"))] = [dict(check) for check in result["checks"]]
    return audits


def write(
    home: Path,
    *,
    execution_input: Mapping[str, Any],
    started: datetime,
    result: Any,
    error_text: str | None,
    audits: Mapping[str, list[dict[str, Any]]],
) -> Path:
    """Record one execution; returns the record's path."""
    ended = datetime.now(UTC)
    document = {
        "execution_arn": result.execution_arn,
        "name": result.execution_arn.rsplit(":", 1)[-1],
        "input": dict(execution_input),
        "started": started.astimezone(UTC).isoformat(timespec="seconds"),
        "ended": ended.isoformat(timespec="seconds"),
        "status": result.status,
        "error": error_text,
        "models": [
            {
                **model,
                "audit": audits.get(model["model"], []),
            }
            for model in result.to_json()["models"]
        ],
        "restated": result.restated,
        "beyond_lookback": result.beyond_lookback,
    }
    directory = runs_directory(home)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{started.astimezone(UTC):%Y%m%dT%H%M%S%fZ}_{document['name']}.json"
    path.write_text(json.dumps(document, indent=1, default=str) + "\n", encoding="utf-8")
    for old in sorted(directory.glob("*.json"))[:-KEEP]:
        with contextlib.suppress(FileNotFoundError):
            old.unlink()
    return path


def recent(home: Path, limit: int = 50) -> list[dict[str, Any]]:
    """The newest records first; an unreadable record is skipped (a crash mid-write)."""
    records = []
    for path in sorted(runs_directory(home).glob("*.json"), reverse=True)[:limit]:
        try:
            records.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return records
