"""AWS clients for the steps, and the one place that recognises throttling.

Clients are made per invocation rather than at import so that tests (moto) and the
local runtime (endpoint from `AWS_ENDPOINT_URL`) control where they point.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from etl_lambdas.errors import Throttled

# Error codes AWS services use for "slow down"; all surface as `Throttled`.
THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
        "ProvisionedThroughputExceededException",
    }
)

# Few in-client retries: the state machine owns backoff (with jitter) across invocations.
_CLIENT_CONFIG = Config(retries={"max_attempts": 3, "mode": "standard"})


def client(service: str) -> Any:
    return boto3.client(service, config=_CLIENT_CONFIG)  # type: ignore[call-overload]


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def is_throttling(error: ClientError) -> bool:
    return error_code(error) in THROTTLING_CODES


@contextmanager
def throttling_as_retryable() -> Iterator[None]:
    """Turn an AWS throttling error into `Throttled`, which the ASL retries with backoff."""
    try:
        yield
    except ClientError as error:
        if is_throttling(error):
            raise Throttled(f"{error_code(error)}: {error}") from error
        raise
