"""Errors a query fails with, carrying what Athena reports in Status.AthenaError."""

from __future__ import annotations

# Status.AthenaError.ErrorCategory: 1 = system, 2 = user, 3 = other.
SYSTEM_ERROR = 1
USER_ERROR = 2


class AthenaQueryError(Exception):
    """A query failed; the message is what Athena shows in StateChangeReason."""

    def __init__(self, message: str, *, category: int = USER_ERROR, retryable: bool = False):
        super().__init__(message)
        self.message = message
        self.category = category
        self.retryable = retryable


class InvalidRequestError(Exception):
    """A request Athena rejects before running anything (InvalidRequestException)."""


class QueryCancelledError(Exception):
    """Athena cancelled the query itself (not the caller): it ends CANCELLED, the message
    in StateChangeReason."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
