"""The benchmark's start-up measures, on the measured lake and on a 30-day one.

- `etl query "SELECT count(*) FROM dwd.traffic_events"`: wall time from spawning the
  command to its exit (process start to answer, the answer printed);
- `etl run`: wall time from spawning it to the moment it sends StartExecution
  (etl_local.bench.startup_probe; the execution is not started, the lake is left as it was).

Generating and running 30 production-size days would take hours, so the 30-day lake is
synthesized from the measured one: a copy (files hard-linked, index and catalog copied) to
which the measured day's objects and catalog partitions are added again under each earlier
date (hard links again: the same bytes, under the keys and partitions a real history would
have), with the measured run's Athena result files. Its object count, file sizes and
partition count are those of a 30-day lake; its rows are the measured day's, repeated.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from etl_local.object_store import INDEX_FILE, ObjectStore, StagedFile
from etl_local.state import PARTITIONS_SUFFIX, catalog_root, object_store_root

COUNT_QUERY = "SELECT count(*) AS events FROM dwd.traffic_events"


@dataclass(frozen=True)
class LakeSize:
    days: int
    objects: int
    bytes: int
    partitions: int


@dataclass(frozen=True)
class Spread:
    median: float
    low: float
    high: float
    samples: int

    @staticmethod
    def of(values: list[float]) -> Spread:
        return Spread(
            round(statistics.median(values), 2), round(min(values), 2), round(max(values), 2),
            len(values),
        )  # fmt: skip


def lake_size(home: Path, days: int) -> LakeSize:
    store = ObjectStore(object_store_root(home))
    try:
        objects = total = 0
        for bucket in store.buckets():
            for obj in store.iterate(bucket.name):
                objects += 1
                total += obj.size
    finally:
        store.close()
    partitions = sum(
        len(json.loads(path.read_text("utf-8")))
        for path in catalog_root(home).glob(f"*/*{PARTITIONS_SUFFIX}")
    )
    return LakeSize(days, objects, total, partitions)


# -- a longer history ---------------------------------------------------------------------


def _date_path(day: date) -> str:
    return f"year={day:%Y}/month={day:%m}/day={day:%d}"


def copy_lake(source: Path, target: Path) -> None:
    """A copy of a home's lake and catalog whose object files are hard links."""
    shutil.rmtree(target, ignore_errors=True)
    source_root, target_root = object_store_root(source), object_store_root(target)
    target_root.mkdir(parents=True)
    with (
        sqlite3.connect(source_root / INDEX_FILE) as src,
        sqlite3.connect(target_root / INDEX_FILE) as dst,
    ):
        src.backup(dst)
    with sqlite3.connect(target_root / INDEX_FILE) as index:
        paths = [row[0] for row in index.execute("SELECT path FROM objects")]
    for relative in paths:
        (target_root / relative).parent.mkdir(parents=True, exist_ok=True)
        os.link(source_root / relative, target_root / relative)
    shutil.copytree(catalog_root(source), catalog_root(target))


def add_days_before(
    home: Path, measured: date, new_days: Iterable[date], results: Iterable[str]
) -> None:
    """Add the measured day's objects, partitions and result files under each new day."""
    store = ObjectStore(object_store_root(home))
    try:
        day_objects = {
            bucket.name: [o for o in store.iterate(bucket.name) if _date_path(measured) in o.key]
            for bucket in store.buckets()
        }
        result_objects = [o for o in (store.get(*split) for split in _split_all(results)) if o]
        for day in new_days:
            with store.staging_directory("history") as staging:
                for bucket, objects in day_objects.items():
                    staged = []
                    for n, obj in enumerate(objects):
                        link = staging / f"{bucket}-{n}"
                        os.link(obj.path, link)
                        key = obj.key.replace(_date_path(measured), _date_path(day))
                        staged.append(StagedFile(link, key))
                    store.commit_staged(bucket, staged)
                for n, obj in enumerate(result_objects):
                    link = staging / f"result-{n}"
                    os.link(obj.path, link)
                    key = re.sub(r"[0-9a-f-]{36}", str(uuid.uuid4()), obj.key)
                    store.commit_staged(obj.bucket, [StagedFile(link, key)])
    finally:
        store.close()
    for partitions_file in catalog_root(home).glob(f"*/*{PARTITIONS_SUFFIX}"):
        _add_partitions(partitions_file, measured, new_days)


def _split_all(uris: Iterable[str]) -> list[tuple[str, str]]:
    found = []
    for uri in uris:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        found.append((bucket, key))
    return found


def _add_partitions(partitions_file: Path, measured: date, new_days: Iterable[date]) -> None:
    partitions: list[dict[str, Any]] = json.loads(partitions_file.read_text("utf-8"))
    prefix = [f"{measured:%Y}", f"{measured:%m}", f"{measured:%d}"]
    measured_partitions = [p for p in partitions if p.get("Values", [])[:3] == prefix]
    for day in new_days:
        for partition in measured_partitions:
            values = [f"{day:%Y}", f"{day:%m}", f"{day:%d}", *partition["Values"][3:]]
            descriptor = dict(partition.get("StorageDescriptor") or {})
            descriptor["Location"] = str(descriptor.get("Location", "")).replace(
                _date_path(measured), _date_path(day)
            )
            partitions.append({**partition, "Values": values, "StorageDescriptor": descriptor})
    partitions_file.write_text(json.dumps(partitions, sort_keys=True, default=str), "utf-8")


# -- measuring --------------------------------------------------------------------------------


def _etl() -> list[str]:
    script = Path(sys.executable).with_name("etl")
    return [str(script)] if script.is_file() else [sys.executable, "-c", _CLI]


_CLI = "from etl_local.cli import command; command()"


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def query_seconds(home: Path) -> tuple[float, float, int]:
    """Wall and CPU seconds of `etl query` COUNT_QUERY, and the count it answered."""
    environment = {**os.environ, "ETL_HOME": str(home)}
    cpu = _children_cpu_seconds()
    started = time.time()
    done = subprocess.run(
        [*_etl(), "query", COUNT_QUERY, "--format", "json"],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = time.time() - started
    rows: list[dict[str, Any]] = json.loads(done.stdout)
    return seconds, _children_cpu_seconds() - cpu, int(rows[0]["events"])


def run_startup_seconds(home: Path, day: date) -> tuple[float, float]:
    """Wall seconds from spawning `etl run --date day` to its StartExecution, and the CPU
    seconds of the whole command (it ends there)."""
    environment = {**os.environ, "ETL_HOME": str(home)}
    command = [sys.executable, "-m", "etl_local.bench.startup_probe", "run", "--date", str(day)]
    cpu = _children_cpu_seconds()
    started = time.time()
    done = subprocess.run(
        [*command, "--json"], env=environment, capture_output=True, text=True, check=True
    )
    reached = json.loads(done.stdout.strip().splitlines()[-1])
    return float(reached["start_execution_at"]) - started, _children_cpu_seconds() - cpu


def measure(lakes: dict[str, tuple[Path, LakeSize]], day: date, repeats: int) -> dict[str, Any]:
    """Both measures on every lake, `repeats` times, alternating lakes (the machine's load
    changes over time: alternating spreads it over all of them alike). CPU seconds are
    reported beside wall seconds: on a shared machine they vary less with its load."""
    samples: dict[str, dict[str, list[float]]] = {
        name: {"query": [], "query_cpu": [], "run": [], "run_cpu": []} for name in lakes
    }
    counts: dict[str, int] = {}
    for _ in range(repeats):
        for name, (home, _size) in lakes.items():
            seconds, cpu, counts[name] = query_seconds(home)
            samples[name]["query"].append(seconds)
            samples[name]["query_cpu"].append(cpu)
            seconds, cpu = run_startup_seconds(home, day)
            samples[name]["run"].append(seconds)
            samples[name]["run_cpu"].append(cpu)
    return {
        name: {
            "lake": size.__dict__,
            "query_seconds": Spread.of(samples[name]["query"]).__dict__,
            "query_cpu_seconds": Spread.of(samples[name]["query_cpu"]).__dict__,
            "run_startup_seconds": Spread.of(samples[name]["run"]).__dict__,
            "run_command_cpu_seconds": Spread.of(samples[name]["run_cpu"]).__dict__,
            "count": counts[name],
        }
        for name, (_home, size) in lakes.items()
    }


def history_days(first_day: date, measured_days: int, total_days: int) -> list[date]:
    """The days to add before the measured ones for a history of total_days."""
    return [first_day - timedelta(days=n) for n in range(1, total_days - measured_days + 1)]
