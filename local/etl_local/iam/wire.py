"""A request as it reaches the local endpoint: who signed it, and which API call it is.

The signer is the access key id in the SigV4 credential scope, from the `Authorization`
header (`AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request, ...`) or
a presigned URL (`X-Amz-Credential`), or SigV2's `AWS <key>:<signature>` /
`AWSAccessKeyId` (S3 presigned URLs); an unsigned request is anonymous ("Authenticating
Requests (AWS Signature Version 4)", S3 API Reference).

The operation and its parameters come from moto's own router and protocol parsers (the
botocore service models), so they are exactly what moto is about to execute. The body is
read only when the parameters live there (every non-S3 protocol, S3 DeleteObjects), and is
put back for moto to read again.
"""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from botocore.exceptions import DataNotFoundError, UnknownServiceError
from moto.core.parse import PROTOCOL_PARSERS
from moto.core.request import Request, determine_request_protocol
from moto.core.routing import get_service_router
from moto.core.utils import get_service_model
from werkzeug.exceptions import NotFound
from werkzeug.wsgi import get_input_stream

# SigV4 signing name -> botocore service name, where they differ.
SIGNING_NAMES = {"states": "stepfunctions", "monitoring": "cloudwatch", "email": "ses"}
_SIGV4 = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
_SIGV2 = re.compile(r"^AWS ([^:\s]+):")


class UnroutableRequest(ValueError):
    """The request names no operation of its service."""


@dataclass(frozen=True)
class Signature:
    access_key_id: str | None  # None: an unsigned (anonymous) request
    service: str  # botocore service name
    region: str | None
    # S3's s3:authType and s3:signatureversion condition keys.
    auth_type: str | None
    version: str | None


@dataclass(frozen=True)
class WireRequest:
    signature: Signature
    service: str
    operation: str
    params: Mapping[str, Any]
    region: str
    source_ip: str


def read_signature(environ: Mapping[str, Any]) -> Signature:
    header = str(environ.get("HTTP_AUTHORIZATION") or "")
    if header:
        if match := _SIGV4.search(header):
            service = SIGNING_NAMES.get(match.group(3), match.group(3))
            return Signature(
                match.group(1), service, match.group(2), "REST-HEADER", "AWS4-HMAC-SHA256"
            )
        if match := _SIGV2.match(header):
            return Signature(match.group(1), "s3", None, "REST-HEADER", "AWS")
    query = parse_qs(str(environ.get("QUERY_STRING") or ""))
    if credential := query.get("X-Amz-Credential"):
        scope = credential[0].split("/")
        if len(scope) == 5:
            service = SIGNING_NAMES.get(scope[3], scope[3])
            return Signature(scope[0], service, scope[2], "REST-QUERY-STRING", "AWS4-HMAC-SHA256")
    if key := query.get("AWSAccessKeyId"):
        return Signature(key[0], "s3", None, "REST-QUERY-STRING", "AWS")
    # Unsigned: moto's dispatcher also falls back to S3 for what it cannot attribute.
    return Signature(None, "s3", None, None, None)


def _needs_body(service: str, method: str, environ: Mapping[str, Any]) -> bool:
    if service != "s3":
        return True
    return method == "POST" and "delete" in parse_qs(
        str(environ.get("QUERY_STRING")), keep_blank_values=True
    )


def _read_body(environ: dict[str, Any]) -> bytes:
    body: bytes = get_input_stream(environ).read()
    environ["wsgi.input"] = io.BytesIO(body)
    environ["wsgi.input_terminated"] = True
    return body


def parse_request(
    environ: dict[str, Any], signature: Signature, default_region: str
) -> WireRequest:
    """Route the request to its operation and parse its parameters (the body is restored)."""
    service = signature.service
    method = str(environ.get("REQUEST_METHOD", "GET"))
    body = _read_body(environ) if _needs_body(service, method, environ) else b""
    try:
        request = Request(environ)
        try:
            model = get_service_model(service)
            operation, uri_params = get_service_router(service).match(request)
        except (NotFound, NotImplementedError, UnknownServiceError, DataNotFoundError) as error:
            raise UnroutableRequest(
                f"{method} {request.path} names no {service} operation"
            ) from error
        protocol = determine_request_protocol(model, request)
        raw = gzip.decompress(body) if body and request.content_encoding == "gzip" else body
        parser = PROTOCOL_PARSERS[protocol](operation)
        params = parser.parse(
            {
                "method": method,
                # S3 parameters are in the path, query and headers; reading `values` could
                # consume an object's body declared as a form.
                "values": request.args if service == "s3" else request.values,
                "headers": request.headers,
                "body": raw,
                "url_path": request.path,
                "url_params": uri_params,
            }
        )
    finally:
        if body:
            environ["wsgi.input"] = io.BytesIO(body)
    return WireRequest(
        signature=signature,
        service=service,
        operation=operation.name,
        params=params,
        region=signature.region or default_region,
        source_ip=str(environ.get("REMOTE_ADDR") or "127.0.0.1"),
    )
