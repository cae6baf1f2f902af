"""Denials read by each service's SDK parser as that service's access-denied error."""

from __future__ import annotations

import botocore.session
import pytest
from botocore.parsers import create_parser

from etl_local.iam.errors import (
    ErrorResponse,
    access_denied_response,
    denial_message,
    unknown_key_response,
)
from etl_local.iam.evaluation import Decision
from etl_local.iam.policy import PolicyKind

SESSION_ARN = "arn:aws:sts::123456789012:assumed-role/write-lambda/etl-write"
OPERATIONS = {
    "s3": "GetObject",
    "glue": "GetTable",
    "athena": "StartQueryExecution",
    "stepfunctions": "StartExecution",
    "lambda": "Invoke",
    "sns": "Publish",
    "sqs": "ReceiveMessage",
    "dynamodb": "GetItem",
    "logs": "PutLogEvents",
    "sts": "AssumeRole",
}


def parse(service: str, response: ErrorResponse) -> dict[str, str]:
    model = botocore.session.get_session().get_service_model(service)
    operation = model.operation_model(OPERATIONS[service])
    headers = {name.lower(): value for name, value in response.headers}  # as HTTP delivers them
    raw = {"status_code": response.status, "headers": headers, "body": response.body}
    parsed = create_parser(model.protocol).parse(raw, operation.output_shape)
    assert parsed["ResponseMetadata"]["HTTPStatusCode"] == response.status
    return dict(parsed["Error"])


@pytest.mark.parametrize(
    ("service", "status", "code"),
    [
        ("s3", 403, "AccessDenied"),
        ("glue", 400, "AccessDeniedException"),
        ("athena", 400, "AccessDeniedException"),
        ("stepfunctions", 400, "AccessDeniedException"),
        ("lambda", 403, "AccessDeniedException"),
        ("sns", 403, "AuthorizationError"),
        ("sqs", 403, "AccessDenied"),
        ("dynamodb", 400, "AccessDeniedException"),
        ("logs", 400, "AccessDeniedException"),
        ("sts", 403, "AccessDenied"),
    ],
)
def test_access_denied_as_each_sdk_reads_it(service: str, status: int, code: str) -> None:
    response = access_denied_response(service, "User: x is not authorized")
    assert response.status == status
    error = parse(service, response)
    assert error["Code"] == code
    assert error["Message"] == "User: x is not authorized"


@pytest.mark.parametrize(
    ("service", "code"),
    [
        ("s3", "InvalidAccessKeyId"),
        ("glue", "UnrecognizedClientException"),
        ("lambda", "UnrecognizedClientException"),
        ("sns", "InvalidClientTokenId"),
    ],
)
def test_unknown_access_keys(service: str, code: str) -> None:
    assert parse(service, unknown_key_response(service))["Code"] == code


def test_messages_in_aws_current_form() -> None:
    implicit = Decision(allowed=False, missing_allow_in=PolicyKind.IDENTITY)
    assert denial_message(
        SESSION_ARN, "glue:GetTable", "arn:aws:glue:eu-west-1:123456789012:table/d/t", implicit
    ) == (
        "User: arn:aws:sts::123456789012:assumed-role/write-lambda/etl-write is not authorized to "
        "perform: glue:GetTable on resource: arn:aws:glue:eu-west-1:123456789012:table/d/t because "
        "no identity-based policy allows the glue:GetTable action"
    )
    explicit = Decision(allowed=False, explicit_deny_in=PolicyKind.RESOURCE)
    assert denial_message(
        SESSION_ARN, "s3:GetObject", "arn:aws:s3:::b/k", explicit, quote=True
    ) == (
        "User: arn:aws:sts::123456789012:assumed-role/write-lambda/etl-write is not authorized to "
        'perform: s3:GetObject on resource: "arn:aws:s3:::b/k" with an explicit deny in a '
        "resource-based policy"
    )
    assert denial_message(SESSION_ARN, "s3:ListAllMyBuckets", "*", implicit) == (
        "User: arn:aws:sts::123456789012:assumed-role/write-lambda/etl-write is not authorized to "
        "perform: s3:ListAllMyBuckets because no identity-based policy allows the "
        "s3:ListAllMyBuckets action"
    )
