"""Exception types of the steps, one per thing that can go wrong.

Their class names become the `Error` of a failed Lambda task in Step Functions, so
the state machine's Retry and Catch clauses match on them: keep the names stable.
"""

from __future__ import annotations


class PipelineError(Exception):
    """Base of every error a step raises on purpose."""


class ConfigurationError(PipelineError):
    """A required environment variable is missing or invalid (fails at cold start)."""


class InvalidRunRequest(PipelineError):
    """The execution input or a step's input is invalid; retrying cannot help."""


class Throttled(PipelineError):
    """An AWS API throttled the call; the state machine retries with backoff and jitter."""


class CrawlerFailed(PipelineError):
    """The crawler could not be started."""


class QueryFailed(PipelineError):
    """An Athena query ended FAILED or CANCELLED, or did not end in time."""


class AuditFailed(PipelineError):
    """A quality check failed on the staged data; nothing is published."""


class StagingFailed(PipelineError):
    """The Glue Data Catalog rejected a partition of a run's staging table."""


class PublishFailed(PipelineError):
    """The Glue Data Catalog or S3 rejected part of a publish or clean-up."""


class NotifyFailed(PipelineError):
    """The notification could not be published."""


class PipelineBusy(PipelineError):
    """Another execution holds the run lease; this one must not touch the pipeline's data."""


class RegisterFailed(PipelineError):
    """The Glue Data Catalog rejected a new ODS partition or a table's declared schema."""


class LedgerError(PipelineError):
    """An object of the ledger is unreadable, or could not be written or deleted."""


class SchemaNotSettled(PipelineError):
    """A source's ODS partitions hold rows, yet after its crawl the table does not exist."""
