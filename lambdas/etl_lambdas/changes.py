"""The Glue job's change reports: what each conversion wrote and which event days it touched.

For every run the Glue job writes, per declared source, `changes/<run_id>/<source>.json` in
the artifacts bucket (docs/contracts.md, "Change reports"). A report stays there until a
run that restated every model succeeds: reports of failed runs are read again by the next
run, so neither an ODS partition to register nor a late day to restate is ever lost.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from etl_lambdas.aws import throttling_as_retryable
from etl_lambdas.errors import RegisterFailed
from etl_lambdas.naming import changes_prefix

DELETE_BATCH = 1000  # S3 DeleteObjects takes at most 1000 keys


@dataclass(frozen=True)
class OdsPartition:
    values: tuple[str, ...]
    location: str


@dataclass(frozen=True)
class ChangeReport:
    key: str
    source: str
    run_id: str
    ods_table: str
    partition_keys: tuple[str, ...]
    partitions: tuple[OdsPartition, ...]
    columns: tuple[tuple[str, str], ...]  # (name, Hive type), in the table's order
    event_days: Mapping[date, int]
    events: int
    malformed_lines: int
    unparsable_event_times: int


def _field(document: Mapping[str, Any], name: str, kind: type, where: str) -> Any:
    value = document.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise RegisterFailed(f"{where}: field {name!r} is {value!r}, expected {kind.__name__}")
    return value


def parse_report(key: str, body: bytes) -> ChangeReport:
    """A report, validated; RegisterFailed names what is wrong with it."""
    where = f"change report {key}"
    try:
        document = json.loads(body)
    except ValueError as error:
        raise RegisterFailed(f"{where} is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise RegisterFailed(f"{where} is not a JSON object")
    keys = tuple(_field(document, "partition_keys", list, where))
    partitions = []
    for item in _field(document, "partitions", list, where):
        values = item.get("values") if isinstance(item, dict) else None
        location = item.get("location") if isinstance(item, dict) else None
        if (
            not isinstance(values, list)
            or len(values) != len(keys)
            or not isinstance(location, str)
        ):
            raise RegisterFailed(f"{where}: partition {item!r} does not match {list(keys)}")
        partitions.append(OdsPartition(tuple(str(v) for v in values), location))
    columns = []
    for column in _field(document, "columns", list, where):
        if not isinstance(column, dict) or not {"name", "type"} <= set(column):
            raise RegisterFailed(f"{where}: column {column!r} needs a name and a type")
        columns.append((str(column["name"]), str(column["type"])))
    event_days: dict[date, int] = {}
    for day, count in _field(document, "event_days", dict, where).items():
        try:
            event_days[date.fromisoformat(day)] = int(count)
        except (TypeError, ValueError):
            raise RegisterFailed(f"{where}: event day {day!r}: {count!r}") from None
    return ChangeReport(
        key=key,
        source=_field(document, "source", str, where),
        run_id=_field(document, "run_id", str, where),
        ods_table=_field(document, "ods_table", str, where),
        partition_keys=keys,
        partitions=tuple(partitions),
        columns=tuple(columns),
        event_days=event_days,
        events=_field(document, "events", int, where),
        malformed_lines=_field(document, "malformed_lines", int, where),
        unparsable_event_times=int(document.get("unparsable_event_times", 0)),
    )


def _report_keys(s3: Any, bucket: str) -> Iterator[str]:
    with throttling_as_retryable():
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=changes_prefix())
        for page in pages:
            for item in page.get("Contents", []):
                if item["Key"].endswith(".json"):
                    yield item["Key"]


def pending_reports(s3: Any, bucket: str) -> list[ChangeReport]:
    """Every report not yet consumed, oldest run first (run ids sort by start time)."""
    reports = []
    for key in sorted(_report_keys(s3, bucket)):
        with throttling_as_retryable():
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        reports.append(parse_report(key, body))
    return sorted(reports, key=lambda report: (report.run_id, report.source))


def consume(s3: Any, bucket: str, keys: list[str]) -> int:
    """Delete reports whose days were restated by a successful run; returns how many."""
    own = [key for key in keys if key.startswith(changes_prefix())]
    for start in range(0, len(own), DELETE_BATCH):
        batch = own[start : start + DELETE_BATCH]
        with throttling_as_retryable():
            response = s3.delete_objects(
                Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
            )
        if response.get("Errors"):
            first = response["Errors"][0]
            raise RegisterFailed(
                f"could not delete {len(response['Errors'])} change report(s), e.g. "
                f"{first.get('Key')}: {first.get('Code')} {first.get('Message')}"
            )
    return len(own)
