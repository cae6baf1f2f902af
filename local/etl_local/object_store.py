"""The local lake's S3 objects: one file per object under $ETL_HOME/s3, and an index.

An object's body is a file, normally at `<root>/<bucket>/<key>`, so that DuckDB and Spark
read it by path and what they write becomes an object by a rename (no copy). What S3 keeps
beside a body (size, ETag, last-modified time, content type and user metadata, checksum)
is a row of an SQLite index (`<root>/index.sqlite`), written in the same transaction as the
rename that publishes the file. Nothing is loaded at start: every lookup and listing is a
query of the index, so opening a lake of any size costs the same, and several processes
sharing one $ETL_HOME see each other's writes.

Keys that cannot be a path as they are (a trailing "/", empty or "." segments, a key that is
also another key's "directory") are kept under `<root>/.aside/`; the index says where each
body is. Bodies are replaced by writing a hidden temporary file next to the target and
renaming it over the target, so a reader sees the old or the new body, never a mix; Spark
and DuckDB skip hidden (`.`-prefixed) files.

This module does no authorization: etl_local.object_access wraps it for every access an
emulated service makes on a caller's behalf.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

INDEX_FILE = "index.sqlite"
ASIDE_DIR = ".aside"
STAGING_DIR = ".staging"
TEMP_PREFIX = ".s3tmp-"
# The highest code point: every key that starts with a prefix sorts below prefix + this.
_AFTER_EVERY_KEY = "\U0010ffff"
_LIST_BATCH = 1000
# A file name may hold at most 255 bytes (ext4, xfs, apfs).
_MAX_NAME_BYTES = 255
_COPY_CHUNK = 16 * 1024 * 1024

_SCHEMA = """
CREATE TABLE IF NOT EXISTS buckets (
    name TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    created REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS objects (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT,
    last_modified REAL NOT NULL,
    attributes TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
"""


class ObjectStoreError(RuntimeError):
    """The index and the files disagree, or a request cannot be stored."""


@dataclass(frozen=True)
class StoredBucket:
    name: str
    account_id: str
    region: str
    created: float


@dataclass(frozen=True)
class StoredObject:
    """One object as S3 reports it, and where its body is on disk."""

    bucket: str
    key: str
    size: int
    last_modified: float  # seconds since the epoch, UTC
    file: str  # the body's absolute path (a str: listings make many, Path is slow to build)
    etag: str | None = None  # hex MD5 (multipart: "<hex>-<parts>"), None until computed
    attributes: Mapping[str, Any] = field(default_factory=dict)

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def path(self) -> Path:
        return Path(self.file)


@dataclass(frozen=True)
class StagedFile:
    """A finished file on the store's filesystem that is to become `key`'s body."""

    path: Path
    key: str


def in_place_path(key: str) -> str | None:
    """The key as a relative path when it can be one, else None (the body goes aside)."""
    if not key or key.startswith("/") or key.endswith("/") or "\x00" in key:
        return None
    for segment in key.split("/"):
        if segment in ("", ".", "..") or segment.startswith(TEMP_PREFIX):
            return None
        if len(segment.encode("utf-8", "surrogateescape")) > _MAX_NAME_BYTES:
            return None
    return key


def md5_of_file(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        while block := handle.read(_COPY_CHUNK):
            digest.update(block)
    return digest.hexdigest()


class ObjectStore:
    """The objects of every bucket under `root`, safe to share between threads and processes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._root_text = str(root)
        root.mkdir(parents=True, exist_ok=True)
        # One connection, serialized by a lock: sqlite3 connections are not thread-safe.
        # Autocommit mode; writes open their own BEGIN IMMEDIATE, which also serializes
        # writers of other processes.
        self._db = sqlite3.connect(
            root / INDEX_FILE, isolation_level=None, check_same_thread=False, timeout=30
        )
        self._lock = threading.RLock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        self._remove_abandoned_staging()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- buckets -------------------------------------------------------------------------
    def buckets(self) -> list[StoredBucket]:
        with self._lock:
            rows = self._db.execute(
                "SELECT name, account_id, region, created FROM buckets ORDER BY name"
            ).fetchall()
        return [StoredBucket(*row) for row in rows]

    def bucket(self, name: str) -> StoredBucket | None:
        with self._lock:
            row = self._db.execute(
                "SELECT name, account_id, region, created FROM buckets WHERE name = ?", (name,)
            ).fetchone()
        return StoredBucket(*row) if row else None

    def create_bucket(self, name: str, account_id: str, region: str) -> StoredBucket:
        """Record a bucket (idempotent: an existing bucket keeps its objects)."""
        (self.root / name).mkdir(parents=True, exist_ok=True)
        with self._write() as db:
            db.execute(
                "INSERT OR IGNORE INTO buckets (name, account_id, region, created) "
                "VALUES (?, ?, ?, ?)",
                (name, account_id, region, time.time()),
            )
        stored = self.bucket(name)
        assert stored is not None
        return stored

    def delete_bucket(self, name: str) -> None:
        """Forget an empty bucket; S3 refuses to delete a bucket that holds objects."""
        with self._write() as db:
            if db.execute("SELECT 1 FROM objects WHERE bucket = ? LIMIT 1", (name,)).fetchone():
                raise ObjectStoreError(f"bucket {name} is not empty")
            db.execute("DELETE FROM buckets WHERE name = ?", (name,))
        for directory in (self.root / name, self.root / ASIDE_DIR / name):
            shutil.rmtree(directory, ignore_errors=True)

    def bucket_directory(self, bucket: str) -> Path:
        """Where the in-place bodies of a bucket's keys are: `<dir>/<key>`."""
        return self.root / bucket

    # -- reading -------------------------------------------------------------------------
    def _object(self, row: tuple[Any, ...]) -> StoredObject:
        bucket, key, path, size, etag, last_modified, attributes = row
        return StoredObject(
            bucket=bucket,
            key=key,
            size=size,
            last_modified=last_modified,
            file=f"{self._root_text}/{path}",
            etag=etag,
            attributes=json.loads(attributes) if attributes and attributes != "{}" else {},
        )

    _COLUMNS = "bucket, key, path, size, etag, last_modified, attributes"

    def get(self, bucket: str, key: str) -> StoredObject | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {self._COLUMNS} FROM objects WHERE bucket = ? AND key = ?",
                (bucket, key),
            ).fetchone()
        return self._object(row) if row else None

    def exists(self, bucket: str, key: str) -> bool:
        with self._lock:
            found = self._db.execute(
                "SELECT 1 FROM objects WHERE bucket = ? AND key = ?", (bucket, key)
            ).fetchone()
        return found is not None

    def count(self, bucket: str, prefix: str = "") -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT count(*) FROM objects WHERE bucket = ? AND key >= ? AND key < ?",
                (bucket, prefix, prefix + _AFTER_EVERY_KEY),
            ).fetchone()
        return int(row[0])

    def iterate(
        self, bucket: str, prefix: str = "", start_after: str = "", *, batch: int = _LIST_BATCH
    ) -> Iterator[StoredObject]:
        """Objects whose key starts with prefix and sorts after start_after, in key order
        (UTF-8 binary order, as S3 lists), read from the index in batches."""
        cursor = max(start_after, prefix) if start_after else prefix
        inclusive = not start_after or start_after < prefix
        end = prefix + _AFTER_EVERY_KEY
        while True:
            comparison = ">=" if inclusive else ">"
            with self._lock:
                rows = self._db.execute(
                    f"SELECT {self._COLUMNS} FROM objects WHERE bucket = ? AND key {comparison} ? "
                    "AND key < ? ORDER BY key LIMIT ?",
                    (bucket, cursor, end, batch),
                ).fetchall()
            for row in rows:
                yield self._object(row)
            if len(rows) < batch:
                return
            cursor, inclusive = rows[-1][1], False

    def list_prefix(self, bucket: str, prefix: str = "") -> list[StoredObject]:
        return list(self.iterate(bucket, prefix))

    def read(self, obj: StoredObject) -> bytes:
        try:
            return obj.path.read_bytes()
        except FileNotFoundError:
            raise ObjectStoreError(f"the body of {obj.uri} is missing: {obj.path}") from None

    def etag(self, obj: StoredObject) -> str:
        """The object's ETag (hex MD5), computed once from its file for files written in place."""
        if obj.etag is not None:
            return obj.etag
        etag = md5_of_file(obj.path)
        with self._lock:
            self._db.execute(
                "UPDATE objects SET etag = ? WHERE bucket = ? AND key = ? AND etag IS NULL "
                "AND last_modified = ? AND size = ?",
                (etag, obj.bucket, obj.key, obj.last_modified, obj.size),
            )
        return etag

    # -- writing -------------------------------------------------------------------------
    def _aside_path(self, bucket: str, key: str) -> Path:
        name = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()
        return self.root / ASIDE_DIR / bucket / name[:2] / name

    def _target(self, bucket: str, key: str) -> Path:
        """Where the key's body goes: in place unless the path is taken by a directory, or a
        parent on the way is a file (another key's body)."""
        relative = in_place_path(key)
        if relative is not None:
            target = self.root / bucket / relative
            if not target.is_dir():
                try:
                    target.parent.mkdir(parents=True, exist_ok=True)
                except (FileExistsError, NotADirectoryError):
                    pass
                else:
                    return target
        target = self._aside_path(bucket, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def _temporary(self, directory: Path) -> Path:
        return directory / f"{TEMP_PREFIX}{uuid.uuid4().hex}"

    def put_stream(
        self,
        bucket: str,
        key: str,
        body: IO[bytes],
        *,
        etag: str | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> StoredObject:
        """Store a body read from a file object (e.g. moto's spooled buffer); its ETag is the
        body's MD5 unless given (a multipart upload's)."""
        start = body.tell()
        for attempt in range(3):
            target = self._target(bucket, key)
            temporary = self._temporary(target.parent)
            digest = hashlib.md5(usedforsecurity=False)
            body.seek(start)
            try:
                with temporary.open("wb") as handle:
                    while block := body.read(_COPY_CHUNK):
                        digest.update(block)
                        handle.write(block)
            except FileNotFoundError:
                # A concurrent delete pruned the (then empty) directory: place it again.
                if attempt == 2:
                    raise
                continue
            return self._commit_one(
                bucket, key, temporary, target, etag or digest.hexdigest(), attributes
            )
        raise AssertionError("unreachable")

    def put_bytes(
        self,
        bucket: str,
        key: str,
        body: bytes,
        *,
        attributes: Mapping[str, Any] | None = None,
    ) -> StoredObject:
        return self.put_stream(bucket, key, io.BytesIO(body), attributes=attributes)

    def _commit_one(
        self,
        bucket: str,
        key: str,
        temporary: Path,
        target: Path,
        etag: str | None,
        attributes: Mapping[str, Any] | None,
    ) -> StoredObject:
        size = temporary.stat().st_size
        with self._write() as db:
            previous = db.execute(
                "SELECT path FROM objects WHERE bucket = ? AND key = ?", (bucket, key)
            ).fetchone()
            try:
                os.replace(temporary, target)
            except IsADirectoryError:
                # Another key made the path a directory meanwhile: this body goes aside.
                target = self._aside_path(bucket, key)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(temporary, target)
            stored = self._upsert(db, bucket, key, target, size, etag, attributes)
        if previous is not None and self.root / previous[0] != target:
            self._remove_body(bucket, self.root / previous[0])
        return stored

    def _upsert(
        self,
        db: sqlite3.Connection,
        bucket: str,
        key: str,
        path: Path,
        size: int,
        etag: str | None,
        attributes: Mapping[str, Any] | None,
    ) -> StoredObject:
        now = time.time()
        document = json.dumps(dict(attributes or {}), sort_keys=True, default=str)
        relative = path.relative_to(self.root).as_posix()
        db.execute(
            "INSERT INTO objects (bucket, key, path, size, etag, last_modified, attributes) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (bucket, key) DO UPDATE SET "
            "path = excluded.path, size = excluded.size, etag = excluded.etag, "
            "last_modified = excluded.last_modified, attributes = excluded.attributes",
            (bucket, key, relative, size, etag, now, document),
        )
        return StoredObject(bucket, key, size, now, str(path), etag, dict(attributes or {}))

    def commit_staged(
        self, bucket: str, files: Iterable[StagedFile], *, replacing: Iterable[str] = ()
    ) -> list[StoredObject]:
        """Make finished files the bodies of their keys by renaming them into place, and
        delete the `replacing` keys that are not among them, in one transaction: readers see
        all of it or none of it. The files must be on this store's filesystem (see
        `staging_directory`). ETags are computed when first asked for."""
        staged = list(files)
        new_keys = {item.key for item in staged}
        removed: list[Path] = []
        stored: list[StoredObject] = []
        with self._write() as db:
            for key in replacing:
                if key in new_keys:
                    continue
                row = db.execute(
                    "SELECT path FROM objects WHERE bucket = ? AND key = ?", (bucket, key)
                ).fetchone()
                if row is not None:
                    db.execute("DELETE FROM objects WHERE bucket = ? AND key = ?", (bucket, key))
                    removed.append(self.root / row[0])
            for item in staged:
                previous = db.execute(
                    "SELECT path FROM objects WHERE bucket = ? AND key = ?", (bucket, item.key)
                ).fetchone()
                size = item.path.stat().st_size
                target = self._target(bucket, item.key)
                try:
                    os.replace(item.path, target)
                except IsADirectoryError:
                    target = self._aside_path(bucket, item.key)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(item.path, target)
                stored.append(self._upsert(db, bucket, item.key, target, size, None, None))
                if previous is not None and self.root / previous[0] != target:
                    removed.append(self.root / previous[0])
        for path in removed:
            self._remove_body(bucket, path)
        return stored

    def set_attributes(
        self,
        bucket: str,
        key: str,
        attributes: Mapping[str, Any],
        written_at: float | None = None,
    ) -> None:
        """Replace an object's attributes; with `written_at` (the write's last_modified),
        only while the object is still that write's: a concurrent PUT of the same key that
        replaced it keeps its own (its checksum is of its own body)."""
        document = json.dumps(dict(attributes), sort_keys=True, default=str)
        query = "UPDATE objects SET attributes = ? WHERE bucket = ? AND key = ?"
        parameters: tuple[Any, ...] = (document, bucket, key)
        if written_at is not None:
            query += " AND last_modified = ?"
            parameters += (written_at,)
        with self._write() as db:
            db.execute(query, parameters)

    def delete(self, bucket: str, key: str) -> bool:
        """Delete one object; False when there was none."""
        with self._write() as db:
            row = db.execute(
                "SELECT path FROM objects WHERE bucket = ? AND key = ?", (bucket, key)
            ).fetchone()
            if row is None:
                return False
            db.execute("DELETE FROM objects WHERE bucket = ? AND key = ?", (bucket, key))
        self._remove_body(bucket, self.root / row[0])
        return True

    def _remove_body(self, bucket: str, path: Path) -> None:
        """Unlink a body and prune the directories it leaves empty (S3 has no empty
        directories, and an empty directory would block a key of the same name). Under the
        lock: a commit creates its target's directory and renames into it under it too."""
        with self._lock:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            stop = {self.root / bucket, self.root / ASIDE_DIR / bucket, self.root}
            directory = path.parent
            while directory not in stop and self.root in directory.parents:
                try:
                    directory.rmdir()
                except OSError:
                    return  # not empty (or gone): leave it
                directory = directory.parent

    @contextlib.contextmanager
    def staging_directory(self, purpose: str) -> Iterator[Path]:
        """A private directory on the store's filesystem for files about to be committed;
        removed with whatever was not committed."""
        directory = self.root / STAGING_DIR / f"{purpose}-{os.getpid()}-{uuid.uuid4().hex}"
        directory.mkdir(parents=True)
        try:
            yield directory
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    def _remove_abandoned_staging(self) -> None:
        """Staging directories of processes that ended without removing them (killed)."""
        staging = self.root / STAGING_DIR
        if not staging.is_dir():
            return
        for directory in staging.iterdir():
            parts = directory.name.split("-")
            if len(parts) < 3 or not parts[-2].isdigit():
                continue
            try:
                os.kill(int(parts[-2]), 0)
            except ProcessLookupError:
                shutil.rmtree(directory, ignore_errors=True)
            except PermissionError:
                pass  # alive, another user's

    def clear(self) -> None:
        """Forget every bucket and object (tests; `etl reset` removes the whole home)."""
        with self._write() as db:
            db.execute("DELETE FROM objects")
            db.execute("DELETE FROM buckets")
        for child in self.root.iterdir():
            if child.name.startswith(INDEX_FILE):
                continue
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
