"""S3 objects as moto holds them in this process: listing with sizes, reading, writing.

The local Athena and crawler run inside the moto server's process, so they read the
S3 backend directly (no HTTP round trip, no pagination) for listings and small reads;
bulk data goes through DuckDB's httpfs against the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from moto.s3.models import FakeKey, S3Backend, s3_backends
from moto.utilities.utils import get_partition


class InvalidS3UriError(ValueError):
    """A location is not an s3://bucket/prefix URI."""


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    size: int

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def split_uri(uri: str) -> tuple[str, str]:
    """('bucket', 'prefix/') of 's3://bucket/prefix/'; accepts s3a:// and s3n:// like Hive."""
    for scheme in ("s3://", "s3a://", "s3n://"):
        if uri.startswith(scheme):
            bucket, _, prefix = uri[len(scheme) :].partition("/")
            if bucket:
                return bucket, prefix
    raise InvalidS3UriError(f"not an S3 location: {uri!r}")


def as_folder(uri: str) -> str:
    return uri if uri.endswith("/") else uri + "/"


def is_hidden(relative_key: str) -> bool:
    """Hive and Athena skip files and folders whose name starts with '_' or '.'."""
    return any(part.startswith(("_", ".")) for part in relative_key.split("/") if part)


class ObjectStore:
    """One account's S3 in moto, seen from inside the server process."""

    def __init__(self, account_id: str, region: str) -> None:
        self._backend: S3Backend = s3_backends[account_id][get_partition(region)]

    def list_folder(self, folder_uri: str, *, skip_hidden: bool = True) -> list[S3Object]:
        """Data files under a folder (recursively), sorted by key, without folder markers.

        Hidden names are judged relative to the folder, so a location that itself contains
        `_runs/` (a staged partition) is still read.
        """
        bucket_name, prefix = split_uri(as_folder(folder_uri))
        bucket = self._backend.get_bucket(bucket_name)
        found = []
        for name in sorted(k for k in bucket.keys if k.startswith(prefix)):
            key = bucket.keys[name]
            if not isinstance(key, FakeKey) or name.endswith("/") or name.endswith("_$folder$"):
                continue
            relative = name[len(prefix) :]
            if skip_hidden and is_hidden(relative):
                continue
            found.append(S3Object(bucket_name, name, key.size))
        return found

    def has_objects(self, folder_uri: str) -> bool:
        bucket_name, prefix = split_uri(as_folder(folder_uri))
        bucket = self._backend.get_bucket(bucket_name)
        return any(k.startswith(prefix) for k in bucket.keys)

    def read(self, obj: S3Object) -> bytes:
        key = self._backend.get_bucket(obj.bucket).keys[obj.key]
        return bytes(key.value)

    def write(self, uri: str, body: bytes) -> None:
        bucket, key = split_uri(uri)
        self._backend.put_object(bucket, key, body)


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
