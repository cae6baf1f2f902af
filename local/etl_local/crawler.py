"""The local Glue crawler: really crawls its S3 targets into moto's Glue catalog.

A crawl lists the objects under each S3 target, infers the schema (Parquet footers,
JSON lines by sampling, CSV with a header; the sampled files are read in place, as the
crawler's role, see etl_local.object_access; its catalog requests are authorized as that
role too, see CrawlerCatalog), creates or updates the table named after the
target folder (TablePrefix honoured) and adds its Hive partitions in batches. It honours
SchemaChangePolicy.UpdateBehavior (LOG keeps the catalog's schema) and
RecrawlPolicy (CRAWL_NEW_FOLDERS_ONLY reads only partitions the catalog lacks). The crawl
runs on a background thread; GetCrawler shows RUNNING, then READY with LastCrawl as Glue
reports it (SUCCEEDED, FAILED or CANCELLED).
"""

from __future__ import annotations

import csv
import fnmatch
import gzip
import io
import json
import logging
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from moto.glue.exceptions import CrawlerNotRunningException, CrawlerRunningException
from moto.glue.models import FakeCrawler, GlueBackend

from etl_local.athena.glue_catalog import PARTITION_BATCH, glue_resource_arns
from etl_local.athena.hive import (
    csv_storage_descriptor,
    json_storage_descriptor,
    parquet_storage_descriptor,
)
from etl_local.athena.objects import (
    as_folder,
    is_hidden,
    partition_values_of,
    split_uri,
)
from etl_local.object_access import Authorize, ObjectAccess, allow_all
from etl_local.object_store import ObjectStore, StoredObject

if TYPE_CHECKING:
    import pyarrow as pa

logger = logging.getLogger(__name__)

# Glue's LastCrawl.Status values (moto's fake crawl says COMPLETED, which Glue never does).
SUCCEEDED, FAILED, CANCELLED = "SUCCEEDED", "FAILED", "CANCELLED"
# Files whose schema is read per crawl and table; Glue samples too.
SCHEMA_SAMPLE_FILES = 50
JSON_SAMPLE_LINES = 1000


class CrawlError(Exception):
    """A crawl cannot catalogue what it found; the message becomes LastCrawl.ErrorMessage."""


class CrawlCancelled(Exception):
    """StopCrawler was called while the crawl ran."""


@dataclass
class CrawlRun:
    """One crawl of one crawler: what GetCrawler's State and LastCrawl report."""

    crawler_name: str
    crawl_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    start_time: datetime = field(default_factory=lambda: datetime.now(UTC))
    end_time: datetime | None = None
    status: str = "RUNNING"  # RUNNING until it ends SUCCEEDED | FAILED | CANCELLED
    error_message: str | None = None
    stop_requested: bool = False
    tables_created: int = 0
    tables_updated: int = 0
    partitions_created: int = 0
    thread: threading.Thread | None = None

    @property
    def crawler_state(self) -> str:
        if self.status != "RUNNING":
            return "READY"
        return "STOPPING" if self.stop_requested else "RUNNING"

    def last_crawl(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "Status": self.status if self.status != "RUNNING" else None,
            "LogGroup": "/aws-glue/crawlers",
            "LogStream": self.crawler_name,
            "MessagePrefix": self.crawl_id,
            "StartTime": self.start_time,
        }
        if self.error_message:
            info["ErrorMessage"] = self.error_message
        return {k: v for k, v in info.items() if v is not None}


@dataclass(frozen=True)
class _Column:
    name: str
    type: str


def _glue_name(text: str) -> str:
    """Glue's table naming: lower case, anything but letters, digits and '_' becomes '_'."""
    return re.sub(r"[^a-z0-9_]", "_", text.lower())


def _arrow_to_hive(arrow_type: pa.DataType) -> str:
    import pyarrow as pa  # only crawls of Parquet need it: `etl query` starts without

    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if pa.types.is_int8(arrow_type):
        return "tinyint"
    if pa.types.is_int16(arrow_type) or pa.types.is_uint8(arrow_type):
        return "smallint"
    if pa.types.is_int32(arrow_type) or pa.types.is_uint16(arrow_type):
        return "int"
    if pa.types.is_integer(arrow_type):
        return "bigint"
    if pa.types.is_float16(arrow_type) or pa.types.is_float32(arrow_type):
        return "float"
    if pa.types.is_floating(arrow_type):
        return "double"
    if pa.types.is_decimal(arrow_type):
        return f"decimal({arrow_type.precision},{arrow_type.scale})"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "string"
    if pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type):
        return "binary"
    if pa.types.is_date(arrow_type):
        return "date"
    if pa.types.is_timestamp(arrow_type):
        return "timestamp"
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return f"array<{_arrow_to_hive(arrow_type.value_type)}>"
    if pa.types.is_map(arrow_type):
        return f"map<{_arrow_to_hive(arrow_type.key_type)},{_arrow_to_hive(arrow_type.item_type)}>"
    if pa.types.is_struct(arrow_type):
        fields = ",".join(f"{f.name}:{_arrow_to_hive(f.type)}" for f in arrow_type)
        return f"struct<{fields}>"
    return "string"


def _json_to_hive(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "int" if -(2**31) <= value < 2**31 else "bigint"
    if isinstance(value, float):
        return "double"
    if isinstance(value, dict):
        fields = ",".join(
            f"{_glue_name(k)}:{_json_to_hive(v) or 'string'}" for k, v in value.items()
        )
        return f"struct<{fields}>"
    if isinstance(value, list):
        inner = next((t for t in (_json_to_hive(v) for v in value) if t), "string")
        return f"array<{inner}>"
    return "string"


def _widen(current: str | None, new: str | None) -> str | None:
    """Glue's merge of two observed types: int < bigint < double, anything else -> string."""
    if current is None or current == new:
        return new if current is None else current
    if new is None:
        return current
    order = ["int", "bigint", "double"]
    if current in order and new in order:
        return order[max(order.index(current), order.index(new))]
    return "string"


def _open_text(path: Path) -> IO[bytes]:
    """The file's bytes, decompressed when it is gzip."""
    with path.open("rb") as probe:
        compressed = probe.read(2) == b"\x1f\x8b"
    return cast(IO[bytes], gzip.open(path, "rb")) if compressed else path.open("rb")


def _classify(obj: StoredObject, path: Path) -> str:
    name = obj.key.lower()
    with path.open("rb") as handle:
        if handle.read(4) == b"PAR1" or name.endswith(".parquet"):
            return "parquet"
    with _open_text(path) as handle:
        stripped = handle.read(4096).lstrip()
    if stripped.startswith((b"{", b"[")) or ".json" in name:
        return "json"
    return "csv"


def _text_lines(path: Path, limit: int) -> list[str]:
    lines = []
    with _open_text(path) as handle:
        for raw in io.TextIOWrapper(handle, encoding="utf-8", errors="replace"):
            if raw.strip():
                lines.append(raw)
            if len(lines) >= limit:
                break
    return lines


def _infer(kind: str, paths: list[Path]) -> list[_Column]:
    order: dict[str, str | None] = {}
    if kind == "parquet":
        import pyarrow.parquet as pq

        for path in paths:
            for fld in pq.read_schema(path):
                name = _glue_name(fld.name)
                order[name] = _widen(order.get(name), _arrow_to_hive(fld.type))
    elif kind == "json":
        for path in paths:
            for line in _text_lines(path, JSON_SAMPLE_LINES):
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(record, dict):
                    for key, value in record.items():
                        name = _glue_name(key)
                        order[name] = _widen(order.get(name), _json_to_hive(value))
    else:
        for path in paths:
            rows = list(csv.reader(_text_lines(path, JSON_SAMPLE_LINES)))
            if not rows:
                continue
            header, data = rows[0], rows[1:]
            for index, column in enumerate(header):
                name = _glue_name(column)
                values = [r[index] for r in data if index < len(r) and r[index] != ""]
                order[name] = _widen(order.get(name), _csv_type(values))
    if not order:
        raise CrawlError(f"no schema could be inferred from the {kind} files")
    return [_Column(name, hive or "string") for name, hive in order.items()]


def _csv_type(values: list[str]) -> str | None:
    if not values:
        return None
    if all(re.fullmatch(r"[+-]?\d+", v) for v in values):
        return "bigint"
    try:
        [float(v) for v in values]
    except ValueError:
        return "string"
    return "double"


_DESCRIPTORS = {
    "parquet": parquet_storage_descriptor,
    "json": json_storage_descriptor,
    "csv": csv_storage_descriptor,
}


class CrawlerCatalog:
    """The crawler role's view of the Glue catalog: each call authorized first, as Glue
    authorizes the crawler's catalog requests with its role (on glue_resource_arns). A denial
    raises PermissionError: the crawl fails with Access Denied."""

    def __init__(self, backend: GlueBackend, role: str, authorize: Authorize) -> None:
        self._backend = backend
        self._role = role
        self._authorize = authorize
        self._arn = f"arn:aws:glue:{backend.region_name}:{backend.account_id}"

    def _require(self, action: str, database: str, table: str | None = None) -> None:
        for resource in glue_resource_arns(self._arn, database, table):
            self._authorize(self._role, action, resource, {})

    def database_exists(self, database: str) -> bool:
        self._require("glue:GetDatabase", database)
        return database in self._backend.databases

    def table(self, database: str, name: str) -> Any:
        """The table, or None when the database has none of that name."""
        self._require("glue:GetTable", database, name)
        if name not in self._backend.databases[database].tables:
            return None
        return self._backend.get_table(database, name)

    def partition_values(self, database: str, table: Any) -> set[str]:
        """The table's partitions, as Glue's keys (str of the values)."""
        self._require("glue:GetPartitions", database, table.name)
        return set(table.partitions)

    def create_table(self, database: str, table_input: dict[str, Any]) -> None:
        self._require("glue:CreateTable", database, table_input["Name"])
        self._backend.create_table(database, table_input["Name"], table_input)

    def update_table(self, database: str, table_input: dict[str, Any]) -> None:
        self._require("glue:UpdateTable", database, table_input["Name"])
        self._backend.update_table(database, table_input["Name"], table_input)

    def create_partitions(self, database: str, table: str, inputs: list[dict[str, Any]]) -> None:
        """One BatchCreatePartition call (at most PARTITION_BATCH partitions)."""
        self._require("glue:BatchCreatePartition", database, table)
        self._backend.batch_create_partition(database, table, inputs)


class LocalCrawler:
    """Runs crawls for moto's Glue backend; installed by `etl_local.moto_patches.install`.

    `authorize` is asked about every S3 access a crawl makes, as the crawler's role (see
    etl_local.object_access); a denied access fails the crawl. `inject_outcome` ("FAILED" or
    "CANCELLED") makes the next crawls end that way without
    touching the catalog (fault injection for the runtime). `hold`, when set to an Event,
    keeps every crawl RUNNING until the event is set (lets tests observe a running crawl).
    """

    def __init__(self, objects: ObjectStore, authorize: Authorize = allow_all) -> None:
        self._objects = objects
        self.authorize = authorize
        self.inject_outcome: str | None = None
        self.hold: threading.Event | None = None
        self._runs: dict[int, list[CrawlRun]] = {}
        self._lock = threading.Lock()

    # -- what the patched backend calls -------------------------------------------------

    def start(self, backend: GlueBackend, crawler: FakeCrawler) -> CrawlRun:
        with self._lock:
            last = self.last_run(crawler)
            if last is not None and last.status == "RUNNING":
                raise CrawlerRunningException(
                    f"Crawler with name {crawler.name} has already started"
                )
            run = CrawlRun(crawler.name)
            self._runs.setdefault(id(crawler), []).append(run)
        run.thread = threading.Thread(
            target=self._crawl,
            args=(backend, crawler, run),
            name=f"crawl-{crawler.name}",
            daemon=True,
        )
        run.thread.start()
        return run

    def stop(self, crawler: FakeCrawler) -> None:
        last = self.last_run(crawler)
        if last is None or last.status != "RUNNING":
            raise CrawlerNotRunningException(f"Crawler with name {crawler.name} isn't running")
        last.stop_requested = True

    def last_run(self, crawler: FakeCrawler) -> CrawlRun | None:
        runs = self._runs.get(id(crawler))
        return runs[-1] if runs else None

    def runs(self, crawler: FakeCrawler) -> list[CrawlRun]:
        return list(self._runs.get(id(crawler), []))

    def wait(self, crawler: FakeCrawler, timeout_seconds: float = 60.0) -> CrawlRun | None:
        run = self.last_run(crawler)
        if run is not None and run.thread is not None:
            run.thread.join(timeout_seconds)
        return run

    # -- the crawl ------------------------------------------------------------------------

    def _crawl(self, backend: GlueBackend, crawler: FakeCrawler, run: CrawlRun) -> None:
        try:
            if self.hold is not None:
                self.hold.wait()
            if self.inject_outcome in (FAILED, CANCELLED):
                raise (
                    CrawlError(
                        "Internal Service Exception (injected by the local runtime's fault "
                        f"crawler-{self.inject_outcome.lower()})"
                    )
                    if self.inject_outcome == FAILED
                    else CrawlCancelled()
                )
            # The crawler reads S3 with the permissions of its role.
            store = ObjectAccess(self._objects, crawler.role, self.authorize)
            catalog = CrawlerCatalog(backend, crawler.role, self.authorize)
            for target in (crawler.targets or {}).get("S3Targets") or []:
                self._check_stop(run)
                self._crawl_target(catalog, crawler, run, store, target)
            run.status = SUCCEEDED
        except CrawlCancelled:
            run.status = CANCELLED
        except CrawlError as error:
            run.status, run.error_message = FAILED, str(error)
        except PermissionError as error:  # the authorizer denied a request of the role
            run.status, run.error_message = FAILED, f"Access Denied: {error}"
        except Exception as error:  # a crawl failure must show in LastCrawl, not kill the server
            logger.exception("local crawl crashed", extra={"crawler": crawler.name})
            run.status, run.error_message = FAILED, f"Internal Service Exception: {error}"
        finally:
            run.end_time = datetime.now(UTC)
            logger.info(
                "local crawl ended",
                extra={"crawler": crawler.name, "status": run.status, "error": run.error_message},
            )

    @staticmethod
    def _check_stop(run: CrawlRun) -> None:
        if run.stop_requested:
            raise CrawlCancelled()

    def _crawl_target(
        self,
        catalog: CrawlerCatalog,
        crawler: FakeCrawler,
        run: CrawlRun,
        store: ObjectAccess,
        target: dict[str, Any],
    ) -> None:
        """One S3 target: list its partitions' files, infer the schema from a sample, create
        or update the table, then add the partitions the table does not have yet."""
        root = as_folder(target["Path"])
        table_name = _glue_name((crawler.table_prefix or "") + root.rstrip("/").rsplit("/", 1)[-1])
        database = crawler.database_name
        if not catalog.database_exists(database):
            raise CrawlError(f"Database {database} not found.")
        listing = _list_partitions(store, root, target.get("Exclusions") or [])
        if listing is None:
            return
        table = catalog.table(database, table_name)
        new_only = (crawler.recrawl_policy or {}).get("RecrawlBehavior") == "CRAWL_NEW_FOLDERS_ONLY"
        if table is not None and new_only:
            listing = listing.without(catalog.partition_values(database, table))
            if not listing.files:
                return
        table_input = self._table_input(crawler, run, store, root, table_name, listing)
        self._check_stop(run)
        descriptor = self._write_table(catalog, crawler, run, database, table, table_input)
        self._add_partitions(catalog, run, database, table_name, root, listing, descriptor)

    def _table_input(
        self,
        crawler: FakeCrawler,
        run: CrawlRun,
        store: ObjectAccess,
        root: str,
        table_name: str,
        listing: _Listing,
    ) -> dict[str, Any]:
        """The table as the crawler classifies it: format and columns from a sample of files."""
        all_files = [f for files in listing.files.values() for f in files]
        sample = {
            f.uri: (f, store.readable_path(f)) for f in _spread(all_files, SCHEMA_SAMPLE_FILES)
        }
        kinds = {_classify(f, path) for f, path in sample.values()}
        if len(kinds) > 1:
            raise CrawlError(f"mixed file formats under {root}: {sorted(kinds)}")
        kind = kinds.pop()
        self._check_stop(run)
        columns = _infer(kind, [path for _, path in sample.values()])
        column_dicts = [{"Name": c.name, "Type": c.type} for c in columns]
        compressed = any(f.key.endswith(".gz") for f in all_files)
        descriptor = _DESCRIPTORS[kind](column_dicts, root)
        descriptor["Compressed"] = compressed and kind != "parquet"
        parameters = {
            "classification": kind,
            "compressionType": "gzip" if compressed and kind != "parquet" else "none",
            "typeOfData": "file",
            "UPDATED_BY_CRAWLER": crawler.name,
            "CrawlerSchemaSerializerVersion": "1.0",
            "CrawlerSchemaDeserializerVersion": "1.0",
        }
        if kind == "csv":
            parameters["skip.header.line.count"] = "1"
        return {
            "Name": table_name,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": parameters,
            "StorageDescriptor": descriptor,
            "PartitionKeys": [{"Name": k, "Type": "string"} for k in listing.key_names],
        }

    @staticmethod
    def _write_table(
        catalog: CrawlerCatalog,
        crawler: FakeCrawler,
        run: CrawlRun,
        database: str,
        table: Any,
        table_input: dict[str, Any],
    ) -> dict[str, Any]:
        """Create the table, or update its schema as the schema change policy says; returns
        the storage descriptor new partitions get."""
        descriptor: dict[str, Any] = table_input["StorageDescriptor"]
        if table is None:
            catalog.create_table(database, table_input)
            run.tables_created += 1
            return descriptor
        update_in_database = (crawler.schema_change_policy or {}).get(
            "UpdateBehavior", "UPDATE_IN_DATABASE"
        ) == "UPDATE_IN_DATABASE"
        current = table.as_dict()
        old_columns = (current.get("StorageDescriptor") or {}).get("Columns") or []
        if update_in_database and old_columns != descriptor["Columns"]:
            catalog.update_table(database, table_input)
            run.tables_updated += 1
        elif not update_in_database:
            # LOG: the catalog keeps its schema; new partitions inherit the table's.
            descriptor = dict(current.get("StorageDescriptor") or descriptor)
        return descriptor

    def _add_partitions(
        self,
        catalog: CrawlerCatalog,
        run: CrawlRun,
        database: str,
        table_name: str,
        root: str,
        listing: _Listing,
        descriptor: dict[str, Any],
    ) -> None:
        """Register the partitions the table does not have, in batches as Glue takes them."""
        table = catalog.table(database, table_name)
        known = catalog.partition_values(database, table) if listing.key_names else set()
        inputs: list[dict[str, Any]] = []
        for partition in sorted(listing.files) if listing.key_names else []:
            values = [v for _, v in partition]
            if str(values) in known:
                continue
            location = f"{root}{listing.folders[partition]}/"
            inputs.append(
                {"Values": values, "StorageDescriptor": {**descriptor, "Location": location}}
            )
        for start in range(0, len(inputs), PARTITION_BATCH):
            self._check_stop(run)
            catalog.create_partitions(database, table_name, inputs[start : start + PARTITION_BATCH])
        run.partitions_created += len(inputs)


_PartitionPairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class _Listing:
    """A target's data files by partition (`key=value` folder pairs), with each partition's
    folder relative to the target and the partition keys they all share."""

    files: dict[_PartitionPairs, list[StoredObject]]
    folders: dict[_PartitionPairs, str]
    key_names: list[str]

    def without(self, known: set[str]) -> _Listing:
        """Only the partitions not in `known` (Glue's partition keys: str of the values)."""
        files = {
            pairs: files
            for pairs, files in self.files.items()
            if str([v for _, v in pairs]) not in known
        }
        return _Listing(files, self.folders, self.key_names)


def _list_partitions(store: ObjectAccess, root: str, exclusions: list[str]) -> _Listing | None:
    """The data files under `root` by partition folder; None when there are none."""
    _, prefix = split_uri(root)
    files_by_partition: dict[_PartitionPairs, list[StoredObject]] = {}
    folder_of: dict[_PartitionPairs, str] = {}
    for obj in store.list_folder(root, skip_hidden=False):
        relative = obj.key[len(prefix) :]
        if is_hidden(relative) or any(fnmatch.fnmatch(relative, p) for p in exclusions):
            continue
        folder = relative.rpartition("/")[0]
        found = partition_values_of(folder)
        if found is None:
            continue  # not under key=value folders: Glue would make it another table
        files_by_partition.setdefault(tuple(found), []).append(obj)
        folder_of[tuple(found)] = folder
    if not files_by_partition:
        return None
    layouts = {tuple(k for k, _ in pairs) for pairs in files_by_partition}
    if len(layouts) > 1:
        raise CrawlError(f"inconsistent partition folders under {root}: {sorted(layouts)}")
    return _Listing(files_by_partition, folder_of, list(next(iter(layouts))))


def _spread(items: list[StoredObject], count: int) -> list[StoredObject]:
    """At most `count` items spread evenly over the list (first and last included)."""
    if len(items) <= count:
        return items
    step = (len(items) - 1) / (count - 1)
    return [items[round(i * step)] for i in range(count)]
