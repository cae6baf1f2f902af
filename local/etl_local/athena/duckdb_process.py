"""The DuckDB release Athena's DuckDB engine runs, as a cursor the local Athena can use.

Athena, powered by DuckDB, runs DuckDB 2.0: its Glue functions (`CALL glue_add_partition`)
come from DuckDB 2.0's glue extension, and AWS's extension for a local DuckDB session requires
"DuckDB 2.0.1 and an extension build for that client version" ("Install the extension",
Athena User Guide); 2.0.1 is the newest 2.0 release on PyPI. requirements-duckdb.txt pins it and
`make setup` installs it into `.venv-duckdb` (the project's own environment keeps duckdb 1.4,
which the engine-version-3 translation is checked against: one process cannot load two
releases). Each query of a DuckDB workgroup gets a session in a process of that environment
(etl_local.athena.duckdb_server): its SQL runs there as written, untranslated.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import duckdb

from .duckdb_server import read_message, write_message

REPOSITORY_ROOT = Path(__file__).resolve().parents[3]
# The Python of the DuckDB environment; ETL_DUCKDB_PYTHON overrides it.
DEFAULT_PYTHON = REPOSITORY_ROOT / ".venv-duckdb" / "bin" / "python"
SERVER = Path(__file__).resolve().parent / "duckdb_server.py"


class DuckDBUnavailableError(RuntimeError):
    """The DuckDB environment is not installed."""


def duckdb_python() -> Path:
    python = Path(os.environ.get("ETL_DUCKDB_PYTHON") or DEFAULT_PYTHON)
    if not python.is_file():
        raise DuckDBUnavailableError(
            f"no DuckDB environment at {python}: `make setup` installs it "
            "(requirements-duckdb.txt), for workgroups on Athena's DuckDB engine"
        )
    return python


class DuckDBSession:
    """One query's DuckDB connection in its own process; the cursor subset the local Athena
    uses (execute, executemany, fetchall, fetchone, description, interrupt, close). Errors
    are raised as the project's duckdb.Error, an interrupt as duckdb.InterruptException."""

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        argument = pickle.dumps(config or {}).hex()
        self._process = subprocess.Popen(
            [str(duckdb_python()), str(SERVER), argument],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._lock = threading.Lock()
        self._interrupted = False
        self.description: list[tuple[str, str]] = []
        self._rows: list[tuple[Any, ...]] = []

    def _call(self, *request: Any) -> Any:
        assert self._process.stdin is not None and self._process.stdout is not None
        with self._lock:
            try:
                write_message(self._process.stdin, request)  # type: ignore[arg-type]
                answer = read_message(self._process.stdout)  # type: ignore[arg-type]
            except (EOFError, BrokenPipeError, OSError):
                if self._interrupted:
                    raise duckdb.InterruptException("INTERRUPT Error: query interrupted") from None
                raise duckdb.Error(f"the DuckDB process ended: {self._stderr()}") from None
        if answer[0] == "error":
            raise duckdb.Error(answer[1])
        return answer

    def _stderr(self) -> str:
        self._process.wait(timeout=10)
        assert self._process.stderr is not None
        return self._process.stderr.read().decode(errors="replace").strip()[-2000:]

    def version(self) -> str:
        return str(self._call("version")[1])

    def execute(self, sql: str, params: Any = None) -> DuckDBSession:
        _, self.description, self._rows = self._call("execute", sql, params)
        return self

    def executemany(self, sql: str, rows: list[Any]) -> DuckDBSession:
        self._call("executemany", sql, rows)
        self.description, self._rows = [], []
        return self

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self._rows = self._rows, []
        return rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows.pop(0) if self._rows else None

    def interrupt(self) -> None:
        """Stop the running statement: the process ends (its session is the query's only)."""
        self._interrupted = True
        self._process.kill()

    def close(self) -> None:
        if self._process.poll() is None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
        for stream in (self._process.stdout, self._process.stderr):
            if stream is not None:
                stream.close()


def version(python: Path | None = None) -> str:
    """The DuckDB release of the DuckDB environment."""
    result = subprocess.run(
        [str(python or duckdb_python()), "-c", "import duckdb; print(duckdb.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


if __name__ == "__main__":
    print(version())
    sys.exit(0)
