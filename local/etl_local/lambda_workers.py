"""Local Lambda execution environments: a warm worker process per concurrent invocation.

Lambda runs each function in execution environments of its own, one invocation at a time
each: an invocation takes a free environment of its function, or Lambda starts a new one
(a cold start: the Init phase imports the handler's module), so a function invoked N times at
once scales out to N environments, which stay warm for the next invocations ("Understanding
Lambda function scaling", "Understand the Lambda execution environment lifecycle", AWS Lambda
Developer Guide). Here an environment is a process forked from a zygote (etl_local.
lambda_sandbox) with exactly its function's environment variables and its role's
credentials, and this module enforces what Lambda enforces on it:

- the function's timeout: when it passes, the environment is killed mid-way and the
  invocation fails with `Sandbox.Timedout`, "RequestId: <id> Error: Task timed out after
  <timeout>.00 seconds" (the Invoke response's payload, FunctionError "Unhandled";
  "Troubleshoot invocation issues in Lambda", Sandbox.Timedout);
- the function's memory: an environment whose resident memory passes the function's memory
  size is killed as Lambda's out-of-memory kill does (SIGKILL), and the invocation fails with
  `Runtime.OutOfMemory`, "RequestId: <id> Error: Runtime exited with error: signal: killed"
  (the error type Lambda reports for it, "Lambda Telemetry API Event schema reference",
  platform.runtimeDone / platform.report `errorType`). The resident size is sampled every
  50 ms during the invocation and the environment's peak is checked once it answers, so a
  spike between two samples fails the invocation too (after its side effects: AWS would have
  stopped it at once);
- a runtime process that exits (sys.exit, a crash) fails the invocation with
  `Runtime.ExitError`, "Runtime exited with error: <status>".

Step Functions names a Lambda task's error after the payload's `errorType` (so the ASL's
Retry and Catch see these names; "Unhandled errors in Lambda are reported as Lambda.Unknown ...
These include out-of-memory errors and function timeouts", "Handle Lambda service
exceptions", AWS Step Functions Developer Guide, is what happens when the payload has no
errorType). After any of them the environment is gone and the next invocation starts a new one:
"If the Lambda function crashes or times out during the Invoke phase, Lambda resets the
execution environment" (the lifecycle page, "Failures during the Invoke phase").
"""

from __future__ import annotations

import atexit
import contextlib
import datetime
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from etl_local import lambda_sandbox

# What the Lambda runtime sets for every function alike ("Defined runtime environment
# variables", AWS Lambda Developer Guide): the zygote runs with these, and nothing else.
LAMBDA_PYTHON = "python3.12"
RUNTIME_ENVIRONMENT = {
    "TZ": ":UTC",
    "LANG": "en_US.UTF-8",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "AWS_EXECUTION_ENV": f"AWS_Lambda_{LAMBDA_PYTHON}",
    "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
    "LAMBDA_TASK_ROOT": str(Path(__file__).resolve().parents[2] / "lambdas"),
    "LAMBDA_RUNTIME_DIR": str(Path(sys.executable).parent),
    # Local only: a sandbox has no AWS configuration files; without these, botocore would
    # read the developer's ~/.aws (profiles, regions, endpoints).
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
# How often the resident memory of a running environment is sampled.
MEMORY_SAMPLE_SECONDS = 0.05
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class FunctionConfig:
    """What an environment of one function is made of."""

    step: str
    name: str
    arn: str
    handler: str
    memory_size: int  # MB
    timeout: float  # seconds
    environment: Mapping[str, str]  # everything but the runtime's constants
    sql_root: str | None = None


@dataclass
class Outcome:
    """One invocation as the Lambda service saw it."""

    payload: str | None = None  # the result's JSON text, when it succeeded
    error: dict[str, Any] | None = None  # the error payload, when it failed
    output: str = ""  # what the function printed (its CloudWatch log lines)
    init_output: str = ""  # what its module printed at import, on a cold start
    seconds: float = 0.0  # the handler's duration
    max_memory_mb: int = 0
    init_seconds: float | None = None  # on a cold start: the Init phase's duration
    reached_handler: bool = False
    log_lines: list[str] = field(default_factory=list)  # what Lambda itself logs (timeouts)


class _Zygote:
    """The process every environment is forked from (one per `etl` process, started lazily)."""

    _lock = threading.Lock()
    _shared: _Zygote | None = None

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        sys_path = [os.path.abspath(entry) if entry else os.getcwd() for entry in sys.path]
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import json, sys; sys.path[:] = json.loads(sys.argv[2]); "
                "from etl_local.lambda_sandbox import zygote_main; "
                "zygote_main(int(sys.argv[1]), sys.path)",
                str(theirs.fileno()),
                json.dumps(sys_path),
            ],
            env=RUNTIME_ENVIRONMENT,
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            close_fds=True,
        )
        theirs.close()
        self._control = ours
        self._spawn_lock = threading.Lock()

    @classmethod
    def shared(cls) -> _Zygote:
        with cls._lock:
            if cls._shared is None or cls._shared._process.poll() is not None:
                cls._shared = cls()
                atexit.register(cls._shared.stop)
            return cls._shared

    def spawn(self, spec: Mapping[str, Any]) -> tuple[int, Connection]:
        """Fork an environment; returns its pid and the parent's end of its socket."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            with self._spawn_lock:
                socket.send_fds(self._control, [json.dumps(spec).encode()], [theirs.fileno()])
                answer = self._control.recv(64)
        finally:
            theirs.close()
        if not answer:
            ours.close()
            raise RuntimeError("the Lambda zygote process exited")
        return int(answer), Connection(ours.detach())

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._control.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout=5)
        if self._process.poll() is None:
            self._process.kill()


def prestart() -> None:
    """Start the zygote now (it imports for about a second), so the first cold start does not
    wait for it; idempotent."""
    _Zygote.shared()


class _Environment:
    """One execution environment: a worker process, busy with one invocation at a time."""

    def __init__(self, config: FunctionConfig, sys_path: list[str]) -> None:
        self.config = config
        log_stream = f"{datetime.datetime.now(datetime.UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        self.context = {
            "function_name": config.name,
            "function_version": "$LATEST",
            "invoked_function_arn": config.arn,
            "memory_limit_in_mb": config.memory_size,
            "log_group_name": f"/aws/lambda/{config.name}",
            "log_stream_name": log_stream,
        }
        self.pid, self._connection = _Zygote.shared().spawn(
            {
                "environment": {
                    **RUNTIME_ENVIRONMENT,
                    **config.environment,
                    "AWS_LAMBDA_LOG_GROUP_NAME": self.context["log_group_name"],
                    "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
                },
                "sys_path": sys_path,
                "handler": config.handler,
                "sql_root": config.sql_root,
                "context": self.context,
            }
        )
        self.alive = True
        self.initialised = False

    # -- the Init phase ----------------------------------------------------------------------
    def init(self, outcome: Outcome, request_id: str) -> bool:
        """Wait for the Init phase; False (and `outcome` failed) when it did not succeed."""
        bound = time.monotonic() + lambda_sandbox.INIT_LIMIT_SECONDS + self.config.timeout
        message = self._next_result(outcome, request_id, bound, ("ready", "init_error"))
        if message is None:
            return False
        if message["kind"] == "init_error":
            outcome.error = message["error"]
            self.kill()
            return False
        outcome.init_seconds = float(message["init_seconds"])
        # CloudWatch Logs shows the Init phase's lines before the invocation's START line.
        outcome.init_output, outcome.output = outcome.output, ""
        self.initialised = True
        return True

    # -- the Invoke phase --------------------------------------------------------------------
    def invoke(
        self, outcome: Outcome, request_id: str, event: bytes, crash_after: Iterable[str]
    ) -> None:
        deadline = time.monotonic() + self.config.timeout
        self._connection.send_bytes(
            json.dumps(
                {
                    "kind": "invoke",
                    "request_id": request_id,
                    "event": event.decode() or "{}",
                    "deadline": deadline,
                    "crash_after_calls": list(crash_after),
                }
            ).encode()
        )
        outcome.reached_handler = True
        started = time.monotonic()
        message = self._next_result(outcome, request_id, deadline, ("result",))
        if message is None:
            outcome.seconds = time.monotonic() - started
            return
        outcome.seconds = float(message["seconds"])
        outcome.max_memory_mb = int(message["max_rss_kb"]) // 1024
        if outcome.max_memory_mb > self.config.memory_size:
            # The peak passed the limit between two samples: Lambda would have killed it.
            self._out_of_memory(outcome, request_id)
            return
        if "error" in message:
            outcome.error = message["error"]
        else:
            outcome.payload = message["payload"]

    def _next_result(
        self, outcome: Outcome, request_id: str, deadline: float, kinds: tuple[str, ...]
    ) -> dict[str, Any] | None:
        """The next message of one of `kinds`, collecting output meanwhile; None (and
        `outcome.error` set, the environment gone) on a timeout, a kill or an exit."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._timed_out(outcome, request_id)
                return None
            try:
                ready = self._connection.poll(min(remaining, MEMORY_SAMPLE_SECONDS))
                message = json.loads(self._connection.recv_bytes()) if ready else None
            except (EOFError, OSError):
                self._exited(outcome, request_id, "")
                return None
            if message is None:
                if self._resident_mb() > self.config.memory_size:
                    self._out_of_memory(outcome, request_id)
                    return None
                continue
            if message["kind"] == "output":
                outcome.output += message["text"]
            elif message["kind"] == "exit":
                self._exited(outcome, request_id, message["status"])
                return None
            elif message["kind"] in kinds:
                return message

    def _resident_mb(self) -> int:
        try:
            with open(f"/proc/{self.pid}/statm", "rb") as statm:
                return int(statm.read().split()[1]) * _PAGE_SIZE // (1024 * 1024)
        except (OSError, IndexError, ValueError):
            return 0

    def _timed_out(self, outcome: Outcome, request_id: str) -> None:
        self.kill()
        message = f"Task timed out after {self.config.timeout:.2f} seconds"
        outcome.log_lines.append(f"{_timestamp()} {request_id} {message}")
        outcome.error = _runtime_error("Sandbox.Timedout", request_id, message)

    def _out_of_memory(self, outcome: Outcome, request_id: str) -> None:
        self.kill()
        outcome.max_memory_mb = max(outcome.max_memory_mb, self.config.memory_size)
        outcome.error = _runtime_error(
            "Runtime.OutOfMemory", request_id, "Runtime exited with error: signal: killed"
        )

    def _exited(self, outcome: Outcome, request_id: str, status: str) -> None:
        self.kill()
        reason = (
            f"Runtime exited with error: {status}"
            if status
            else "Runtime exited without providing a reason"
        )
        outcome.error = _runtime_error("Runtime.ExitError", request_id, reason)

    def kill(self) -> None:
        """End the environment at once (Lambda's reset after a failure, or shutdown)."""
        if not self.alive:
            return
        self.alive = False
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            self._connection.close()


def _runtime_error(error_type: str, request_id: str, reason: str) -> dict[str, Any]:
    return {"errorType": error_type, "errorMessage": f"RequestId: {request_id} Error: {reason}"}


def _timestamp() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


class FunctionEnvironments:
    """The environments of one function: a free one per invocation, a new one when all are
    busy (Lambda's scaling), reset after a failure of the environment itself."""

    def __init__(self, config: FunctionConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._idle: list[_Environment] = []
        self._all: weakref.WeakSet[_Environment] = weakref.WeakSet()
        self.cold_starts = 0

    def invoke(self, request_id: str, event: bytes, crash_after: Iterable[str] = ()) -> Outcome:
        outcome = Outcome()
        while True:
            environment = self._acquire()
            if environment is None:
                environment = self._start()
                if not environment.init(outcome, request_id):
                    return outcome
            try:
                environment.invoke(outcome, request_id, event, crash_after)
            except OSError:
                # A warm environment that ended while idle: Lambda picks another one.
                environment.kill()
                continue
            if environment.alive:
                with self._lock:
                    self._idle.append(environment)
            return outcome

    def _start(self) -> _Environment:
        sys_path = [os.path.abspath(entry) if entry else os.getcwd() for entry in sys.path]
        environment = _Environment(self.config, sys_path)
        with self._lock:
            self._all.add(environment)
            self.cold_starts += 1
        return environment

    def _acquire(self) -> _Environment | None:
        with self._lock:
            while self._idle:
                environment = self._idle.pop()
                if environment.alive:
                    return environment
        return None

    @property
    def environment_count(self) -> int:
        """Environments alive (warm or busy)."""
        with self._lock:
            return sum(1 for environment in self._all if environment.alive)

    def close(self) -> None:
        with self._lock:
            environments = list(self._all)
            self._idle.clear()
        for environment in environments:
            environment.kill()
