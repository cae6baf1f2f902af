"""moto's S3 served from the disk-backed object store (etl_local.object_store).

moto keeps every bucket's objects in memory (`FakeBucket.keys`, a dict of `FakeKey`s whose
bodies are spooled temporary files), so a process that ends loses them. Installed, this
module gives every bucket a key store that is a view of the object store instead: a lookup
is a query of the index, a body is read from its file, a PUT (moto builds its FakeKey as
usual) is written to the object's file and recorded in the index before moto answers. The
rest of moto's S3 (request parsing, errors, ACLs, multipart uploads, copies, conditional
requests) runs unchanged on top, so every client of the endpoint (the Lambda handlers,
moto's ASL executor, a user's AWS CLI) sees the objects that DuckDB and Spark read and
write in place, and they outlive the process.

Two of moto's listings are replaced for these buckets: moto sorts every key of the bucket
on each ListObjects page; here a page is read in key order from the index. Versioning is
not supported on disk-backed buckets (a body per key): enabling it is refused.

What is not persisted across processes: bucket configuration (policies, encryption,
lifecycle, notifications: the runtime's deployment sets them again), object tags and ACLs.
"""

from __future__ import annotations

import base64
import binascii
import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from moto.s3.exceptions import InvalidContinuationToken, MissingKey, S3ClientError
from moto.s3.models import FakeBucket, FakeDeleteMarker, FakeKey, S3Backend, s3_backends
from moto.s3.utils import _VersionedKeyStore
from moto.utilities.utils import get_partition

from etl_local.object_store import ObjectStore, StoredObject

# FakeKey attributes S3 reports back after a PUT, kept in the object's index row.
PERSISTED_ATTRIBUTES = (
    "_storage_class",
    "checksum_algorithm",
    "checksum_value",
    "checksum_type",
    "checksum_parts",
    "encryption",
    "kms_key_id",
    "bucket_key_enabled",
    "website_redirect_location",
    "lock_mode",
    "lock_legal_status",
    "lock_until",
)
_AFTER_EVERY_KEY = "\U0010ffff"
# Rows read per step when a delimiter groups keys: each common prefix restarts the scan.
_GROUPED_BATCH = 64


class VersioningNotSupported(S3ClientError):
    def __init__(self) -> None:
        super().__init__(
            "NotImplemented",
            "The local runtime's disk-backed S3 keeps one body per key: versioning cannot be "
            "enabled",
        )


def _attributes_of(key: FakeKey) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        name: getattr(key, name)
        for name in PERSISTED_ATTRIBUTES
        if getattr(key, name, None) is not None
    }
    attributes["metadata"] = dict(key.metadata)
    return attributes


def _naive_utc(timestamp: float) -> datetime.datetime:
    # moto keeps last_modified as a naive UTC datetime (moto.core.utils.utcnow).
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).replace(tzinfo=None)


class DiskKey(FakeKey):
    """A FakeKey whose body is a file of the object store and whose attributes are its row."""

    _store: ObjectStore | None
    _stored: StoredObject | None

    def __new__(cls, *args: Any, **kwargs: Any) -> DiskKey:
        # moto's BaseModel keeps every instance in a class list until reset; these are views,
        # made for every lookup, and must not accumulate.
        return object.__new__(cls)

    @classmethod
    def from_stored(
        cls, store: ObjectStore, stored: StoredObject, account_id: str, region: str
    ) -> DiskKey:
        key = cls.__new__(cls)
        object.__setattr__(key, "_store", None)
        object.__setattr__(key, "_stored", None)
        FakeKey.__init__(
            key,
            name=stored.key,
            value=b"",
            account_id=account_id,
            region_name=region,
            bucket_name=stored.bucket,
            etag=stored.etag,
        )
        key._value_buffer.close()
        attributes = dict(stored.attributes)
        metadata = attributes.pop("metadata", None)
        for name, value in attributes.items():
            if name in PERSISTED_ATTRIBUTES:
                object.__setattr__(key, name, value)
        if metadata is not None:
            key._metadata.clear()
            key._metadata.update(metadata)
        key.contentsize = stored.size
        key.last_modified = _naive_utc(stored.last_modified)
        key._bind(store, stored)
        return key

    def _bind(self, store: ObjectStore, stored: StoredObject) -> None:
        object.__setattr__(self, "_store", store)
        object.__setattr__(self, "_stored", stored)
        self.contentsize = stored.size
        self.last_modified = _naive_utc(stored.last_modified)
        self.disposed = True  # nothing of its own to release: the body is the store's

    def _persist_attributes(self) -> None:
        if self._store is not None and self._stored is not None:
            self._store.set_attributes(
                self._stored.bucket,
                self.name,
                _attributes_of(self),
                written_at=self._stored.last_modified,
            )

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name in PERSISTED_ATTRIBUTES and self.__dict__.get("_stored") is not None:
            self._persist_attributes()

    def set_metadata(self, metadata: Any, replace: bool = False) -> None:
        super().set_metadata(metadata, replace)
        self._persist_attributes()

    @property
    def value(self) -> bytes:
        stored = self._stored
        if stored is None:
            return FakeKey.value.fget(self)  # type: ignore[attr-defined]
        try:
            return stored.path.read_bytes()
        except FileNotFoundError:
            raise MissingKey(key=self.name) from None

    @value.setter
    def value(self, new_value: bytes) -> None:
        if self._stored is None or self._store is None:
            FakeKey.value.fset(self, new_value)  # type: ignore[attr-defined]
            return
        stored = self._store.put_bytes(
            self._stored.bucket, self.name, new_value, attributes=_attributes_of(self)
        )
        object.__setattr__(self, "_etag", stored.etag)
        self._bind(self._store, stored)

    @property
    def etag(self) -> str:
        if self._stored is not None and self._store is not None and self._etag is None:
            object.__setattr__(self, "_etag", self._store.etag(self._stored))
        return super().etag

    def dispose(self, garbage: bool = False) -> None:
        if self._stored is None:
            super().dispose(garbage)
        self.disposed = True

    def __deepcopy__(self, memo: dict[int, Any]) -> DiskKey:
        # moto deep-copies keys to list versions; a copy is another view of the same object.
        assert self._store is not None and self._stored is not None
        return DiskKey.from_stored(self._store, self._stored, self.account_id, self.region_name)


def _bind_new_key(store: ObjectStore, bucket: str, name: str, key: FakeKey) -> DiskKey:
    """Write a FakeKey moto just built (body in its spooled buffer) to the store; from then on
    the same object is a DiskKey, so moto's later changes to it (metadata, checksum) persist."""
    with key.lock:
        key._value_buffer.seek(0)
        stored = store.put_stream(
            bucket, name, key._value_buffer, etag=key._etag, attributes=_attributes_of(key)
        )
        key._value_buffer.close()
    key.__dict__["_store"] = store
    key.__dict__["_stored"] = stored
    key.__class__ = DiskKey
    disk_key: DiskKey = key  # type: ignore[assignment]
    disk_key._etag = stored.etag
    disk_key._bind(store, stored)
    _untrack(key)
    return disk_key


def _untrack(key: FakeKey) -> None:
    """Drop a bound key from moto's instance list (it only grows until a reset)."""
    tracked: list[Any] = FakeKey.instances_tracked  # type: ignore[attr-defined]
    for index in range(len(tracked) - 1, max(-1, len(tracked) - 64), -1):
        if tracked[index] is key:
            del tracked[index]
            return


class DiskKeyStore(_VersionedKeyStore):
    """`FakeBucket.keys` for a disk-backed bucket: the protocol moto uses, on the store."""

    def __init__(self, store: ObjectStore, bucket: str, account_id: str, region: str) -> None:
        super().__init__()
        self.store = store
        self.bucket = bucket
        self._account_id = account_id
        self._region = region

    def _key(self, stored: StoredObject) -> DiskKey:
        return DiskKey.from_stored(self.store, stored, self._account_id, self._region)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.store.exists(self.bucket, name)

    def __getitem__(self, name: str) -> DiskKey:
        stored = self.store.get(self.bucket, name)
        if stored is None:
            raise KeyError(name)
        return self._key(stored)

    def get(self, name: str, default: Any = None) -> Any:
        stored = self.store.get(self.bucket, name)
        return self._key(stored) if stored is not None else default

    def getlist(self, name: str, default: Any = None) -> Any:
        stored = self.store.get(self.bucket, name)
        return [self._key(stored)] if stored is not None else default

    def setlist(self, name: str, list_: Any) -> None:
        versions = list(list_) if isinstance(list_, list | tuple) else [list_]
        if not versions:
            self.store.delete(self.bucket, name)
            return
        if len(versions) > 1 or isinstance(versions[-1], FakeDeleteMarker):
            raise VersioningNotSupported()
        key = versions[-1]
        if isinstance(key, DiskKey) and key._stored is not None:
            return  # already this object's row
        _bind_new_key(self.store, self.bucket, name, key)

    def __setitem__(self, name: str, value: Any) -> None:
        self.setlist(name, [value])

    def pop(self, name: str, *default: Any) -> Any:
        if not self.store.delete(self.bucket, name):
            if default:
                return default[0]
            raise KeyError(name)
        return None

    def __delitem__(self, name: str) -> None:
        self.pop(name)

    def __len__(self) -> int:
        return self.store.count(self.bucket)

    def __bool__(self) -> bool:
        return next(iter(self.store.iterate(self.bucket)), None) is not None

    def __iter__(self) -> Iterator[str]:
        return (stored.key for stored in self.store.iterate(self.bucket))

    def keys(self) -> list[str]:  # type: ignore[override]
        return list(self)

    def _iteritems(self) -> Iterator[tuple[str, Any]]:
        for stored in self.store.iterate(self.bucket):
            yield stored.key, self._key(stored)

    def _itervalues(self) -> Iterator[Any]:
        for _, key in self._iteritems():
            yield key

    def _iterlists(self) -> Iterator[tuple[str, list[Any]]]:
        for name, key in self._iteritems():
            yield name, [key]

    def _self_iterable(self) -> dict[str, Any]:
        return dict(self._iterlists())

    def item_size(self) -> int:
        return sum(stored.size for stored in self.store.iterate(self.bucket))

    items = iteritems = _iteritems
    lists = iterlists = _iterlists
    values = itervalues = _itervalues


# -- listings ---------------------------------------------------------------------------------


def _page(
    keys: DiskKeyStore,
    prefix: str,
    delimiter: str | None,
    after: str,
    max_keys: int,
) -> tuple[list[DiskKey | str], bool]:
    """One page of a listing, in S3's order: keys and common prefixes (each counted once
    towards MaxKeys) after `after`; and whether more follow."""
    entries: list[DiskKey | str] = []
    if max_keys == 0:
        return entries, False
    cursor = after
    while True:
        restart = False
        batch = _GROUPED_BATCH if delimiter else 1000
        for stored in keys.store.iterate(keys.bucket, prefix, cursor, batch=batch):
            entry: DiskKey | str
            rest = stored.key[len(prefix) :]
            at = rest.find(delimiter) if delimiter else -1
            if delimiter and at >= 0:
                common = prefix + rest[: at + len(delimiter)]
                # Skip every key under the prefix: it is listed once (or was, before `after`).
                cursor, restart = common + _AFTER_EVERY_KEY, True
                if common <= after:
                    break
                entry = common
            else:
                entry = keys._key(stored)
            if len(entries) == max_keys:
                return entries, True
            entries.append(entry)
            if restart:
                break
        if not restart:
            return entries, False


def _name(entry: DiskKey | str) -> str:
    return entry if isinstance(entry, str) else entry.name


def _encode_token(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode("utf-8")).decode("ascii")


def _decode_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidContinuationToken() from None


# -- installation ------------------------------------------------------------------------------


@dataclass
class InstalledDiskS3:
    """Undo log of the installation; `uninstall` detaches every disk-backed bucket."""

    store: ObjectStore
    _undo: list[Callable[[], None]] = field(default_factory=list)

    def uninstall(self) -> None:
        for accounts in s3_backends.values():
            for backend in accounts.values():
                for bucket in backend.buckets.values():
                    if isinstance(bucket.keys, DiskKeyStore):
                        bucket.keys = _VersionedKeyStore()
        while self._undo:
            self._undo.pop()()


def _disk_keys(bucket: FakeBucket) -> DiskKeyStore | None:
    keys = bucket.keys
    return keys if isinstance(keys, DiskKeyStore) else None


# moto's S3Backend methods replaced while installed; each calls moto's own for other buckets.
_REPLACED = ("create_bucket", "delete_bucket", "put_bucket_versioning", "list_objects",
             "list_objects_v2")  # fmt: skip


@dataclass(frozen=True)
class _DiskBackend:
    """The replacements, bound to the store and to moto's original methods."""

    store: ObjectStore
    original: dict[str, Callable[..., Any]]

    def create_bucket(
        self, backend: S3Backend, bucket_name: str, region_name: str, *args: Any, **kwargs: Any
    ) -> FakeBucket:
        bucket: FakeBucket = self.original["create_bucket"](
            backend, bucket_name, region_name, *args, **kwargs
        )
        self.store.create_bucket(bucket_name, backend.account_id, region_name)
        bucket.keys = DiskKeyStore(self.store, bucket_name, backend.account_id, region_name)
        return bucket

    def delete_bucket(self, backend: S3Backend, bucket_name: str) -> FakeBucket | None:
        deleted: FakeBucket | None = self.original["delete_bucket"](backend, bucket_name)
        if deleted is not None and _disk_keys(deleted) is not None:
            self.store.delete_bucket(bucket_name)
        return deleted

    def put_bucket_versioning(self, backend: S3Backend, bucket_name: str, status: str) -> None:
        if status == "Enabled" and _disk_keys(backend.get_bucket(bucket_name)) is not None:
            raise VersioningNotSupported()
        self.original["put_bucket_versioning"](backend, bucket_name, status)

    def list_objects(
        self,
        backend: S3Backend,
        bucket: FakeBucket,
        prefix: str | None,
        delimiter: str | None,
        marker: str | None,
        max_keys: int | None,
    ) -> Any:
        keys = _disk_keys(bucket)
        if keys is None:
            return self.original["list_objects"](
                backend, bucket, prefix, delimiter, marker, max_keys
            )
        limit = max_keys if max_keys is not None else 2**62
        entries, truncated = _page(keys, prefix or "", delimiter, marker or "", limit)
        found = [e for e in entries if not isinstance(e, str)]
        folders = [e for e in entries if isinstance(e, str)]
        # ListObjects returns NextMarker only with a delimiter; clients use the last key.
        next_marker = _name(entries[-1]) if truncated and delimiter and entries else None
        return found, folders, truncated, next_marker

    def list_objects_v2(
        self,
        backend: S3Backend,
        bucket: FakeBucket,
        prefix: str | None,
        delimiter: str | None,
        continuation_token: str | None,
        start_after: str | None,
        max_keys: int,
    ) -> Any:
        keys = _disk_keys(bucket)
        if keys is None:
            return self.original["list_objects_v2"](
                backend, bucket, prefix, delimiter, continuation_token, start_after, max_keys
            )
        after = _decode_token(continuation_token) if continuation_token else start_after or ""
        entries, truncated = _page(keys, prefix or "", delimiter, after, max_keys)
        token = _encode_token(_name(entries[-1])) if truncated and entries else None
        return entries, truncated, token


def install(store: ObjectStore) -> InstalledDiskS3:
    """Serve every S3 bucket of this process from `store`, and register the buckets it
    already holds (with their objects: nothing is copied)."""
    installed = InstalledDiskS3(store)
    original = {name: S3Backend.__dict__[name] for name in _REPLACED}
    disk = _DiskBackend(store, original)
    for name in _REPLACED:
        replacement = getattr(disk, name)
        # A function (a bound method is not a descriptor): moto passes its backend first.
        setattr(S3Backend, name, lambda backend, *a, _r=replacement, **k: _r(backend, *a, **k))

        def restore(name: str = name) -> None:
            setattr(S3Backend, name, original[name])

        installed._undo.append(restore)

    for stored in store.buckets():
        backend = s3_backends[stored.account_id][get_partition(stored.region)]
        existing = backend.buckets.get(stored.name)
        if existing is None:
            backend.create_bucket(stored.name, stored.region)
        elif _disk_keys(existing) is None:
            existing.keys = DiskKeyStore(store, stored.name, stored.account_id, stored.region)
    return installed
