"""The inside of a local Lambda execution environment: one process per environment.

On AWS each execution environment of a function is a sandbox of its own: one runtime process
that imports the handler's module once (the Init phase, a cold start) and then answers
invocations one at a time, warm, until Lambda shuts it down ("Understand the Lambda execution
environment lifecycle", AWS Lambda Developer Guide). Here each environment is a process forked
from a zygote: a Python process started once per `etl` process, with the modules every function
imports (boto3, botocore, Powertools, the etl_lambdas package but not the step modules, which
read their function's variables at import) already imported and the service models the steps
call already parsed. A fork of it is an environment whose Init phase then imports only the step's
module, as a SnapStart snapshot would, instead of paying Python's and boto3's start-up each time.

The zygote's environment holds only what every function's environment holds (the runtime's
constant variables: TZ, LANG, AWS_EXECUTION_ENV...): what a preloaded module reads at import is
then what it would read in any function's sandbox. A forked environment replaces it with its
function's full environment before anything of the function runs.

This module imports only the standard library at the top: the zygote imports the rest itself,
and the parent side (etl_local.lambda_workers) imports this module for its protocol constants
without loading boto3 again. Messages are JSON over a Unix socket (multiprocessing's
length-prefixed Connection), one request at a time per environment:

    parent -> environment: {"kind": "invoke", "request_id", "event" (JSON text), "deadline",
                            "crash_after_calls": [...]}
    environment -> parent: {"kind": "ready", "init_seconds"} once after Init, or
                           {"kind": "init_error", "error": {...}};
                           {"kind": "output", "text"} any number of times (its stdout/stderr,
                           line by line, as CloudWatch Logs receives it);
                           {"kind": "result", "payload" (JSON text) | "error": {...},
                            "seconds", "max_rss_kb"} once per invocation, or
                           {"kind": "exit", "status"} when the runtime process ends instead
                           (the function called sys.exit, or a crash point killed it).
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import pkgutil
import resource
import signal
import socket
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

# What every environment imports: loaded once in the zygote (a cache; anything else imports
# on first use in the environment, as on Lambda).
PRELOADED_MODULES = (
    "boto3",
    "botocore.client",
    "botocore.parsers",
    "botocore.serialize",
    "botocore.regions",
    "botocore.httpsession",
    "botocore.exceptions",
    "yaml",
    "zoneinfo",
    "aws_lambda_powertools",
    "aws_lambda_powertools.logging",
    "aws_lambda_powertools.utilities.typing",
    "etl_lambdas.steps",
)


def _package_modules(package: str) -> list[str]:
    """The package's own modules (not its steps' handlers): every step imports some of them."""
    spec = importlib.util.find_spec(package)
    locations = spec.submodule_search_locations if spec is not None else None
    return [f"{package}.{m.name}" for m in pkgutil.iter_modules(locations or [])]


# Service models parsed once in the zygote (a cache: any other service loads on first use).
PRELOADED_SERVICES = ("athena", "dynamodb", "glue", "s3", "sns", "stepfunctions")

# Lambda's Init phase is limited to 10 seconds; past that, Lambda retries it within the first
# invocation, with the function's timeout ("Understand the Lambda execution environment
# lifecycle", Init phase).
INIT_LIMIT_SECONDS = 10.0


@dataclass
class LambdaContext:
    """The parts of the Lambda context object handlers (and Powertools) read."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    # time.monotonic() when the function's timeout ends the invocation: Lambda's context
    # counts down from the configured timeout ("Using the Lambda context object to retrieve
    # Python function information", AWS Lambda Developer Guide). CLOCK_MONOTONIC is the
    # machine's, so the parent's deadline holds here as it is.
    deadline: float

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


class _Channel:
    """The environment's end of its socket; what the function prints goes through it too."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        data = json.dumps(message).encode()
        with self._lock:
            self._connection.send_bytes(data)

    def receive(self) -> dict[str, Any] | None:
        try:
            message: dict[str, Any] = json.loads(self._connection.recv_bytes())
        except (EOFError, OSError):
            return None  # the runtime is gone: so is this environment
        return message


class _LogStream(io.TextIOBase):
    """sys.stdout and sys.stderr of an environment: each complete line goes to the parent as
    it is written (CloudWatch Logs receives a function's lines as they come, so a function
    that times out or is killed still leaves what it printed)."""

    def __init__(self, channel: _Channel) -> None:
        self._channel = channel
        self._pending = ""

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending:
            complete, _, self._pending = self._pending.rpartition("\n")
            self._channel.send({"kind": "output", "text": complete + "\n"})
        return len(text)

    def flush(self) -> None:
        if self._pending:
            text, self._pending = self._pending, ""
            self._channel.send({"kind": "output", "text": text})


# -- the zygote --------------------------------------------------------------------------------


def _preload() -> Any:
    for name in (*PRELOADED_MODULES, *_package_modules("etl_lambdas")):
        importlib.import_module(name)
    import botocore.loaders

    loader = botocore.loaders.create_loader()
    loader.load_data("endpoints")
    loader.load_data("partitions")
    for service in PRELOADED_SERVICES:
        for kind in ("service-2", "endpoint-rule-set-1"):
            loader.load_service_model(service, kind)
    return loader


def zygote_main(control_fd: int, sys_path: list[str]) -> None:
    """Fork an environment for each request on the control socket, until it closes.

    A request is a JSON spec with one file descriptor (the environment's end of its socket);
    the answer is the child's pid.
    """
    sys.path[:] = sys_path
    loader = _preload()
    control = socket.socket(fileno=control_fd)
    # Reaped here (not ignored) so that their CPU time is accounted to this process, and
    # through it to the `etl` process that waits for it.
    signal.signal(signal.SIGCHLD, lambda *_: _reap())
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(control, 1 << 20, 1)
        except OSError:
            data = b""
        if not data:
            # The runtime closed its end (or exited): its environments have been told to end.
            _reap(patience=0.5)
            return
        spec = json.loads(data)
        pid = os.fork()
        if pid == 0:
            control.close()
            code = 1
            try:
                _environment_main(spec, fds[0], loader)
                code = 0
            finally:
                os._exit(code)
        for fd in fds:
            os.close(fd)
        control.sendall(str(pid).encode())


def _reap(patience: float = 0.0) -> None:
    """Collect ended environments; with patience, wait that long for the rest to end."""
    deadline = time.monotonic() + patience
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return  # none left
        if pid == 0:
            if time.monotonic() >= deadline:
                return
            time.sleep(0.01)


# -- one execution environment -------------------------------------------------------------------


def _environment_main(spec: dict[str, Any], fd: int, loader: Any) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    channel = _Channel(Connection(fd))
    # Exactly the function's environment (the C environment too: os.environ writes through).
    os.environ.clear()
    os.environ.update(spec["environment"])
    sys.path[:] = spec["sys_path"]
    importlib.invalidate_caches()
    stream = _LogStream(channel)
    sys.stdout = sys.stderr = stream
    import boto3

    # The default session every `boto3.client()` of the function uses, with the zygote's
    # parsed service models; credentials and region are read from this environment.
    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION._session.register_component("data_loader", loader)
    crash_points = _CrashPoints(boto3.DEFAULT_SESSION._session, channel)
    started = time.monotonic()
    try:
        if spec.get("sql_root"):
            _use_sql_root(spec["sql_root"])
        handler = _load_handler(spec["handler"])
    except BaseException as error:  # Init failed: this environment answers nothing
        stream.flush()
        channel.send({"kind": "init_error", "error": _init_error(spec["handler"], error)})
        return
    stream.flush()
    channel.send({"kind": "ready", "init_seconds": time.monotonic() - started})
    while (request := channel.receive()) is not None:
        crash_points.arm(request.get("crash_after_calls") or ())
        try:
            outcome = _invoke(handler, spec["context"], request)
        except SystemExit as exit_:
            # The function ended the runtime's process (sys.exit): Lambda reports that the
            # runtime exited, with its status, and starts a new environment next time.
            stream.flush()
            code = exit_.code if isinstance(exit_.code, int) else 1
            channel.send({"kind": "exit", "status": f"exit status {code}"})
            os._exit(code)
        stream.flush()
        channel.send(outcome)


def _use_sql_root(sql_root: str) -> None:
    """Point the model catalog at another sql/ (tests of broken models)."""
    from pathlib import Path

    from etl_lambdas import catalog

    root = Path(sql_root)
    catalog.default_sql_root = lambda: root
    catalog.load_catalog.cache_clear()


def _load_handler(handler: str) -> Any:
    module_name, _, attribute = handler.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise _RuntimeFault(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}"
        ) from error
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise _RuntimeFault(
            "Runtime.HandlerNotFound", f"Handler '{attribute}' missing on module '{module_name}'"
        ) from None


class _RuntimeFault(Exception):
    """An error the Python runtime reports under its own type (awslambdaric's FaultException)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def _init_error(handler: str, error: BaseException) -> dict[str, Any]:
    # The Python runtime reports an import failure as Runtime.ImportModuleError, a missing
    # handler as Runtime.HandlerNotFound, anything else raised at import by its class.
    error_type = getattr(error, "error_type", None) or type(error).__name__
    return {"errorType": error_type, "errorMessage": str(error), "stackTrace": _stack_trace(error)}


def _stack_trace(error: BaseException) -> list[str]:
    # The runtime's own faults carry no trace of the runtime's code.
    return [] if isinstance(error, _RuntimeFault) else traceback.format_exception(error)


def _invoke(handler: Any, context: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    lambda_context = LambdaContext(
        **context,
        aws_request_id=request["request_id"],
        deadline=request["deadline"],
    )
    started = time.monotonic()
    try:
        result = handler(json.loads(request["event"]), lambda_context)
        # The runtime serialises the result: what JSON cannot hold fails the invocation.
        try:
            payload = json.dumps(result)
        except (TypeError, ValueError) as error:
            raise _RuntimeFault(
                "Runtime.MarshalError", f"Unable to marshal response: {error}"
            ) from error
    except Exception as error:  # the Lambda runtime reports any exception
        return {
            "kind": "result",
            "error": {
                "errorType": getattr(error, "error_type", None) or type(error).__name__,
                "errorMessage": str(error),
                "requestId": request["request_id"],
                "stackTrace": _stack_trace(error),
            },
            "seconds": time.monotonic() - started,
            "max_rss_kb": _max_rss_kb(),
        }
    return {
        "kind": "result",
        "payload": payload,
        "seconds": time.monotonic() - started,
        "max_rss_kb": _max_rss_kb(),
    }


def _max_rss_kb() -> int:
    # Linux reports ru_maxrss in KiB: the environment's peak, as Lambda's "Max Memory Used".
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


class _CrashPoints:
    """Named points at which an invocation's environment dies, as a crash there would end it:
    right after an AWS call of the function succeeded (its side effect done), before anything
    else of the invocation runs. A point is `<service>.<Operation>` (botocore's names, e.g.
    `glue.BatchCreatePartition`), optionally `#<n>` for the n-th such call of the invocation."""

    def __init__(self, session: Any, channel: _Channel) -> None:
        self._channel = channel
        self._armed: dict[str, int] = {}
        self._seen: dict[str, int] = {}
        session.register("after-call", self._after_call)

    def arm(self, points: Any) -> None:
        self._seen = {}
        self._armed = {}
        for point in points:
            name, _, occurrence = str(point).partition("#")
            self._armed[name] = int(occurrence or 1)

    def _after_call(self, http_response: Any, parsed: Any, model: Any, **_: Any) -> None:
        if not self._armed or not 200 <= getattr(http_response, "status_code", 0) < 300:
            return
        name = f"{model.service_model.service_name}.{model.name}"
        self._seen[name] = self._seen.get(name, 0) + 1
        if self._armed.get(name) == self._seen[name]:
            sys.stdout.flush()
            self._channel.send({"kind": "exit", "status": "signal: killed", "point": name})
            os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    zygote_main(int(sys.argv[1]), json.loads(sys.argv[2]))
