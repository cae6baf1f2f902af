"""Registering the Glue job's ODS partitions in the Data Catalog, without a crawler.

The crawler's minimum billing (10 minutes a crawl) was most of a daily run's cost, and
the schema rarely changes. So the run registers the partitions the job wrote itself
(BatchCreatePartition, at most 100 per call: "BatchCreatePartition" in the Glue API
reference), giving each the table's storage descriptor with its own location, as a
crawler whose partitions inherit from the table would. Only when a source's table does not
exist yet, or the job wrote a schema the table does not have, is its crawler run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from etl_lambdas.aws import error_code, throttling_as_retryable
from etl_lambdas.changes import ChangeReport, OdsPartition
from etl_lambdas.errors import RegisterFailed, SchemaNotSettled

PARTITION_BATCH = 100
_STORAGE_KEYS = (
    "Columns",
    "InputFormat",
    "OutputFormat",
    "Compressed",
    "NumberOfBuckets",
    "SerdeInfo",
    "BucketColumns",
    "SortColumns",
    "Parameters",
    "StoredAsSubDirectories",
)


@dataclass(frozen=True)
class SourceChanges:
    source: str
    table: str
    partition_keys: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]  # the newest report's: what the job writes now
    partitions: tuple[OdsPartition, ...]


def by_source(reports: Iterable[ChangeReport]) -> list[SourceChanges]:
    """The reports of each source merged, oldest first: the newest schema wins, every
    written partition counts once."""
    merged: dict[str, SourceChanges] = {}
    for report in sorted(reports, key=lambda r: r.run_id):
        previous = merged.get(report.source)
        partitions = {p.values: p for p in (previous.partitions if previous else ())}
        partitions.update({p.values: p for p in report.partitions})
        merged[report.source] = SourceChanges(
            report.source,
            report.ods_table,
            report.partition_keys,
            report.columns,
            tuple(partitions[v] for v in sorted(partitions)),
        )
    return [merged[name] for name in sorted(merged)]


class OdsRegistrar:
    def __init__(self, glue: Any, ods_database: str) -> None:
        self._glue = glue
        self._database = ods_database

    def register(
        self, changes: list[SourceChanges], crawlers: Mapping[str, str], *, crawl_allowed: bool
    ) -> dict[str, Any]:
        """Register every source's partitions; the crawlers of sources whose table is
        missing or has another schema are returned to be run (or, after a crawl,
        SchemaNotSettled)."""
        to_crawl: list[str] = []
        registered: dict[str, dict[str, int]] = {}
        for change in changes:
            table = self._table(change.table)
            reason = self._crawl_reason(change, table)
            if reason is not None:
                if not crawl_allowed:
                    raise SchemaNotSettled(
                        f"{self._database}.{change.table} after its crawl: {reason}; the "
                        "crawler and the Glue job disagree on the source's schema"
                    )
                crawler = crawlers.get(change.source)
                if crawler is None:
                    raise RegisterFailed(f"source {change.source!r} has no crawler")
                to_crawl.append(crawler)
                continue
            assert table is not None
            registered[change.source] = self._create(change, table)
        return {"crawlers": sorted(set(to_crawl)), "registered": registered}

    def _crawl_reason(self, change: SourceChanges, table: dict[str, Any] | None) -> str | None:
        if table is None:
            return "the table does not exist"
        keys = tuple(k["Name"] for k in table.get("PartitionKeys", []))
        if keys != change.partition_keys:
            return f"partition keys {list(keys)} instead of {list(change.partition_keys)}"
        columns = tuple(
            (c["Name"], c["Type"]) for c in table.get("StorageDescriptor", {}).get("Columns", [])
        )
        if columns != change.columns:
            return f"columns {list(columns)} instead of {list(change.columns)}"
        return None

    def _table(self, name: str) -> dict[str, Any] | None:
        try:
            with throttling_as_retryable():
                return dict(self._glue.get_table(DatabaseName=self._database, Name=name)["Table"])
        except ClientError as error:
            if error_code(error) == "EntityNotFoundException":
                return None
            raise

    def _create(self, change: SourceChanges, table: dict[str, Any]) -> dict[str, int]:
        descriptor = {
            k: table["StorageDescriptor"][k]
            for k in _STORAGE_KEYS
            if k in table["StorageDescriptor"]
        }
        created = existing = 0
        inputs = [
            {"Values": list(p.values), "StorageDescriptor": {**descriptor, "Location": p.location}}
            for p in change.partitions
        ]
        for start in range(0, len(inputs), PARTITION_BATCH):
            batch = inputs[start : start + PARTITION_BATCH]
            with throttling_as_retryable():
                response = self._glue.batch_create_partition(
                    DatabaseName=self._database, TableName=change.table, PartitionInputList=batch
                )
            errors = response.get("Errors", [])
            already = [
                e
                for e in errors
                if e.get("ErrorDetail", {}).get("ErrorCode") == "AlreadyExistsException"
            ]
            # Same values, same location (the job writes a partition in one place): nothing to do.
            if len(already) != len(errors):
                failed = [e for e in errors if e not in already]
                raise RegisterFailed(
                    f"BatchCreatePartition on {self._database}.{change.table}: "
                    f"{len(failed)} partition(s) failed, e.g. {failed[0].get('PartitionValues')}: "
                    f"{failed[0].get('ErrorDetail')}"
                )
            existing += len(already)
            created += len(batch) - len(already)
        return {"created": created, "existing": existing}
