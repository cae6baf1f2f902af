"""One Trino server on 127.0.0.1, started once and shared: by a test session's workers, or by
successive `etl query --engine trino` commands.

A server lives in a state directory (its configuration, data directory, log and
`server.json`: pid and port). `ensure_running` takes the directory's lock, reuses the server
recorded there when it answers, and starts one otherwise; `stop` ends it. A server started
for an owner process (a test session) is watched by a small process that stops it when the
owner is gone, so a killed test run leaves no JVM behind.

The machine is shared: the heap is capped (1 GB by default), the garbage collector is the
serial one and Trino's worker threads are few. Catalogs are created at run time (`CREATE
CATALOG`, "Catalog management properties", Trino docs), one per local AWS endpoint.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .install import TRINO_VERSION, Installation

HOST = "127.0.0.1"
DEFAULT_HEAP = "1G"
START_TIMEOUT_SECONDS = 300.0
_STATE_FILE = "server.json"


class TrinoServerError(RuntimeError):
    """The server did not start (the message quotes its log) or cannot be reached."""


@dataclass(frozen=True)
class RunningServer:
    pid: int
    port: int
    version: str
    started_seconds: float | None = None  # how long this start took; None when reused

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


def _jvm_config(heap: str) -> str:
    return "\n".join(
        [
            "-server",
            f"-Xmx{heap}",
            # Two cores shared by many: one GC thread, and the client compiler only (it
            # starts the server in about half the time; the oracle's queries are small).
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-XX:+ExitOnOutOfMemoryError",
            "-XX:ReservedCodeCacheSize=128M",
            "-Djdk.attach.allowAttachSelf=true",
            "-XX:+EnableDynamicAgentLoading",
            "-Dfile.encoding=UTF-8",
            # Athena evaluates in UTC; so does the oracle, whatever the host's zone.
            "-Duser.timezone=UTC",
            "",
        ]
    )


def _server_properties(port: int) -> str:
    return "\n".join(
        [
            "coordinator=true",
            "node-scheduler.include-coordinator=true",
            f"http-server.http.port={port}",
            f"discovery.uri=http://{HOST}:{port}",
            "catalog.management=dynamic",
            "catalog.store=memory",
            "query.max-memory=512MB",
            "query.max-memory-per-node=512MB",
            "task.concurrency=2",
            "task.max-worker-threads=4",
            "http-server.log.enabled=false",
            "",
        ]
    )


def _write_configuration(state_dir: Path, port: int, heap: str) -> None:
    etc = state_dir / "etc"
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "node.properties").write_text(
        "node.environment=lakepipe\n"
        "node.id=lakepipe-oracle\n"
        f"node.data-dir={state_dir / 'data'}\n"
        f"node.internal-address={HOST}\n",
        "utf-8",
    )
    (etc / "jvm.config").write_text(_jvm_config(heap), "utf-8")
    (etc / "config.properties").write_text(_server_properties(port), "utf-8")
    (etc / "log.properties").write_text("io.trino=WARN\nio.airlift=WARN\n", "utf-8")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _info(port: int) -> dict[str, object] | None:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/v1/info", timeout=2) as response:
            return dict(json.load(response))
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _log_tail(state_dir: Path, lines: int = 30) -> str:
    try:
        text = (state_dir / "server.log").read_text("utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def _locked(state_dir: Path) -> Iterator[None]:
    state_dir.mkdir(parents=True, exist_ok=True)
    with (state_dir / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _recorded(state_dir: Path) -> RunningServer | None:
    """The server recorded in the state directory, when it is alive and answers."""
    try:
        state = json.loads((state_dir / _STATE_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    server = RunningServer(int(state["pid"]), int(state["port"]), str(state["version"]))
    if server.version != TRINO_VERSION or not _alive(server.pid):
        return None
    info = _info(server.port)
    if not info or info.get("starting") is not False:
        return None
    return server


def _start(
    installation: Installation, state_dir: Path, heap: str, owner_pid: int | None
) -> RunningServer:
    port = _free_port()
    _write_configuration(state_dir, port, heap)
    environment = {
        **os.environ,
        "JAVA_HOME": str(installation.java_home),
        "PATH": f"{installation.java_home / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    began = time.monotonic()
    with (state_dir / "server.log").open("ab") as log:
        process = subprocess.Popen(
            [
                str(installation.home / "bin" / "launcher"),
                "run",
                f"--etc-dir={state_dir / 'etc'}",
                f"--data-dir={state_dir / 'data'}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=environment,
            start_new_session=True,  # a Ctrl-C meant for the caller does not reach it
        )
    if owner_pid is not None:
        _watch(owner_pid, process.pid, state_dir)
    deadline = began + START_TIMEOUT_SECONDS
    while True:
        info = _info(port)
        if info and info.get("starting") is False:
            break
        if process.poll() is not None or time.monotonic() > deadline:
            _terminate(process.pid)
            raise TrinoServerError(
                f"Trino {TRINO_VERSION} did not start (exit {process.poll()}); its log:\n"
                + _log_tail(state_dir)
            )
        time.sleep(0.25)
    server = RunningServer(process.pid, port, TRINO_VERSION, time.monotonic() - began)
    (state_dir / _STATE_FILE).write_text(
        json.dumps({"pid": server.pid, "port": server.port, "version": server.version}), "utf-8"
    )
    return server


def _watch(owner_pid: int, server_pid: int, state_dir: Path) -> None:
    """A detached watcher that stops the server once its owner process has ended."""
    subprocess.Popen(
        [sys.executable, "-m", "etl_local.trino", "watch", str(owner_pid), str(server_pid),
         str(state_dir)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip


def watch(owner_pid: int, server_pid: int, state_dir: Path) -> None:
    while _alive(server_pid):
        if not _alive(owner_pid):
            with _locked(state_dir):
                _terminate(server_pid)
                (state_dir / _STATE_FILE).unlink(missing_ok=True)
            return
        time.sleep(2)


def ensure_running(
    installation: Installation,
    state_dir: Path,
    *,
    heap: str = DEFAULT_HEAP,
    owner_pid: int | None = None,
) -> RunningServer:
    """The server of `state_dir`: the one recorded there when it answers, else a new one."""
    with _locked(state_dir):
        server = _recorded(state_dir)
        if server is not None:
            return server
        stale = state_dir / _STATE_FILE
        if stale.exists():
            with contextlib.suppress(ValueError, OSError, KeyError):
                _terminate(int(json.loads(stale.read_text("utf-8"))["pid"]))
            stale.unlink()
        return _start(installation, state_dir, heap, owner_pid)


def _terminate(pid: int, timeout_seconds: float = 20.0) -> None:
    """SIGTERM (Trino shuts down), then SIGKILL when it has not ended in time."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        if not _alive(pid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def stop(state_dir: Path) -> bool:
    """Stop the server of `state_dir`; False when none was running."""
    state_file = state_dir / _STATE_FILE
    if not state_file.exists():
        return False
    with _locked(state_dir):
        try:
            pid = int(json.loads(state_file.read_text("utf-8"))["pid"])
        except (OSError, ValueError, KeyError):
            return False
        running = _alive(pid)
        _terminate(pid)
        state_file.unlink(missing_ok=True)
        return running
