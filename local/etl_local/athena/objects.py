"""S3 locations as Athena and Hive write them, and Hive's partition folders.

The objects themselves are in etl_local.object_store; the local Athena reads and writes them
through etl_local.object_access, as the principal that started the query.
"""

from __future__ import annotations

from urllib.parse import unquote

from etl_local.object_access import is_hidden, split_s3_uri
from etl_local.object_store import StoredObject

__all__ = [
    "InvalidS3UriError",
    "StoredObject",
    "as_folder",
    "is_hidden",
    "partition_values_of",
    "split_uri",
]


class InvalidS3UriError(ValueError):
    """A location is not an s3://bucket/prefix URI."""


def split_uri(uri: str) -> tuple[str, str]:
    """('bucket', 'prefix/') of 's3://bucket/prefix/'; accepts s3a:// and s3n:// like Hive."""
    try:
        return split_s3_uri(uri)
    except ValueError:
        raise InvalidS3UriError(f"not an S3 location: {uri!r}") from None


def as_folder(uri: str) -> str:
    return uri if uri.endswith("/") else uri + "/"


def partition_values_of(relative_dir: str) -> list[tuple[str, str]] | None:
    """[(key, value), ...] of Hive 'k=v/' segments, or None if a segment is not k=v."""
    pairs = []
    for segment in relative_dir.strip("/").split("/"):
        if not segment:
            continue
        name, sep, value = segment.partition("=")
        if not sep or not name:
            return None
        pairs.append((unquote(name), unquote(value)))
    return pairs
