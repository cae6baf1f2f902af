"""A real Trino server as the oracle for Athena engine version 3 (the release AWS's own Trino
distribution ships; see install.py), over the local lake's Glue catalog and S3."""

from .catalog import attach_lake, catalog_name
from .client import Column, TrinoClient, TrinoQueryError, TrinoResult
from .install import TRINO_VERSION, Installation, TrinoInstallError, cache_root, installed
from .server import RunningServer, TrinoServerError, ensure_running, stop

__all__ = [
    "TRINO_VERSION",
    "Column",
    "Installation",
    "RunningServer",
    "TrinoClient",
    "TrinoInstallError",
    "TrinoQueryError",
    "TrinoResult",
    "TrinoServerError",
    "attach_lake",
    "cache_root",
    "catalog_name",
    "ensure_running",
    "installed",
    "stop",
]
