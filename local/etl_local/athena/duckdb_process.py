"""The DuckDB release Athena's DuckDB engine runs, as a cursor the local Athena can use.

Athena, powered by DuckDB, runs DuckDB 2.0: its Glue functions (`CALL glue_add_partition`)
come from DuckDB 2.0's glue extension, and AWS's extension for a local DuckDB session requires
"DuckDB 2.0.1 and an extension build for that client version" ("Install the extension",
Athena User Guide); 2.0.1 is the newest 2.0 release on PyPI. requirements-duckdb.txt pins it and
`make setup` installs it into `.venv-duckdb` (the project's own environment keeps duckdb 1.4,
which the engine-version-3 translation is checked against: one process cannot load two
releases). Each query of a DuckDB workgroup gets a session in a long-lived process of that
environment (etl_local.athena.duckdb_server): its SQL runs there as written, untranslated.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
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


class _Worker:
    """One process of the DuckDB environment (etl_local.athena.duckdb_server)."""

    def __init__(self, python: Path) -> None:
        # A file, not a pipe: a long-lived process must never block on a full stderr pipe.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        self.process = subprocess.Popen(
            [str(python), str(SERVER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def call(self, *request: Any) -> Any:
        """The answer to one request; EOFError/OSError when the process has ended."""
        assert self.process.stdin is not None and self.process.stdout is not None
        write_message(self.process.stdin, request)  # type: ignore[arg-type]
        return read_message(self.process.stdout)  # type: ignore[arg-type]

    def stderr(self) -> str:
        self.process.wait(timeout=10)
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace").strip()[-2000:]

    def stop(self) -> None:
        if self.alive:
            assert self.process.stdin is not None
            try:
                self.process.stdin.close()  # the server returns at the end of its input
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._stderr.close()


class DuckDBWorkers:
    """The DuckDB processes of one local Athena: started when a query first needs one, then
    kept for the next queries (starting Python and importing duckdb costs far more than most
    of a pipeline's queries). One process serves one query at a time, so there are as many
    as queries run at once; at most `keep` wait idle between queries. Each query gets a new
    in-memory database in its process: sessions share nothing."""

    def __init__(self, keep: int = 2) -> None:
        self._keep = keep
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False
        self.started = 0  # processes started so far (the tests count them)

    def session(self, config: dict[str, Any] | None = None) -> DuckDBSession:
        python = duckdb_python()
        with self._lock:
            if self._closed:
                raise DuckDBUnavailableError("the local Athena's DuckDB processes are stopped")
            worker = self._idle.pop() if self._idle else None
        if worker is None or not worker.alive:
            worker = _Worker(python)
            with self._lock:
                self.started += 1
        session = DuckDBSession(worker, self)
        try:
            session.call("open", config or {})
        except BaseException:
            worker.stop()
            raise
        return session

    def release(self, worker: _Worker) -> None:
        """Take back a worker whose session is closed; an ended or surplus one is stopped."""
        with self._lock:
            if worker.alive and not self._closed and len(self._idle) < self._keep:
                self._idle.append(worker)
                return
        worker.stop()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()


class DuckDBSession:
    """One query's DuckDB connection, in a worker process; the cursor subset the local Athena
    uses (execute, executemany, fetchall, fetchone, description, interrupt, close). Errors
    are raised as the project's duckdb.Error, an interrupt as duckdb.InterruptException."""

    def __init__(self, worker: _Worker, workers: DuckDBWorkers) -> None:
        self._worker = worker
        self._workers = workers
        self._lock = threading.Lock()
        self._interrupted = False
        self._closed = False
        self.description: list[tuple[str, str]] = []
        self._rows: list[tuple[Any, ...]] = []

    def call(self, *request: Any) -> Any:
        with self._lock:
            try:
                answer = self._worker.call(*request)
            except (EOFError, OSError):
                if self._interrupted:
                    raise duckdb.InterruptException("INTERRUPT Error: query interrupted") from None
                raise duckdb.Error(f"the DuckDB process ended: {self._worker.stderr()}") from None
        if answer[0] == "error":
            raise duckdb.Error(answer[1])
        return answer

    def version(self) -> str:
        return str(self.call("version")[1])

    def execute(self, sql: str, params: Any = None) -> DuckDBSession:
        _, self.description, self._rows = self.call("execute", sql, params)
        return self

    def executemany(self, sql: str, rows: list[Any]) -> DuckDBSession:
        self.call("executemany", sql, rows)
        self.description, self._rows = [], []
        return self

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self._rows = self._rows, []
        return rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows.pop(0) if self._rows else None

    def interrupt(self) -> None:
        """Stop the running statement: its process ends (the pool starts another when needed)."""
        self._interrupted = True
        self._worker.process.kill()
        # Reaped before anything asks whether it is alive: a killed process that has not
        # exited yet would go back to the pool and fail the next session's query.
        self._worker.process.wait(timeout=30)

    def close(self) -> None:
        """End the session; its process goes back to the pool."""
        if self._closed:
            return
        self._closed = True
        if self._worker.alive and not self._interrupted:
            with contextlib.suppress(duckdb.Error):  # ended meanwhile: release() stops it
                self.call("close")
        self._workers.release(self._worker)


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
