"""The test session's Trino server (tests/oracle): one per session, shared by its workers."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def owner_pid() -> int:
    """The session's main process: the xdist controller for a worker, else this process."""
    return os.getppid() if os.environ.get("PYTEST_XDIST_WORKER") else os.getpid()


def state_dir() -> Path:
    """Where the session's server keeps its state, named after the session's main process."""
    return Path(tempfile.gettempdir()) / f"lakepipe-trino-session-{owner_pid()}"


def stop_session_server() -> None:
    state = state_dir()
    if state.exists():
        from etl_local.trino import stop

        stop(state)
        shutil.rmtree(state, ignore_errors=True)
