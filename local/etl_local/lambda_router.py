"""Lambda Invoke, routed to the project's handlers in local worker processes (moto would need
Docker).

A `before-call.lambda.Invoke` handler, registered for every botocore session, answers
Invoke for the pipeline's functions as the Lambda service does: StatusCode 200 and the
handler's JSON result; when the function fails, FunctionError "Unhandled" and the error
payload `{"errorType": ..., "errorMessage": ...}` (the Python runtime's, or Lambda's own for
a timeout, an out-of-memory kill or a runtime exit), so the ASL's Retry/Catch match the same
error names as on AWS (moto's executor takes `errorType` as the error name, as Step Functions
does). Calls for other functions fall through to moto untouched.

Each function runs in execution environments of its own (etl_local.lambda_workers): worker
processes with exactly the function's Terraform environment, its role's credentials, its
memory size and timeout, warm between invocations, as many as run at once. So invocations
run side by side, as on AWS, where a Map state's iterations invoke functions concurrently.

What a function prints (stdout, stderr, Powertools' log lines) is its CloudWatch log on
AWS; here its environment sends it back line by line, and each invocation's lines are
appended to the router's log file as one block framed by Lambda's START / END / REPORT
lines, so concurrent invocations and the CLI's console never write into each other.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
import urllib.parse
import uuid
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import botocore.handlers
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.response import StreamingBody

from etl_lambdas.steps import STEPS, StepSpec
from etl_local.lambda_workers import FunctionConfig, FunctionEnvironments, Outcome
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


class LambdaRouter:
    """Runs the pipeline's Lambda functions in local execution environments."""

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
        self._lock = threading.Lock()
        self._environments: dict[str, FunctionEnvironments] = {}
        # Environments end with the router (or with the process, whichever comes first).
        self._finalizer = weakref.finalize(self, _close_all, self._environments)
        self.before_invoke: list[BeforeInvokeHook] = []
        # step -> AWS calls after which the step's next invocation's environment dies
        # (etl_local.lambda_sandbox, crash points), consumed by that invocation.
        self._crash_after: dict[str, list[str]] = {}
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

    def uninstall(self) -> None:
        """Stop routing to this router and end its functions' environments."""
        if self in _ACTIVE_ROUTERS:
            _ACTIVE_ROUTERS.remove(self)
        self.close()

    def close(self) -> None:
        """End every execution environment (the next invocation starts cold)."""
        _close_all(self._environments)

    def handles(self, function_name: str) -> bool:
        return _function_name(function_name) in self._steps_by_function

    def crash_after(self, step: str, call: str) -> None:
        """Make the step's next invocation die right after the named AWS call succeeded:
        `<service>.<Operation>` (botocore's names, e.g. `glue.BatchCreatePartition`),
        optionally `#<n>` for the n-th such call. The invocation fails as a runtime that
        exited does (Runtime.ExitError) and its environment is gone."""
        with self._lock:
            self._crash_after.setdefault(step, []).append(call)

    def environments(self, step: str) -> FunctionEnvironments:
        """The step's execution environments (created with the first invocation)."""
        with self._lock:
            existing = self._environments.get(step)
            if existing is None:
                existing = self._environments[step] = FunctionEnvironments(self._config(step))
            return existing

    def _config(self, step: str) -> FunctionConfig:
        function = self._settings.function(step)
        environment: dict[str, str] = {
            # What the Lambda runtime sets per function ("Defined runtime environment
            # variables", AWS Lambda Developer Guide).
            "AWS_REGION": self._settings.region,
            "AWS_DEFAULT_REGION": self._settings.region,
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
            "_HANDLER": self._steps[step].handler,
            # Lambda passes the execution role's session credentials this way.
            **(self._credentials(step) if self._credentials else _ANY_CREDENTIALS),
            # Local only: the handlers' boto3 clients reach the local server.
            "AWS_ENDPOINT_URL": self._endpoint_url,
            **self._settings.function_environment(step),
        }
        return FunctionConfig(
            step=step,
            name=function.name,
            arn=function.arn,
            handler=self._steps[step].handler,
            memory_size=function.memory_size,
            timeout=float(function.timeout),
            environment=environment,
            sql_root=str(self._sql_root) if self._sql_root else None,
        )

    # -- invocation -----------------------------------------------------------------------
    def invoke(self, function_name: str, payload: bytes) -> tuple[int, dict[str, Any]]:
        """Invoke one function; returns (HTTP status, parsed Invoke response)."""
        name = _function_name(function_name)
        step = self._steps_by_function[name]
        request_id = str(uuid.uuid4())
        self.invocations.append(step)
        try:
            with self._lock:
                for hook in self.before_invoke:
                    hook(step)
                crash_after = self._crash_after.pop(step, [])
        except InjectedServiceError as error:
            return 500, {
                "Error": {"Code": error.code, "Message": str(error)},
                "ResponseMetadata": {"HTTPStatusCode": 500, "RequestId": request_id},
            }
        environments = self.environments(step)
        outcome = environments.invoke(request_id, payload or b"{}", crash_after)
        if outcome.reached_handler:
            self.durations.append((step, outcome.seconds))
        self._log(environments, request_id, outcome)
        if outcome.error is not None:
            logger.info(
                "lambda function failed",
                extra={"function": name, "error_type": outcome.error.get("errorType")},
            )
            return 200, _invoke_response(outcome.error, function_error="Unhandled")
        result = json.loads(outcome.payload or "null")
        self.results.append((step, result))
        return 200, _invoke_response(result, function_error=None)

    def _log(self, environments: FunctionEnvironments, request_id: str, outcome: Outcome) -> None:
        """Lambda's stdout is CloudWatch Logs; locally, one block per invocation appended to
        the router's log file once the invocation ends (without a file: stderr)."""
        config = environments.config
        output = outcome.output
        if output and not output.endswith("\n"):
            output += "\n"
        output += "".join(f"{line}\n" for line in outcome.log_lines)
        # The frame lines are those the Lambda runtime writes around each invocation's output.
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {outcome.seconds * 1000:.2f} ms"
            f"\tMemory Size: {config.memory_size} MB"
            f"\tMax Memory Used: {outcome.max_memory_mb} MB"
        )
        if outcome.init_seconds is not None:
            report += f"\tInit Duration: {outcome.init_seconds * 1000:.2f} ms"
        init = outcome.init_output
        if init and not init.endswith("\n"):
            init += "\n"
        block = (
            f"{init}START RequestId: {request_id} Version: $LATEST Function: {config.name}\n"
            f"{output}"
            f"END RequestId: {request_id}\n"
            f"{report}\n"
        )
        if self._log_path is None:
            sys.stderr.write(block)
            return
        with _LOG_FILE_LOCK:
            self._log_path.parent.mkdir(parents=True, exist_ok=True)
            with self._log_path.open("a", encoding="utf-8") as log:
                log.write(block)


def _close_all(environments: dict[str, FunctionEnvironments]) -> None:
    for function in list(environments.values()):
        function.close()


_LOG_FILE_LOCK = threading.Lock()


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
