"""Denials: the exception the emulations raise, and the HTTP error each service answers.

The message is AWS's current form ("Troubleshoot access denied error messages", IAM User
Guide): `User: <principal ARN> is not authorized to perform: <action> on resource:
<resource> because no identity-based policy allows the <action> action`, or `... with an
explicit deny in a resource-based policy`. S3 quotes the resource ARN ("Troubleshoot access
denied (403 Forbidden) errors in Amazon S3"); an action without a resource type omits
"on resource".

The response follows the service's protocol, as its SDK parses it:
- S3 (rest-xml): 403 `<Error><Code>AccessDenied</Code>...`;
- SNS (query): 403 `AuthorizationError` (its model's AuthorizationErrorException);
- other query services (STS, IAM, CloudWatch): 403 `AccessDenied`;
- Lambda (rest-json): 403, `x-amzn-ErrorType: AccessDeniedException`;
- JSON services (Glue, Athena, Step Functions, Logs, ...): 400 `AccessDeniedException`;
  DynamoDB names it `com.amazon.coral.service#AccessDeniedException`; SQS's JSON protocol
  is query-compatible, so it also sends `x-amzn-query-error: AccessDenied;Sender`.
An access key no principal owns is rejected as AWS rejects an unknown key: S3
`InvalidAccessKeyId`, query services `InvalidClientTokenId`, JSON services
`UnrecognizedClientException` (all 403, JSON services 400).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from xml.sax.saxutils import escape

from etl_local.iam.evaluation import Decision
from etl_local.iam.policy import PolicyKind


class AccessDenied(PermissionError):
    """A request AWS would deny; `str(error)` is AWS's message. A PermissionError: the
    emulated services report it as their AccessDenied (etl_local.object_access)."""

    def __init__(self, message: str, action: str, resource: str) -> None:
        super().__init__(message)
        self.message = message
        self.action = action
        self.resource = resource


def denial_message(
    principal_arn: str, action: str, resource: str, decision: Decision, *, quote: bool = False
) -> str:
    who = f"User: {principal_arn} is not authorized to perform: {action}"
    if resource != "*":
        who += f' on resource: "{resource}"' if quote else f" on resource: {resource}"
    if decision.explicit_deny_in is not None:
        return f"{who} with an explicit deny in a {decision.explicit_deny_in.value} policy"
    missing = decision.missing_allow_in or PolicyKind.IDENTITY
    return f"{who} because no {missing.value} policy allows the {action} action"


def no_rule_message(principal_arn: str, service: str, operation: str) -> str:
    return (
        f"User: {principal_arn} is not authorized to perform: {service}:{operation} because "
        f"the local runtime has no authorization rule for the {service} operation {operation} "
        "(etl_local.iam.operations): it denies what it cannot check"
    )


@dataclass(frozen=True)
class ErrorResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def status_line(self) -> str:
        reasons = {400: "Bad Request", 403: "Forbidden"}
        return f"{self.status} {reasons.get(self.status, 'Error')}"


_QUERY_SERVICES = frozenset({"sns", "sts", "iam", "cloudwatch", "ses", "rds", "ec2"})


def _xml(status: int, code: str, message: str, *, s3: bool) -> ErrorResponse:
    request_id = uuid.uuid4().hex.upper()[:16]
    text = f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
    if s3:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error>{text}<RequestId>{request_id}</RequestId><HostId>local</HostId></Error>"
        )
        headers = [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)]
    else:
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type>{text}</Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
    encoded = body.encode()
    return ErrorResponse(status, [*headers, ("Content-Length", str(len(encoded)))], encoded)


def _json(
    status: int, error_type: str, message: str, extra: list[tuple[str, str]]
) -> ErrorResponse:
    encoded = json.dumps({"__type": error_type, "Message": message}).encode()
    headers = [
        ("Content-Type", "application/x-amz-json-1.1"),
        ("x-amzn-RequestId", str(uuid.uuid4())),
        *extra,
        ("Content-Length", str(len(encoded))),
    ]
    return ErrorResponse(status, headers, encoded)


def _lambda(code: str, message: str) -> ErrorResponse:
    encoded = json.dumps({"Type": "User", "Message": message}).encode()
    headers = [
        ("Content-Type", "application/json"),
        ("x-amzn-ErrorType", code),
        ("x-amzn-RequestId", str(uuid.uuid4())),
        ("Content-Length", str(len(encoded))),
    ]
    return ErrorResponse(403, headers, encoded)


def access_denied_response(service: str, message: str) -> ErrorResponse:
    if service == "s3":
        return _xml(403, "AccessDenied", message, s3=True)
    if service == "sns":
        return _xml(403, "AuthorizationError", message, s3=False)
    if service in _QUERY_SERVICES:
        return _xml(403, "AccessDenied", message, s3=False)
    if service == "lambda":
        return _lambda("AccessDeniedException", message)
    if service == "dynamodb":
        return _json(400, "com.amazon.coral.service#AccessDeniedException", message, [])
    if service == "sqs":
        query_error = [("x-amzn-query-error", "AccessDenied;Sender")]
        return _json(403, "com.amazon.coral.service#AccessDeniedException", message, query_error)
    return _json(400, "AccessDeniedException", message, [])


def unknown_key_response(service: str) -> ErrorResponse:
    if service == "s3":
        message = "The AWS Access Key Id you provided does not exist in our records."
        return _xml(403, "InvalidAccessKeyId", message, s3=True)
    message = "The security token included in the request is invalid."
    if service in _QUERY_SERVICES:
        return _xml(403, "InvalidClientTokenId", message, s3=False)
    if service == "lambda":
        return _lambda("UnrecognizedClientException", message)
    return _json(400, "UnrecognizedClientException", message, [])
