"""What survives between `etl` invocations: the lake's objects and its Glue catalog.

moto keeps state in memory only. At exit the runtime snapshots, under $ETL_HOME:
- `s3/<bucket>/<key>`: every object of the pipeline's buckets, plus `s3/manifest.json`
  (size and ETag per key, so the next snapshot copies only what changed);
- `glue/<database>.json`: the tables and partitions of the pipeline's databases.
At start it restores them into the fresh server before anything runs, so two
invocations behave like two scheduled days in production.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import urllib.parse
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from etl_local.settings import LocalSettings

logger = logging.getLogger(__name__)

ClientFactory = Callable[[str], Any]

DEFAULT_HOME = Path(".local")
_MANIFEST = "manifest.json"
_TABLE_INPUT_FIELDS = (
    "Name",
    "Description",
    "Owner",
    "Retention",
    "StorageDescriptor",
    "PartitionKeys",
    "ViewOriginalText",
    "ViewExpandedText",
    "TableType",
    "Parameters",
)
_PARTITION_INPUT_FIELDS = ("Values", "StorageDescriptor", "Parameters")
_BATCH_PARTITIONS = 100  # BatchCreatePartition's limit
_TRANSFER_THREADS = 8

Manifest = dict[str, dict[str, dict[str, Any]]]


def etl_home(home: Path | None = None) -> Path:
    """$ETL_HOME, else `.local/` in the current directory."""
    if home is not None:
        return home
    return Path(os.environ.get("ETL_HOME") or DEFAULT_HOME)


def reset(home: Path | None = None) -> None:
    """Forget everything the local pipeline stored (lake objects, catalog, logs)."""
    path = etl_home(home)
    if path.exists():
        shutil.rmtree(path)


def _key_to_relative(key: str) -> str:
    # Keys may end in "/" (folder markers) or hold characters a file name should not.
    quoted = urllib.parse.quote(key, safe="/=-_.~")
    return quoted[:-1] + "%2F" if quoted.endswith("/") else quoted


def _relative_to_key(relative: str) -> str:
    return urllib.parse.unquote(relative)


class LocalState:
    def __init__(self, home: Path, settings: LocalSettings) -> None:
        self.home = home
        self._settings = settings

    @property
    def _s3_root(self) -> Path:
        return self.home / "s3"

    @property
    def _glue_root(self) -> Path:
        return self.home / "glue"

    def _read_manifest(self) -> Manifest:
        path = self._s3_root / _MANIFEST
        if not path.is_file():
            return {}
        manifest: Manifest = json.loads(path.read_text(encoding="utf-8"))
        return manifest

    # -- restore --------------------------------------------------------------------------
    def restore(self, clients: ClientFactory) -> int:
        """Load the snapshot into the (freshly deployed) server; returns objects uploaded."""
        s3 = clients("s3")
        manifest = self._read_manifest()
        uploads: list[tuple[str, str, Path]] = []
        for bucket, objects in manifest.items():
            if bucket not in self._settings.buckets:
                continue
            existing = {item["Key"]: item for item in _list_objects(s3, bucket)}
            for key, meta in objects.items():
                present = existing.get(key)
                if present and present["Size"] == meta["size"] and present["ETag"] == meta["etag"]:
                    continue
                uploads.append((bucket, key, self._s3_root / bucket / _key_to_relative(key)))
        with ThreadPoolExecutor(_TRANSFER_THREADS) as pool:
            list(pool.map(lambda item: s3.upload_file(str(item[2]), item[0], item[1]), uploads))
        glue = clients("glue")
        for database in self._settings.databases:
            path = self._glue_root / f"{database}.json"
            if path.is_file():
                _restore_database(glue, database, json.loads(path.read_text(encoding="utf-8")))
        logger.info("local state restored", extra={"objects": len(uploads), "home": str(self.home)})
        return len(uploads)

    # -- snapshot -------------------------------------------------------------------------
    def snapshot(self, clients: ClientFactory) -> int:
        """Save the server's lake and catalog; returns objects copied (unchanged ones are not)."""
        s3 = clients("s3")
        previous = self._read_manifest()
        manifest: Manifest = {}
        downloads: list[tuple[str, str, Path]] = []
        for bucket in self._settings.buckets:
            bucket_root = self._s3_root / bucket
            old = previous.get(bucket, {})
            current: dict[str, dict[str, Any]] = {}
            for item in _list_objects(s3, bucket):
                key = item["Key"]
                meta = {"size": item["Size"], "etag": item["ETag"]}
                current[key] = meta
                target = bucket_root / _key_to_relative(key)
                if old.get(key) != meta or not target.is_file():
                    downloads.append((bucket, key, target))
            for key in set(old) - set(current):
                (bucket_root / _key_to_relative(key)).unlink(missing_ok=True)
            manifest[bucket] = current

        def download(item: tuple[str, str, Path]) -> None:
            bucket, key, target = item
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, key, str(target))

        with ThreadPoolExecutor(_TRANSFER_THREADS) as pool:
            list(pool.map(download, downloads))
        self._s3_root.mkdir(parents=True, exist_ok=True)
        _write_json(self._s3_root / _MANIFEST, manifest)
        glue = clients("glue")
        self._glue_root.mkdir(parents=True, exist_ok=True)
        for database in self._settings.databases:
            _write_json(self._glue_root / f"{database}.json", _dump_database(glue, database))
        logger.info("local state saved", extra={"copied": len(downloads), "home": str(self.home)})
        return len(downloads)


def _write_json(path: Path, document: Any) -> None:
    # Write then rename: an interrupted snapshot never leaves half a file.
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(
        json.dumps(document, indent=1, sort_keys=True, default=str), encoding="utf-8"
    )
    temporary.replace(path)


def _list_objects(s3: Any, bucket: str) -> Iterator[dict[str, Any]]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        yield from page.get("Contents", [])


def _dump_database(glue: Any, database: str) -> dict[str, Any]:
    tables = []
    for page in glue.get_paginator("get_tables").paginate(DatabaseName=database):
        for table in page["TableList"]:
            partitions = [
                {f: p[f] for f in _PARTITION_INPUT_FIELDS if f in p}
                for part_page in glue.get_paginator("get_partitions").paginate(
                    DatabaseName=database, TableName=table["Name"]
                )
                for p in part_page["Partitions"]
            ]
            tables.append(
                {
                    "table": {f: table[f] for f in _TABLE_INPUT_FIELDS if f in table},
                    "partitions": partitions,
                }
            )
    return {"database": database, "tables": tables}


def _restore_database(glue: Any, database: str, document: dict[str, Any]) -> None:
    for entry in document.get("tables", []):
        table_input = entry["table"]
        name = table_input["Name"]
        try:
            glue.create_table(DatabaseName=database, TableInput=table_input)
        except glue.exceptions.AlreadyExistsException:
            glue.update_table(DatabaseName=database, TableInput=table_input)
        partitions = entry.get("partitions", [])
        for start in range(0, len(partitions), _BATCH_PARTITIONS):
            batch = partitions[start : start + _BATCH_PARTITIONS]
            response = glue.batch_create_partition(
                DatabaseName=database, TableName=name, PartitionInputList=batch
            )
            errors = [
                e
                for e in response.get("Errors", [])
                if e.get("ErrorDetail", {}).get("ErrorCode") != "AlreadyExistsException"
            ]
            if errors:
                raise RuntimeError(f"restoring partitions of {database}.{name}: {errors[0]}")
