"""The local Athena: Athena SQL executed on DuckDB over moto's Glue catalog and S3."""

from .engine import AthenaEngine, QueryExecution, ResultSet
from .errors import AthenaQueryError, InvalidRequestError
from .workgroup import WorkgroupRules

__all__ = [
    "AthenaEngine",
    "AthenaQueryError",
    "InvalidRequestError",
    "QueryExecution",
    "ResultSet",
    "WorkgroupRules",
]
