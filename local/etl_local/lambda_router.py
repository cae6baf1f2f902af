"""Lambda Invoke, routed in-process to the project's handlers (moto would need Docker).

A `before-call.lambda.Invoke` handler, registered for every botocore session, answers
Invoke for the pipeline's functions as the Lambda service does: StatusCode 200 and the
handler's JSON result; on an exception, FunctionError "Unhandled" and the Python
runtime's error payload `{"errorType": <class name>, "errorMessage": ..., "stackTrace"}`,
so the ASL's Retry/Catch match the same error names as on AWS (moto's executor takes
`errorType` as the error name, as Step Functions does). Calls for other functions fall
through to moto untouched.

Each function runs with exactly its Terraform environment: the step's module is
imported (cold start) and called with os.environ showing that environment plus what the
Lambda runtime itself provides, to the invoking thread only (thread_environ), and with a
boto3 default session of its own, so its clients sign with its role's credentials. So
invocations run side by side, as on AWS, where a Map state's iterations invoke functions
concurrently; only a step's first import (its cold start) is serialized.

What a function prints (stdout, stderr, Powertools' log lines) is its CloudWatch log on
AWS; here it is captured per invocation, on the invoking thread only (thread_output), and
appended to the router's log file as one block framed by Lambda's START / END / REPORT
lines, so concurrent invocations and the CLI's console never write into each other.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import logging
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.handlers
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.response import StreamingBody

from etl_lambdas import catalog
from etl_lambdas.steps import STEPS, StepSpec
from etl_local import thread_environ, thread_output
from etl_local.plan import PlannedFunction
from etl_local.settings import LocalSettings

logger = logging.getLogger(__name__)

_INVOKE_EVENT = "before-call.lambda.Invoke"
_INVOCATIONS_PATH = "/2015-03-31/functions/"


class InjectedServiceError(Exception):
    """Raised by a fault hook: the Lambda service itself fails the Invoke (HTTP 500)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# Called before a step's handler with the step name; may raise InjectedServiceError.
BeforeInvokeHook = Callable[[str], None]
# (step) -> the AWS_* credential variables of the function's execution role session.
FunctionCredentials = Callable[[str], Mapping[str, str]]
# (signer's access key id, function name) -> None if allowed, else AWS's denial message.
AuthorizeInvoke = Callable[[str | None, str], str | None]
# Without IAM: any key, as moto accepts any.
_ANY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


@dataclass
class _LambdaContext:
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
    # Python function information", AWS Lambda Developer Guide).
    deadline: float

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


class LambdaRouter:
    """Runs the pipeline's Lambda functions in this process."""

    def __init__(
        self,
        settings: LocalSettings,
        endpoint_url: str,
        sql_root: Path | None = None,
        steps: Mapping[str, StepSpec] = STEPS,
        log_path: Path | None = None,
        *,
        credentials: FunctionCredentials | None = None,
        authorize_invoke: AuthorizeInvoke | None = None,
    ) -> None:
        self._settings = settings
        self._credentials = credentials
        self.authorize_invoke = authorize_invoke
        self._endpoint_url = endpoint_url
        self._sql_root = sql_root
        self._steps = steps
        self._log_path = log_path
        self._steps_by_function = {settings.function_name(step): step for step in steps}
        self._lock = threading.RLock()
        self._imported: dict[str, Callable[..., Any]] = {}
        self.before_invoke: list[BeforeInvokeHook] = []
        # Every invocation's step, and each successful one's (step, result): the runtime
        # summarises a run from what write, audit and publish returned.
        self.invocations: list[str] = []
        self.results: list[tuple[str, Any]] = []
        # (step, seconds) of every invocation that reached its handler: Lambda bills duration.
        self.durations: list[tuple[str, float]] = []

    # -- registration ---------------------------------------------------------------------
    def install(self) -> None:
        """Route Invoke for the pipeline's functions to this router, in every session."""
        register_builtin_handler()
        _ACTIVE_ROUTERS.append(self)
        thread_output.install()
        thread_environ.install()
        _install_thread_sessions()

    def uninstall(self) -> None:
        if self in _ACTIVE_ROUTERS:
            _ACTIVE_ROUTERS.remove(self)
            thread_output.uninstall()
            thread_environ.uninstall()
            _uninstall_thread_sessions()

    def handles(self, function_name: str) -> bool:
        return _function_name(function_name) in self._steps_by_function

    # -- invocation -----------------------------------------------------------------------
    def invoke(self, function_name: str, payload: bytes) -> tuple[int, dict[str, Any]]:
        """Invoke one function; returns (HTTP status, parsed Invoke response)."""
        name = _function_name(function_name)
        step = self._steps_by_function[name]
        event = json.loads(payload or b"{}")
        request_id = str(uuid.uuid4())
        self.invocations.append(step)
        try:
            with self._lock:
                for hook in self.before_invoke:
                    hook(step)
        except InjectedServiceError as error:
            return 500, {
                "Error": {"Code": error.code, "Message": str(error)},
                "ResponseMetadata": {"HTTPStatusCode": 500, "RequestId": request_id},
            }
        function = self._settings.function(step)
        started = time.perf_counter()
        context = _LambdaContext(
            function_name=name,
            function_version="$LATEST",
            invoked_function_arn=function.arn,
            memory_limit_in_mb=function.memory_size,
            aws_request_id=request_id,
            log_group_name=f"/aws/lambda/{name}",
            log_stream_name=f"local/{request_id}",
            deadline=time.monotonic() + function.timeout,
        )
        with (
            self._function_environment(step, function),
            self._invocation_log(name, request_id, started),
        ):
            try:
                handler = self._handler(step)
                result = handler(event, context)
            except Exception as error:  # the Lambda runtime reports any exception
                self.durations.append((step, time.perf_counter() - started))
                logger.info(
                    "lambda function raised",
                    extra={"function": name, "error_type": type(error).__name__},
                )
                body = {
                    "errorType": type(error).__name__,
                    "errorMessage": str(error),
                    "requestId": request_id,
                    "stackTrace": traceback.format_exception(error),
                }
                return 200, _invoke_response(body, function_error="Unhandled")
        self.durations.append((step, time.perf_counter() - started))
        self.results.append((step, result))
        return 200, _invoke_response(result, function_error=None)

    def _handler(self, step: str) -> Callable[..., Any]:
        with self._lock:
            return self._imported.get(step) or self._cold_start(step)

    def _cold_start(self, step: str) -> Callable[..., Any]:
        module_name, _, attribute = self._steps[step].handler.rpartition(".")
        # A cold start per router: the module reads its environment (and builds its
        # clients for this server's endpoint) at import.
        if module_name in sys.modules:
            module = importlib.reload(sys.modules[module_name])
        else:
            module = importlib.import_module(module_name)
        handler: Callable[..., Any] = getattr(module, attribute)
        self._imported[step] = handler
        # A logger its import configured may hold the real stdout (see thread_output).
        thread_output.adopt_handlers()
        return handler

    @contextlib.contextmanager
    def _function_environment(self, step: str, function: PlannedFunction) -> Iterator[None]:
        variables: dict[str, str] = {
            # What the Lambda runtime sets for every function.
            "AWS_REGION": self._settings.region,
            "AWS_DEFAULT_REGION": self._settings.region,
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
            # Lambda passes the execution role's session credentials this way.
            **(self._credentials(step) if self._credentials else _ANY_CREDENTIALS),
            # Local only: the handlers' boto3 clients reach the local server.
            "AWS_ENDPOINT_URL": self._endpoint_url,
            **self._settings.function_environment(step),
        }
        # Another function's variables, or a developer's profile, must not leak in.
        removed = {"AWS_PROFILE"} | (
            set().union(*(spec.environment for spec in STEPS.values())) - set(variables)
        )
        thread_environ.install()  # a router used without install() (tests) too
        try:
            with (
                thread_environ.overlaid(variables, removed),
                _default_session_of_its_own(),
                self._sql_root_override(),
            ):
                yield
        finally:
            thread_environ.uninstall()

    @contextlib.contextmanager
    def _invocation_log(
        self, function_name: str, request_id: str, started: float
    ) -> Iterator[None]:
        """Lambda's stdout is CloudWatch Logs; locally, one block per invocation appended to
        the router's log file once the invocation ends (without a file: the console)."""
        if self._log_path is None:
            yield
            return
        output = io.StringIO()
        thread_output.install()  # a router used without install() (tests) captures too
        try:
            with thread_output.captured(output):
                yield
        finally:
            thread_output.uninstall()
            _append_invocation_log(
                self._log_path,
                function_name,
                request_id,
                output.getvalue(),
                time.perf_counter() - started,
            )

    @contextlib.contextmanager
    def _sql_root_override(self) -> Iterator[None]:
        """Point the model catalog at another sql/ (tests of broken models). The catalog is
        the process's: such invocations run one at a time."""
        if self._sql_root is None:
            yield
            return
        sql_root = self._sql_root
        with self._lock:
            original = catalog.default_sql_root
            catalog.default_sql_root = lambda: sql_root
            catalog.load_catalog.cache_clear()
            try:
                yield
            finally:
                catalog.default_sql_root = original
                catalog.load_catalog.cache_clear()


# boto3.client() uses the module's default session, which resolves credentials once and
# keeps them: functions sharing it would sign with whichever role resolved first. Each
# function is a process of its own on Lambda; here each invocation's thread gets a default
# session of its own (credentials read from its environment), sharing the service models
# the process's default session has loaded.
_THREAD_SESSIONS = threading.local()
_process_default_session = boto3._get_default_session


def _thread_default_session() -> boto3.Session:
    session: boto3.Session | None = getattr(_THREAD_SESSIONS, "session", None)
    return session if session is not None else _process_default_session()


_SESSIONS_LOCK = threading.Lock()
_sessions_installed = 0


def _install_thread_sessions() -> None:
    """Counted: each install wants one uninstall."""
    global _sessions_installed
    with _SESSIONS_LOCK:
        _sessions_installed += 1
        boto3._get_default_session = _thread_default_session


def _uninstall_thread_sessions() -> None:
    global _sessions_installed
    with _SESSIONS_LOCK:
        _sessions_installed = max(0, _sessions_installed - 1)
        if not _sessions_installed:
            boto3._get_default_session = _process_default_session


@contextlib.contextmanager
def _default_session_of_its_own() -> Iterator[None]:
    loader = _process_default_session()._session.get_component("data_loader")
    session = boto3.Session()
    session._session.register_component("data_loader", loader)
    outer = getattr(_THREAD_SESSIONS, "session", None)
    _THREAD_SESSIONS.session = session
    _install_thread_sessions()  # a router used without install() (tests) too
    try:
        yield
    finally:
        _uninstall_thread_sessions()
        _THREAD_SESSIONS.session = outer


_LOG_FILE_LOCK = threading.Lock()


def _append_invocation_log(
    log_path: Path, function_name: str, request_id: str, output: str, seconds: float
) -> None:
    # The frame lines are those the Lambda runtime writes around each invocation's output.
    if output and not output.endswith("\n"):
        output += "\n"
    block = (
        f"START RequestId: {request_id} Version: $LATEST Function: {function_name}\n"
        f"{output}"
        f"END RequestId: {request_id}\n"
        f"REPORT RequestId: {request_id}\tDuration: {seconds * 1000:.2f} ms\n"
    )
    with _LOG_FILE_LOCK:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("a", encoding="utf-8") as log:
            log.write(block)


def _invoke_response(result: Any, function_error: str | None) -> dict[str, Any]:
    body = json.dumps(result).encode()
    response: dict[str, Any] = {
        "StatusCode": 200,
        "ExecutedVersion": "$LATEST",
        "Payload": StreamingBody(io.BytesIO(body), len(body)),
        "ResponseMetadata": {"HTTPStatusCode": 200, "RequestId": str(uuid.uuid4())},
    }
    if function_error:
        response["FunctionError"] = function_error
    return response


def _function_name(name_or_arn: str) -> str:
    # FunctionName may be a name, a partial or full ARN, optionally with a qualifier.
    name = urllib.parse.unquote(name_or_arn)
    if name.startswith("arn:"):
        parts = name.split(":")
        return parts[6]
    return name.split(":")[-1] if name.count(":") == 2 else name.split(":")[0]


_ACTIVE_ROUTERS: list[LambdaRouter] = []


def _route_invoke(
    params: dict[str, Any], request_signer: Any = None, **_: Any
) -> tuple[AWSResponse, dict[str, Any]] | None:
    url_path: str = params.get("url_path", "")
    if not _ACTIVE_ROUTERS or not url_path.startswith(_INVOCATIONS_PATH):
        return None
    function_name = url_path[len(_INVOCATIONS_PATH) :].split("/", 1)[0]
    for router in reversed(_ACTIVE_ROUTERS):
        if router.handles(function_name):
            if router.authorize_invoke is not None:
                credentials = getattr(request_signer, "_credentials", None)
                access_key = getattr(credentials, "access_key", None)
                denial = router.authorize_invoke(access_key, urllib.parse.unquote(function_name))
                if denial is not None:
                    return _access_denied(url_path, denial)
            body = params.get("body") or b"{}"
            status, parsed = router.invoke(
                function_name, body if isinstance(body, bytes) else body.encode()
            )
            http = AWSResponse(url=url_path, status_code=status, headers=HTTPHeaders(), raw=None)
            return http, parsed
    return None


def _access_denied(url_path: str, message: str) -> tuple[AWSResponse, dict[str, Any]]:
    # Lambda's answer to an Invoke its caller may not make: 403 AccessDeniedException
    # (Lambda API Reference, Invoke, "Errors"; the IAM hook answers the same on the wire).
    http = AWSResponse(url=url_path, status_code=403, headers=HTTPHeaders(), raw=None)
    parsed = {
        "Error": {"Code": "AccessDeniedException", "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": 403, "RequestId": str(uuid.uuid4())},
    }
    return http, parsed


def register_builtin_handler() -> None:
    """Add the routing handler to every botocore session created from now on, and to boto3's
    default session if it exists (other sessions that already exist do not get it).

    Called by `LambdaRouter.install` (the runtime's start), not on import: importing this
    module changes nothing in botocore. Idempotent; without an installed router the handler
    lets every call through.
    """
    entry = (_INVOKE_EVENT, _route_invoke)
    if entry not in botocore.handlers.BUILTIN_HANDLERS:
        botocore.handlers.BUILTIN_HANDLERS.append(entry)
        import boto3

        if boto3.DEFAULT_SESSION is not None:
            boto3.DEFAULT_SESSION._session.register(_INVOKE_EVENT, _route_invoke)  # type: ignore[arg-type]
