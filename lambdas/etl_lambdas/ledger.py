"""The ledger: what the Glue job converted, and which days of each source are settled.

Durable state in the curated bucket, beside each source's ODS data, from which every step
converges (docs/contracts.md, "The ledger"); nothing in it is a hand-off that a retry of a
step could overwrite:

- `ods/<source>/_ledger/runs/<run_id>.json`, written by the Glue job: the entry of one run,
  every ODS partition the run converted, the raw files that were new to it and what they held
  (well-formed events by local event day, malformed lines per file). It is written after the
  partitions' data and before their `_SOURCES` records, and a retry of the run writes it
  again, whole; so every converted partition is named by some entry.
- `ods/<source>/_ledger/settled.json`, written by the finish step of a successful run of every
  model: for each event day, the last run that settled it (published it, or reported it as
  too old to restate, or as dated after the run). A day of an entry is open while the entry's
  run is later than the run that settled the day: it received events since it was published.

Register registers the partitions of every entry (the catalogue may lack any of them);
restate takes the open days; finish settles the run's days and deletes the entries whose
days are all settled. Run ids sort by the time their execution started, and one run holds the
pipeline at a time, so "later run" is a string comparison.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from botocore.exceptions import ClientError

from etl_lambdas.aws import error_code, throttling_as_retryable
from etl_lambdas.errors import LedgerError
from etl_lambdas.naming import ledger_runs_prefix, settled_key

DELETE_BATCH = 1000  # S3 DeleteObjects takes at most 1000 keys
LEDGER_VERSION = 1


@dataclass(frozen=True)
class ConvertedPartition:
    """One partition as one run converted it (an item of an entry's `partitions`)."""

    values: tuple[str, ...]
    location: str
    new_files: frozenset[str]
    event_days: Mapping[date, int]
    unparsable_event_times: int
    malformed_lines: int
    malformed_files: Mapping[str, int]
    has_rows: bool

    @property
    def new_events(self) -> int:
        return sum(self.event_days.values()) + self.unparsable_event_times


@dataclass(frozen=True)
class LedgerEntry:
    key: str
    source: str
    run_id: str
    ods_table: str
    partition_keys: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]  # (name, Hive type), in the table's order
    partitions: tuple[ConvertedPartition, ...]


@dataclass(frozen=True)
class Conversion:
    """A partition converted by a run, once: what the readers of the ledger work from."""

    source: str
    run_id: str
    partition: ConvertedPartition


# -- reading entries -----------------------------------------------------------------------------


def _field(document: Mapping[str, Any], name: str, kind: type, where: str) -> Any:
    value = document.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise LedgerError(f"{where}: field {name!r} is {value!r}, expected {kind.__name__}")
    return value


def _counts(value: object, where: str, label: str) -> dict[str, int]:
    if not isinstance(value, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value.values()
    ):
        raise LedgerError(f"{where}: {label} {value!r} must map names to counts")
    return {str(k): int(v) for k, v in value.items()}


def _partition(item: object, keys: tuple[str, ...], where: str) -> ConvertedPartition:
    if not isinstance(item, dict):
        raise LedgerError(f"{where}: partition {item!r} is not an object")
    values = item.get("values")
    if not isinstance(values, list) or len(values) != len(keys):
        raise LedgerError(f"{where}: partition {item!r} does not match {list(keys)}")
    new_files = _field(item, "new_files", list, where)
    event_days: dict[date, int] = {}
    for day, count in _counts(item.get("event_days"), where, "event_days").items():
        try:
            event_days[date.fromisoformat(day)] = count
        except ValueError:
            raise LedgerError(f"{where}: event day {day!r} is not a date") from None
    return ConvertedPartition(
        values=tuple(str(v) for v in values),
        location=_field(item, "location", str, where),
        new_files=frozenset(str(name) for name in new_files),
        event_days=event_days,
        unparsable_event_times=_field(item, "unparsable_event_times", int, where),
        malformed_lines=_field(item, "malformed_lines", int, where),
        malformed_files=_counts(item.get("malformed_files"), where, "malformed_files"),
        has_rows=_field(item, "has_rows", bool, where),
    )


def parse_entry(key: str, body: bytes) -> LedgerEntry:
    """An entry, validated; LedgerError names the object and what is wrong with it."""
    where = f"ledger entry {key}"
    try:
        document = json.loads(body)
    except ValueError as error:
        raise LedgerError(f"{where} is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise LedgerError(f"{where} is not a JSON object")
    if document.get("ledger") != LEDGER_VERSION:
        raise LedgerError(f"{where}: ledger version {document.get('ledger')!r}, expected 1")
    keys = tuple(str(k) for k in _field(document, "partition_keys", list, where))
    columns = []
    for column in _field(document, "columns", list, where):
        if not isinstance(column, dict) or not {"name", "type"} <= set(column):
            raise LedgerError(f"{where}: column {column!r} needs a name and a type")
        columns.append((str(column["name"]), str(column["type"])))
    return LedgerEntry(
        key=key,
        source=_field(document, "source", str, where),
        run_id=_field(document, "run_id", str, where),
        ods_table=_field(document, "ods_table", str, where),
        partition_keys=keys,
        columns=tuple(columns),
        partitions=tuple(
            _partition(item, keys, where) for item in _field(document, "partitions", list, where)
        ),
    )


def _entry_keys(s3: Any, bucket: str, source: str) -> Iterator[str]:
    with throttling_as_retryable():
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=ledger_runs_prefix(source)
        )
        for page in pages:
            for item in page.get("Contents", []):
                if item["Key"].endswith(".json"):
                    yield item["Key"]


def read_entries(s3: Any, bucket: str, sources: Iterable[str]) -> list[LedgerEntry]:
    """Every entry of the sources, oldest run first."""
    entries = []
    for source in sources:
        for key in _entry_keys(s3, bucket, source):
            with throttling_as_retryable():
                body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            entry = parse_entry(key, body)
            if entry.source != source:
                raise LedgerError(f"ledger entry {key} is of source {entry.source!r}")
            entries.append(entry)
    return sorted(entries, key=lambda entry: (entry.run_id, entry.source))


def conversions(entries: Iterable[LedgerEntry]) -> list[Conversion]:
    """Each conversion once. A run that stopped after writing its entry but before a
    partition's record leaves that partition to be converted again, by its retry (the entry
    is then written again, whole) or by a later run, whose entry names the same new files
    and more: of two conversions of a partition, one whose new files are among the other's
    is the same conversion, and the later one is kept."""
    by_partition: dict[tuple[str, tuple[str, ...]], list[Conversion]] = {}
    for entry in sorted(entries, key=lambda e: e.run_id):
        for partition in entry.partitions:
            found = Conversion(entry.source, entry.run_id, partition)
            kept = by_partition.setdefault((entry.source, partition.values), [])
            kept[:] = [c for c in kept if not c.partition.new_files <= partition.new_files]
            if not any(partition.new_files < c.partition.new_files for c in kept):
                kept.append(found)
    return [c for key in sorted(by_partition) for c in by_partition[key]]


# -- settled days ---------------------------------------------------------------------------------


@dataclass
class Settled:
    """A source's settled days: day -> the last run that settled it."""

    source: str
    days: dict[date, str] = field(default_factory=dict)

    def is_open(self, day: date, converted_by: str) -> bool:
        """Whether the day received events (converted by `converted_by`) since it was
        settled: the converting run is later than the settling one."""
        return self.days.get(day, "") < converted_by

    def last_day(self, before: date) -> date | None:
        """The last settled day before `before` (days settled as events dated in the future
        are no sign of a run having published up to them)."""
        return max((day for day in self.days if day < before), default=None)

    def as_json(self) -> str:
        days = {day.isoformat(): run for day, run in sorted(self.days.items())}
        return json.dumps({"ledger": LEDGER_VERSION, "source": self.source, "days": days}) + "\n"


def read_settled(s3: Any, bucket: str, source: str) -> Settled:
    """The source's settled days; none before its first successful run. Looked for by a
    listing first: S3 answers a GET of a missing key 403, not 404, to a caller without
    s3:ListBucket on the whole bucket ("GetObject", S3 API Reference), and the steps may list
    the ledger's prefixes only."""
    key = settled_key(source)
    with throttling_as_retryable():
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1).get("Contents", [])
    if not any(item["Key"] == key for item in listed):
        return Settled(source)
    try:
        with throttling_as_retryable():
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        if error_code(error) == "NoSuchKey":  # deleted since it was listed
            return Settled(source)
        raise
    where = f"ledger object {key}"
    try:
        document = json.loads(body)
        days = {date.fromisoformat(day): str(run) for day, run in document["days"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise LedgerError(f"{where} is unreadable: {error!r}") from None
    return Settled(source, days)


def write_settled(s3: Any, bucket: str, settled: Settled) -> None:
    with throttling_as_retryable():
        s3.put_object(
            Bucket=bucket,
            Key=settled_key(settled.source),
            Body=settled.as_json().encode(),
            ContentType="application/json",
        )


def settle(settled: Settled, days: Iterable[date], run_id: str) -> Settled:
    """The days settled by `run_id` (a day settled by a later run stays so)."""
    updated = dict(settled.days)
    for day in days:
        if updated.get(day, "") < run_id:
            updated[day] = run_id
    return Settled(settled.source, updated)


def settled_entries(entries: Iterable[LedgerEntry], settled: Mapping[str, Settled]) -> list[str]:
    """The keys of the entries whose every event day is settled since their run: nothing in
    them is open any more (their partitions were registered before any run settled a day)."""
    keys = []
    for entry in entries:
        days = {day for partition in entry.partitions for day in partition.event_days}
        marks = settled.get(entry.source) or Settled(entry.source)
        if all(not marks.is_open(day, entry.run_id) for day in days):
            keys.append(entry.key)
    return keys


def delete_entries(s3: Any, bucket: str, keys: list[str]) -> int:
    """Delete settled entries (ledger keys only); returns how many."""
    own = [key for key in keys if "/_ledger/runs/" in key and key.startswith("ods/")]
    for start in range(0, len(own), DELETE_BATCH):
        batch = own[start : start + DELETE_BATCH]
        with throttling_as_retryable():
            response = s3.delete_objects(
                Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
            )
        if response.get("Errors"):
            first = response["Errors"][0]
            raise LedgerError(
                f"could not delete {len(response['Errors'])} ledger entr(ies), e.g. "
                f"{first.get('Key')}: {first.get('Code')} {first.get('Message')}"
            )
    return len(own)


# -- what a run converted ------------------------------------------------------------------------


# Files named per source in a run's intake (the ones with the most malformed lines): the rest
# are counted; a state's payload stays small whatever the data (Step Functions: 256 KiB).
MAX_REPORTED_FILES = 20


def intake(
    found: Iterable[Conversion], run_id: str, sources: Iterable[str]
) -> list[dict[str, Any]]:
    """Per declared source, what the run's conversion took in: partitions converted, new
    events, malformed lines dropped (per file: the files with the most of them), events
    whose time could not be parsed."""
    rows: dict[str, dict[str, Any]] = {
        source: {
            "source": source,
            "partitions_converted": 0,
            "new_events": 0,
            "malformed_lines": 0,
            "malformed_files": [],
            "unparsable_event_times": 0,
        }
        for source in sources
    }
    for conversion in found:
        if conversion.run_id != run_id or conversion.source not in rows:
            continue
        row, partition = rows[conversion.source], conversion.partition
        row["partitions_converted"] += 1
        row["new_events"] += partition.new_events
        row["malformed_lines"] += partition.malformed_lines
        row["unparsable_event_times"] += partition.unparsable_event_times
        row["malformed_files"].extend(
            {"partition": partition.location, "file": name, "lines": lines}
            for name, lines in sorted(partition.malformed_files.items())
        )
    for row in rows.values():
        files = sorted(
            row["malformed_files"], key=lambda f: (-f["lines"], f["partition"], f["file"])
        )
        row["malformed_files"] = files[:MAX_REPORTED_FILES]
        row["malformed_files_not_named"] = len(files[MAX_REPORTED_FILES:])
    return list(rows.values())
