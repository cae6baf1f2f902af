"""The hook: every request that reaches the local endpoint is authorized before moto runs it.

A WSGI middleware around moto's application is the narrowest place that sees every request
exactly once and before any service code: moto authorizes (when it does) deep inside each
service (S3 alone calls its check from a dozen handlers), and the project replaces some
handlers (the local Athena). The middleware identifies the signer, routes the request to
its operation with moto's own router, asks the authorizer, and either answers the service's
own access-denied error or lets moto execute it, with the caller available to the
emulations through `current_principal()`.

While installed, moto's own bucket-policy check is superseded (see moto_bucket_policies).

S3 adds one rule after execution: a GET or HEAD of a missing key answers 404 only when the
caller has s3:ListBucket on the bucket, otherwise 403 AccessDenied (S3 API Reference,
GetObject and HeadObject, "Permissions").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from etl_local.iam import moto_bucket_policies
from etl_local.iam.authorizer import Authorizer
from etl_local.iam.errors import (
    ErrorResponse,
    access_denied_response,
    denial_message,
    no_rule_message,
    unknown_key_response,
)
from etl_local.iam.evaluation import Decision
from etl_local.iam.principals import Principal
from etl_local.iam.wire import UnroutableRequest, WireRequest, parse_request, read_signature

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# moto's own control plane (reset, config, state manager): not an AWS API.
_MOTO_PATHS = ("/moto-api", "/favicon.ico")
_MISSING_KEY_OPERATIONS = frozenset({"GetObject", "HeadObject"})

_current: ContextVar[tuple[Principal, WireRequest | None] | None] = ContextVar(
    "iam_request", default=None
)


def current_principal() -> Principal | None:
    """The principal whose request is being served in this thread (None outside one)."""
    serving = _current.get()
    return serving[0] if serving is not None else None


def current_request() -> WireRequest | None:
    """The API call being served in this thread (None outside one, or when unroutable)."""
    serving = _current.get()
    return serving[1] if serving is not None else None


def _serving() -> tuple[Principal, WireRequest] | None:
    serving = _current.get()
    if serving is None or serving[1] is None:
        return None
    return serving[0], serving[1]


def _respond(start_response: Callable[..., Any], error: ErrorResponse, method: str) -> list[bytes]:
    start_response(error.status_line, error.headers)
    return [] if method == "HEAD" else [error.body]


class IamMiddleware:
    def __init__(self, app: WsgiApp, authorizer: Authorizer) -> None:
        self.app = app
        self.authorizer = authorizer

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO") or "")
        if path.startswith(_MOTO_PATHS) or not self.authorizer.enabled:
            return self.app(environ, start_response)
        method = str(environ.get("REQUEST_METHOD", "GET"))
        signature = read_signature(environ)
        if signature.access_key_id is None:
            principal: Principal | None = Principal.anonymous()
        else:
            principal = self.authorizer.registry.principal_for(signature.access_key_id)
        if principal is None:
            return _respond(start_response, unknown_key_response(signature.service), method)
        try:
            request = parse_request(environ, signature, self.authorizer.region)
        except UnroutableRequest:
            if not principal.unrestricted:
                message = no_rule_message(principal.arn, signature.service, f"{method} {path}")
                return _respond(
                    start_response, access_denied_response(signature.service, message), method
                )
            return self._execute(environ, start_response, principal, None)
        denial = self.authorizer.authorize_wire(principal, request)
        if denial is not None:
            return _respond(
                start_response, access_denied_response(request.service, denial.message), method
            )
        return self._execute(environ, start_response, principal, request)

    def _execute(
        self,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        principal: Principal,
        request: WireRequest | None,
    ) -> Iterable[bytes]:
        token = _current.set((principal, request))
        try:
            if (
                request is not None
                and request.service == "s3"
                and request.operation in _MISSING_KEY_OPERATIONS
            ):
                return self._missing_key_rule(environ, start_response, principal, request)
            return self.app(environ, start_response)
        finally:
            _current.reset(token)

    def _missing_key_rule(
        self,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        principal: Principal,
        request: WireRequest,
    ) -> Iterable[bytes]:
        captured: list[tuple[Any, ...]] = []
        written: list[bytes] = []

        def capture(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            captured.append((status, headers, exc_info))
            return written.append

        result = self.app(environ, capture)
        status, headers, exc_info = captured[-1]
        bucket = str(request.params.get("Bucket"))
        if status.startswith("404") and not self.authorizer.may_list_bucket(
            principal, bucket, request.region
        ):
            if hasattr(result, "close"):
                result.close()
            resource = f"arn:{self.authorizer.partition}:s3:::{bucket}"
            message = denial_message(
                principal.arn, "s3:ListBucket", resource, Decision(allowed=False), quote=True
            )
            method = str(environ.get("REQUEST_METHOD", "GET"))
            return _respond(start_response, access_denied_response("s3", message), method)
        start_response(status, headers, exc_info)
        return _chain(written, result)


def _chain(first: list[bytes], rest: Iterable[bytes]) -> Iterator[bytes]:
    yield from first
    try:
        yield from rest
    finally:
        if hasattr(rest, "close"):
            rest.close()


@dataclass
class InstalledHook:
    """Undo handle of `install`; also a context manager."""

    server: Any
    original_app: WsgiApp
    restore_bucket_policies: Callable[[], None]

    def uninstall(self) -> None:
        self.server.app = self.original_app
        self.restore_bucket_policies()

    def __enter__(self) -> InstalledHook:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.uninstall()


def install(server: ThreadedMotoServer, authorizer: Authorizer) -> InstalledHook:
    """Put the hook in front of a started ThreadedMotoServer's application.

    ThreadedMotoServer builds its WSGI server and application in `start()` and exposes no
    handle on them but `_server`; the werkzeug server reads `.app` for each request, so
    replacing it takes effect at once and `uninstall()` restores it."""
    wsgi_server = getattr(server, "_server", None)
    if wsgi_server is None:
        raise RuntimeError("start the ThreadedMotoServer before installing the IAM hook")
    if isinstance(wsgi_server.app, IamMiddleware):
        raise RuntimeError("the IAM hook is already installed on this server")
    original: WsgiApp = wsgi_server.app
    wsgi_server.app = IamMiddleware(original, authorizer)
    return InstalledHook(
        wsgi_server, original, moto_bucket_policies.supersede(authorizer, _serving)
    )
