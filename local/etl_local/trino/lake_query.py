"""`etl query --engine trino`: a query of the local lake answered by the real Trino.

The server is installed by `make setup` and started on first use, then reused by later
commands (stop it with `python -m etl_local.trino stop`); each command gives it a catalog over
the running local AWS endpoint's Glue catalog and S3, and drops it after the query.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .catalog import attach_lake
from .client import TrinoClient, TrinoResult
from .install import installed, trino_home
from .server import ensure_running

# The local runtime's clients sign with these (etl_local.runtime.LocalRuntime.client).
_ACCESS_KEY = "testing"
_SECRET_KEY = "testing"


class TrinoUnavailable(RuntimeError):
    """Trino is not installed, or did not start."""


def user_state_dir() -> Path:
    """Where the reusable server of `etl query --engine trino` keeps its state."""
    return trino_home() / "run"


def query_lake(endpoint: str, region: str, sql: str) -> TrinoResult:
    """Run one statement on Trino over the lake behind `endpoint`."""
    installation = installed()
    if installation is None:
        raise TrinoUnavailable("Trino is not installed: run `make setup`")
    server = ensure_running(installation, user_state_dir())
    client = TrinoClient(server.url)
    catalog = attach_lake(client, endpoint, region, _ACCESS_KEY, _SECRET_KEY)
    client.catalog = catalog
    try:
        return client.execute(sql)
    finally:
        client.catalog = None
        client.execute(f"DROP CATALOG IF EXISTS {catalog}")


def rows_as_text(result: TrinoResult) -> tuple[list[str], list[list[Any]]]:
    return [c.name for c in result.columns], [list(r) for r in result.rows]
