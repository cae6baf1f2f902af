"""S3 access on a caller's behalf: the one door through which emulated services touch objects.

The local Athena, the crawler and the Glue job read and write the object files directly
(etl_local.object_store). On AWS each of their reads and writes is an S3 request signed by
a principal (the caller of StartQueryExecution, the crawler's role, the job's role), which
IAM allows or denies. `ObjectAccess` is that principal's view of the store: every method
first states the S3 request it stands for (`S3Request`: the IAM action, the resource ARN
and the condition keys S3 evaluates) and passes it to `require`, which calls the
authorization callback before anything is read or written. The callback raises to deny;
an exception deriving from PermissionError is reported as S3's AccessDenied by the services.

Actions, resources and condition keys: "Actions, resources, and condition keys for Amazon
S3" (Service Authorization Reference). HeadObject is authorized as s3:GetObject,
ListObjectsV2 as s3:ListBucket on the bucket with the condition keys s3:prefix,
s3:delimiter and s3:max-keys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from etl_local.object_store import ObjectStore, StagedFile, StoredObject

# (principal ARN, IAM action, resource ARN, condition keys) -> None; raises to deny.
Authorize = Callable[[str, str, str, Mapping[str, str]], None]


def allow_all(principal: str, action: str, resource: str, context: Mapping[str, str]) -> None:
    """The default authorizer: every request is allowed (no IAM enforcement)."""


def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


@dataclass(frozen=True)
class S3Request:
    """One S3 API request as IAM sees it."""

    operation: str  # the S3 API operation, e.g. HeadObject
    action: str  # the IAM action S3 authorizes it with, e.g. s3:GetObject
    resource: str  # the bucket's or the object's ARN
    context: Mapping[str, str] = field(default_factory=dict)

    @staticmethod
    def head_object(bucket: str, key: str) -> S3Request:
        return S3Request("HeadObject", "s3:GetObject", object_arn(bucket, key))

    @staticmethod
    def get_object(bucket: str, key: str) -> S3Request:
        return S3Request("GetObject", "s3:GetObject", object_arn(bucket, key))

    @staticmethod
    def put_object(bucket: str, key: str) -> S3Request:
        return S3Request("PutObject", "s3:PutObject", object_arn(bucket, key))

    @staticmethod
    def delete_object(bucket: str, key: str) -> S3Request:
        # DeleteObjects (the batch call) is authorized per key as s3:DeleteObject.
        return S3Request("DeleteObject", "s3:DeleteObject", object_arn(bucket, key))

    @staticmethod
    def list_objects(
        bucket: str, prefix: str, *, delimiter: str | None = None, max_keys: int | None = None
    ) -> S3Request:
        context = {"s3:prefix": prefix}
        if delimiter is not None:
            context["s3:delimiter"] = delimiter
        if max_keys is not None:
            context["s3:max-keys"] = str(max_keys)
        return S3Request("ListObjectsV2", "s3:ListBucket", bucket_arn(bucket), context)


def split_s3_uri(uri: str) -> tuple[str, str]:
    """('bucket', 'key or prefix') of s3://bucket/key (s3a:// and s3n:// as Hive accepts)."""
    for scheme in ("s3://", "s3a://", "s3n://"):
        if uri.startswith(scheme):
            bucket, _, key = uri[len(scheme) :].partition("/")
            if bucket:
                return bucket, key
    raise ValueError(f"not an S3 location: {uri!r}")


def _folder(prefix: str) -> str:
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


def is_hidden(relative_key: str) -> bool:
    """Hive, Athena and Spark skip files and folders whose name starts with '_' or '.'."""
    return any(part.startswith(("_", ".")) for part in relative_key.split("/") if part)


class ObjectAccess:
    """The store as one principal may use it, each access authorized first."""

    def __init__(
        self, store: ObjectStore, principal: str, authorize: Authorize = allow_all
    ) -> None:
        self.store = store
        self.principal = principal
        self._authorize = authorize

    # -- the narrow API ----------------------------------------------------------------
    def require(self, request: S3Request) -> None:
        """Ask the authorizer about one request; it raises if the principal may not."""
        self._authorize(self.principal, request.action, request.resource, request.context)

    def require_all(self, requests: Iterable[S3Request]) -> None:
        for request in requests:
            self.require(request)

    # -- reading -----------------------------------------------------------------------
    def list_folder(self, folder_uri: str, *, skip_hidden: bool = True) -> list[StoredObject]:
        """Objects under a folder (recursively), sorted by key, without folder markers.

        One ListObjectsV2 on the folder's prefix. Hidden names are judged relative to the
        folder, so a location that itself contains `_runs/` (a staged partition) is read.
        """
        bucket, prefix = split_s3_uri(folder_uri)
        prefix = _folder(prefix)
        self.require(S3Request.list_objects(bucket, prefix))
        found = []
        for obj in self.store.iterate(bucket, prefix):
            if obj.key.endswith("/") or obj.key.endswith("_$folder$"):
                continue
            if skip_hidden and is_hidden(obj.key[len(prefix) :]):
                continue
            found.append(obj)
        return found

    def has_objects(self, folder_uri: str) -> bool:
        bucket, prefix = split_s3_uri(folder_uri)
        prefix = _folder(prefix)
        self.require(S3Request.list_objects(bucket, prefix, max_keys=1))
        return next(iter(self.store.iterate(bucket, prefix)), None) is not None

    def readable_path(self, obj: StoredObject) -> Path:
        """The file to read the object from, once GetObject is allowed."""
        return Path(self.readable_file(obj))

    def readable_file(self, obj: StoredObject) -> str:
        """readable_path, as text (no Path object: a query may read thousands of files)."""
        self.require(S3Request.get_object(obj.bucket, obj.key))
        return obj.file

    def read(self, obj: StoredObject) -> bytes:
        self.require(S3Request.get_object(obj.bucket, obj.key))
        return self.store.read(obj)

    # -- writing -----------------------------------------------------------------------
    def put(self, uri: str, body: bytes) -> StoredObject:
        bucket, key = split_s3_uri(uri)
        self.require(S3Request.put_object(bucket, key))
        return self.store.put_bytes(bucket, key, body)

    def publish_directory(self, directory: Path, folder_uri: str) -> list[StoredObject]:
        """Every file under `directory` (written in a staging directory of the store)
        becomes the object `<folder>/<relative path>`. All PutObject requests are
        authorized before the first file is published, so a denial publishes nothing."""
        bucket, prefix = split_s3_uri(folder_uri)
        prefix = _folder(prefix)
        staged = [
            StagedFile(path, prefix + path.relative_to(directory).as_posix())
            for path in sorted(p for p in directory.rglob("*") if p.is_file())
        ]
        self.require_all(S3Request.put_object(bucket, item.key) for item in staged)
        return self.store.commit_staged(bucket, staged)
