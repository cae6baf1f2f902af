"""Whether the ODS already holds every raw file of an arrival window: then a run with a
selection skips the Glue job (README, "Running locally": the edit-run loop).

Derived from durable state only, with the Glue job's own rule (glue/convert_raw.py,
`plan_source`): each converted ODS partition keeps a `_SOURCES` record of the raw files it
was made from (name and size; Firehose never rewrites an object, a new delivery is a new
name). An arrival partition is current when its record lists exactly the raw files now in
it, and says it was converted by this version of the job under the declared columns (else
the job converts it again: a source's column added or retyped, a new version of the job); a
raw file the record lacks arrived after the conversion. A partition without raw files has
nothing to convert.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from etl_lambdas.aws import throttling_as_retryable
from etl_lambdas.planning import DateRange
from etl_lambdas.sources import GLUE_CONVERTER_VERSION, Source

# The record the Glue job writes in every converted ODS partition (glue/convert_raw.py).
SOURCES_RECORD = "_SOURCES"
_READERS = 16

RawFiles = frozenset[tuple[str, int]]
# What makes a partition current: its raw files, the converter's version, the ODS columns.
Conversion = tuple[RawFiles, str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class OdsState:
    """Per source, the arrival partitions whose raw files the ODS does not hold yet."""

    stale: dict[str, list[str]] = field(default_factory=dict)
    partitions_with_raw_data: int = 0

    @property
    def current(self) -> bool:
        """Nothing to convert, and something was converted (with no raw data at all, the
        Glue job is the one that says so)."""
        return not any(self.stale.values()) and self.partitions_with_raw_data > 0

    def as_dict(self) -> dict[str, object]:
        return {
            "current": self.current,
            "partitions_with_raw_data": self.partitions_with_raw_data,
            "stale_partitions": {name: len(parts) for name, parts in self.stale.items() if parts},
        }


def ods_state(
    s3: Any,
    *,
    raw_bucket: str,
    curated_bucket: str,
    sources: Iterable[Source],
    arrival: DateRange,
) -> OdsState:
    """Compare each source's raw arrival partitions in the window with their records."""
    stale: dict[str, list[str]] = {}
    with_data = 0
    # A day's window has 72 hourly partitions per source: their records are read side by
    # side (boto3 clients are thread-safe), not one request after another.
    with ThreadPoolExecutor(max_workers=_READERS) as readers:
        for source in sources:
            raw = _raw_files(s3, raw_bucket, source, arrival)
            records = _records(s3, curated_bucket, source, arrival)
            with_data += len(raw)
            keys = {
                folder: f"{source.ods_prefix}{folder}{SOURCES_RECORD}"
                for folder in raw
                if folder in records
            }
            read = readers.map(lambda key: _recorded(s3, curated_bucket, key), keys.values())
            recorded = dict(zip(keys, read, strict=True))
            declared = (
                GLUE_CONVERTER_VERSION,
                _columns((c.name, c.type) for c in source.ods_columns),
            )
            stale[source.name] = [
                folder
                for folder, files in sorted(raw.items())
                if recorded.get(folder) != (files, *declared)
            ]
    return OdsState(stale, with_data)


def _day_prefixes(arrival: DateRange) -> list[str]:
    days = [
        arrival.start + timedelta(days=n) for n in range((arrival.end - arrival.start).days + 1)
    ]
    return [f"year={day:%Y}/month={day:%m}/day={day:%d}/" for day in days]


def _raw_files(s3: Any, bucket: str, source: Source, arrival: DateRange) -> dict[str, RawFiles]:
    """Arrival partition folder (relative to the raw prefix) -> its raw data files, as the
    Glue job lists them: the files directly in the folder, hidden `.`/`_` files left out."""
    depth = len(source.partition_keys)
    found: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for day in _day_prefixes(arrival):
        for item in _list(s3, bucket, f"{source.raw_prefix}{day}"):
            relative = item["Key"][len(source.raw_prefix) :]
            *folders, name = relative.split("/")
            if len(folders) != depth or not name or name.startswith((".", "_")):
                continue
            found["/".join(folders) + "/"].add((name, int(item["Size"])))
    return {folder: frozenset(files) for folder, files in found.items()}


def _records(s3: Any, bucket: str, source: Source, arrival: DateRange) -> set[str]:
    """The ODS partition folders (relative to the table's prefix) that hold a record."""
    folders = set()
    for day in _day_prefixes(arrival):
        for item in _list(s3, bucket, f"{source.ods_prefix}{day}"):
            relative = item["Key"][len(source.ods_prefix) :]
            if relative.endswith(f"/{SOURCES_RECORD}"):
                folders.add(relative[: -len(SOURCES_RECORD)])
    return folders


def _recorded(s3: Any, bucket: str, key: str) -> Conversion | None:
    """What a `_SOURCES` record says converted its partition: the raw files, the converter's
    version and the ODS columns; None when it cannot be read as one."""
    with throttling_as_retryable():
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    try:
        record = json.loads(body)
        files = frozenset((str(f["name"]), int(f["size"])) for f in record["files"])
        columns = _columns((c["name"], c["type"]) for c in record.get("columns") or [])
        return files, str(record.get("converter")), columns
    except (ValueError, TypeError, KeyError):
        return None


def _columns(columns: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """(name, Hive type) as the job and the declaration each write it: decimal(10, 2) is
    Spark's decimal(10,2)."""
    return tuple((str(name), str(kind).replace(" ", "").lower()) for name, kind in columns)


def _list(s3: Any, bucket: str, prefix: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    with throttling_as_retryable():
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            items.extend(page.get("Contents", []))
    return items
