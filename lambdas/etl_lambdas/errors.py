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
    """The Glue Data Catalog rejected a new ODS partition, or a change report is unreadable."""


class SchemaNotSettled(PipelineError):
    """After a crawl, a source's ODS table still differs from the schema the Glue job wrote."""
