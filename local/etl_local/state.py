"""What survives between `etl` invocations, under $ETL_HOME: the lake's objects and catalog.

- `s3/`: the object store (etl_local.object_store): a file per object and an index, written
  as each request is answered and read on demand; moto's S3 serves it (etl_local.s3_disk).
  Starting the runtime reads no object and copies nothing.
- `glue/<database>/<table>.json` and `<table>.partitions.json`: each table of the Glue
  catalog as Glue holds it (its TableInput; its partitions' PartitionInputs), rewritten
  whenever a call changes that table, before the call returns;
  `glue/<database>/_database.json` the DatabaseInput. At start the tables are created
  straight in moto's Glue backend (no API calls); a table's partitions are read from their
  file when the table's partitions are first used, so starting costs the same whatever the
  number of partitions.

So two invocations behave like two scheduled days in production, a process that dies keeps
everything it had answered, and a second process on the same $ETL_HOME (an `etl query`
during an `etl run`) reads the lake as it is. The layout of earlier versions (a snapshot
of every object copied in and out at each invocation) is converted once, in place.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import shutil
import threading
import urllib.parse
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moto.glue.models import FakePartition, GlueBackend

from etl_local.object_store import ObjectStore, StagedFile

logger = logging.getLogger(__name__)

DEFAULT_HOME = Path(".local")
DATABASE_FILE = "_database.json"
PARTITIONS_SUFFIX = ".partitions.json"
# Glue API calls that change one table (their first two parameters name it) ...
_TABLE_CHANGES = (
    "create_table",
    "update_table",
    "delete_table",
    "delete_table_version",
    "create_partition",
    "batch_create_partition",
    "update_partition",
    "batch_update_partition",
    "delete_partition",
    "batch_delete_partition",
)
# ... and those that change a database (the first names it).
_DATABASE_CHANGES = ("create_database", "update_database", "delete_database", "batch_delete_table")


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


def object_store_root(home: Path) -> Path:
    return home / "s3"


def catalog_root(home: Path) -> Path:
    return home / "glue"


def _file_name(name: str) -> str:
    return urllib.parse.quote(name, safe="") + ".json"


def _partitions_file_name(name: str) -> str:
    return urllib.parse.quote(name, safe="") + PARTITIONS_SUFFIX


class LazyPartitions(OrderedDict[str, FakePartition]):
    """`FakeTable.partitions`, filled from the table's partitions file on first use.

    Every mapping operation loads first, so moto, the local Athena and the crawler see a
    plain dict of FakePartitions."""

    def __init__(self, load: Callable[[], list[tuple[str, FakePartition]]]) -> None:
        self._pending: Callable[[], list[tuple[str, FakePartition]]] | None = load
        super().__init__()

    @property
    def loaded(self) -> bool:
        return self._pending is None

    def _load(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            for key, partition in pending():
                OrderedDict.__setitem__(self, key, partition)


def _loading(name: str) -> Callable[..., Any]:
    method = getattr(OrderedDict, name)

    def loaded_first(self: LazyPartitions, *args: Any, **kwargs: Any) -> Any:
        self._load()
        return method(self, *args, **kwargs)

    loaded_first.__name__ = name
    return loaded_first


for _name in (
    "__getitem__", "__setitem__", "__delitem__", "__contains__", "__iter__", "__len__",
    "__reversed__", "__eq__", "__repr__", "__or__", "__ior__", "keys", "values", "items",
    "get", "pop", "popitem", "setdefault", "update", "clear", "copy", "move_to_end",
):  # fmt: skip
    setattr(LazyPartitions, _name, _loading(_name))


def _write_json(path: Path, document: Any) -> None:
    # Write then rename: an interrupted write never leaves half a file.
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(document, sort_keys=True, default=str), encoding="utf-8")
    temporary.replace(path)


class CatalogFiles:
    """The Glue catalog of one account and region, one file per table."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.RLock()

    def _database_dir(self, database: str) -> Path:
        return self.root / urllib.parse.quote(database, safe="")

    # -- load -----------------------------------------------------------------------------
    def load(self, backend: GlueBackend) -> int:
        """Create the saved databases, tables and partitions in moto's backend; returns the
        number of tables."""
        self._convert_legacy_files()
        tables = 0
        if not self.root.is_dir():
            return 0
        for directory in sorted(p for p in self.root.iterdir() if p.is_dir()):
            database_file = directory / DATABASE_FILE
            if not database_file.is_file():
                continue
            database_input = json.loads(database_file.read_text(encoding="utf-8"))
            name = database_input["Name"]
            if name not in backend.databases:
                backend.create_database(name, database_input)
            for table_file in sorted(directory.glob("*.json")):
                if table_file.name == DATABASE_FILE or table_file.name.endswith(PARTITIONS_SUFFIX):
                    continue
                self._load_table(backend, name, table_file)
                tables += 1
        return tables

    @staticmethod
    def _load_table(backend: GlueBackend, database: str, table_file: Path) -> None:
        table_input = json.loads(table_file.read_text("utf-8"))["table"]
        name = table_input["Name"]
        if name in backend.databases[database].tables:
            backend.delete_table(database, name)
        table = backend.create_table(database, name, table_input)
        partitions_file = table_file.with_name(_partitions_file_name(name))

        def load() -> list[tuple[str, FakePartition]]:
            if not partitions_file.is_file():
                return []
            inputs = json.loads(partitions_file.read_text("utf-8"))
            partitions = [FakePartition(database, name, p) for p in inputs]
            return [(str(p.values), p) for p in partitions]

        table.partitions = LazyPartitions(load)

    def _convert_legacy_files(self) -> None:
        """Earlier versions kept one `glue/<database>.json` with every table."""
        if not self.root.is_dir():
            return
        for legacy in sorted(self.root.glob("*.json")):
            document = json.loads(legacy.read_text(encoding="utf-8"))
            database = document["database"]
            directory = self._database_dir(database)
            directory.mkdir(parents=True, exist_ok=True)
            _write_json(directory / DATABASE_FILE, {"Name": database})
            for entry in document.get("tables", []):
                name = entry["table"]["Name"]
                _write_json(directory / _file_name(name), {"table": entry["table"]})
                _write_json(directory / _partitions_file_name(name), entry.get("partitions", []))
            legacy.unlink()

    # -- save -----------------------------------------------------------------------------
    def save_table(self, backend: GlueBackend, database: str, table: str) -> None:
        """Write the table's files (its partitions only when they were used: partitions
        never loaded are unchanged), or remove them when the table is gone."""
        with self._lock:
            directory = self._database_dir(database)
            path = directory / _file_name(table)
            partitions_path = directory / _partitions_file_name(table)
            db = backend.databases.get(database)
            if db is None or table not in db.tables:
                path.unlink(missing_ok=True)
                partitions_path.unlink(missing_ok=True)
                return
            fake = db.tables[table]
            directory.mkdir(parents=True, exist_ok=True)
            _write_json(path, {"table": fake.get_version(str(fake._current_version))})
            partitions = fake.partitions
            if not isinstance(partitions, LazyPartitions) or partitions.loaded:
                inputs = [p.partition_input for p in list(partitions.values())]
                _write_json(partitions_path, inputs)

    def save_database(self, backend: GlueBackend, database: str) -> None:
        with self._lock:
            directory = self._database_dir(database)
            db = backend.databases.get(database)
            if db is None:
                shutil.rmtree(directory, ignore_errors=True)
                return
            directory.mkdir(parents=True, exist_ok=True)
            _write_json(directory / DATABASE_FILE, {**db.input, "Name": database})
            kept = {DATABASE_FILE}
            for table in list(db.tables):
                self.save_table(backend, database, table)
                kept.update((_file_name(table), _partitions_file_name(table)))
            for stale in directory.glob("*.json"):
                if stale.name not in kept:
                    stale.unlink()


@dataclass
class CatalogPersistence:
    """Installed write-through: every Glue call that changes a table saves it before it
    returns. `uninstall` puts moto's methods back."""

    files: CatalogFiles
    backend: GlueBackend
    _undo: list[Callable[[], None]] = field(default_factory=list)

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()


def persist_catalog(files: CatalogFiles, backend: GlueBackend) -> CatalogPersistence:
    """Load the saved catalog into `backend`, then save every change made to it."""
    files.load(backend)
    installed = CatalogPersistence(files, backend)
    lock = threading.RLock()

    def wrap(name: str, database_only: bool) -> None:
        original = GlueBackend.__dict__[name]
        signature = inspect.signature(original)

        def changed(self: GlueBackend, *args: Any, **kwargs: Any) -> Any:
            with lock:
                try:
                    return original(self, *args, **kwargs)
                finally:
                    if self is backend:
                        bound = signature.bind(self, *args, **kwargs).arguments
                        names = [v for k, v in bound.items() if k != "self"]
                        if database_only:
                            files.save_database(backend, names[0])
                        else:
                            files.save_table(backend, names[0], names[1])

        setattr(GlueBackend, name, changed)
        installed._undo.append(lambda: setattr(GlueBackend, name, original))

    for name in _TABLE_CHANGES:
        wrap(name, database_only=False)
    for name in _DATABASE_CHANGES:
        wrap(name, database_only=True)
    return installed


def convert_legacy_snapshot(store: ObjectStore, account_id: str, region: str) -> int:
    """Adopt the objects of an earlier version's snapshot (`s3/manifest.json` and a copy of
    every object under a quoted path) into the store, in place; returns how many."""
    manifest_path = store.root / "manifest.json"
    if not manifest_path.is_file():
        return 0
    manifest: dict[str, dict[str, dict[str, Any]]] = json.loads(
        manifest_path.read_text(encoding="utf-8")
    )
    adopted = 0
    with store.staging_directory("legacy") as staging:
        for bucket, objects in manifest.items():
            store.create_bucket(bucket, account_id, region)
            staged = []
            for index, key in enumerate(sorted(objects)):
                old = store.root / bucket / _legacy_relative(key)
                if not old.is_file():
                    continue
                moved = staging / f"{bucket}-{index}"
                os.replace(old, moved)  # out of the tree first: an old name may be a new one
                staged.append(StagedFile(moved, key))
            adopted += len(store.commit_staged(bucket, staged))
    manifest_path.unlink()
    logger.info("converted the previous local state", extra={"objects": adopted})
    return adopted


def _legacy_relative(key: str) -> str:
    quoted = urllib.parse.quote(key, safe="/=-_.~")
    return quoted[:-1] + "%2F" if quoted.endswith("/") else quoted
