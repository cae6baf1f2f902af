"""The ODS tables in the Data Catalog: their partitions from the ledger, their schema from the
declaration, without a crawler on an ordinary day.

The crawler's minimum billing (10 minutes a crawl) was most of a daily run's cost, and the
schema rarely changes. So the run registers the partitions the Glue job converted itself
(BatchCreatePartition, at most 100 per call: "BatchCreatePartition" in the Glue API reference),
giving each the table's storage descriptor with its own location, as a crawler whose
partitions inherit from the table would. Every converted partition that some ledger entry
names is registered, whichever run converted it: the catalogue converges on the ledger.

The declaration is the schema. A source's crawler runs only when its table does not exist
yet, or when the job writes columns of other names than the table's (a column added). A table
whose columns differ from the declared ones in their types only, and one whose columns still
differ after a crawl, is given the declared columns (UpdateTable): a changed type never leaves
the source stuck. Partitions registered before keep their own columns (Athena reads a Parquet
partition with its own schema and casts it to the table's where it can: "Change a column data
type" in the Athena User Guide, whose table of types it can read as others is `READABLE_AS`);
those the run converted again get the table's (BatchUpdatePartition). A source with no rows
converted yet and no table is reported as waiting for its first data, and is not crawled.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from etl_lambdas.aws import error_code, throttling_as_retryable
from etl_lambdas.errors import RegisterFailed, SchemaNotSettled
from etl_lambdas.ledger import Conversion, LedgerEntry
from etl_lambdas.publishing import table_input

PARTITION_BATCH = 100  # BatchCreatePartition, BatchUpdatePartition, BatchGetPartition (<=1000)
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
# Types Athena reads from Parquet as another, for a partitioned table ("Change a column data
# type", Athena User Guide: "Use compatible data types"); BYTE is Hive's tinyint.
READABLE_AS: dict[str, frozenset[str]] = {
    "string": frozenset({"tinyint", "smallint", "int", "bigint"}),
    "tinyint": frozenset({"smallint", "int", "bigint"}),
    "smallint": frozenset({"int", "bigint"}),
    "int": frozenset({"bigint"}),
    "float": frozenset({"double"}),
}

Columns = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class OdsPartition:
    values: tuple[str, ...]
    location: str
    columns: Columns  # what the partition was converted with (its entry's)


@dataclass(frozen=True)
class SourceChanges:
    source: str
    table: str
    partition_keys: tuple[str, ...]
    columns: Columns  # the newest entry's: what the job writes now
    partitions: tuple[OdsPartition, ...]  # every converted partition that holds rows


def by_source(
    entries: Iterable[LedgerEntry], conversions: Iterable[Conversion]
) -> list[SourceChanges]:
    """Per source with entries: the newest columns, and each partition whose latest
    conversion left rows in it, with the columns it was converted with."""
    newest: dict[str, LedgerEntry] = {}
    columns: dict[tuple[str, str], Columns] = {}
    for entry in sorted(entries, key=lambda e: e.run_id):
        newest[entry.source] = entry
        columns[(entry.source, entry.run_id)] = entry.columns
    latest: dict[tuple[str, tuple[str, ...]], Conversion] = {}
    for conversion in sorted(conversions, key=lambda c: c.run_id):
        latest[(conversion.source, conversion.partition.values)] = conversion
    result = []
    for source in sorted(newest):
        entry = newest[source]
        partitions = tuple(
            OdsPartition(c.partition.values, c.partition.location, columns[(c.source, c.run_id)])
            for (name, _), c in sorted(latest.items())
            if name == source and c.partition.has_rows
        )
        result.append(
            SourceChanges(source, entry.ods_table, entry.partition_keys, entry.columns, partitions)
        )
    return result


def covers(table: Columns, written: Columns) -> bool:
    """Whether the table already has every column an entry was written with, each of the same
    type, and more: a later conversion added columns, and an entry still open from before
    then (the newest open one, once the later run's entries are settled and deleted) must not
    take them away. Its partitions keep their own columns."""
    have = dict(table)
    return len(table) > len(written) and all(have.get(name) == kind for name, kind in written)


def retyped(table: Columns, declared: Columns) -> list[dict[str, str]]:
    """The columns whose type differs, when only types differ (same names, same order)."""
    if [name for name, _ in table] != [name for name, _ in declared]:
        return []
    return [
        {"column": name, "from": old, "to": new}
        for (name, old), (_, new) in zip(table, declared, strict=True)
        if old != new
    ]


class OdsRegistrar:
    def __init__(self, glue: Any, ods_database: str) -> None:
        self._glue = glue
        self._database = ods_database

    def register(
        self,
        changes: list[SourceChanges],
        crawlers: Mapping[str, str],
        *,
        crawl_allowed: bool,
    ) -> dict[str, Any]:
        """Register every source's converted partitions; returns the crawlers to run (a table
        missing, or columns of other names), the declared schemas applied, the sources still
        waiting for their first rows, and what was registered."""
        to_crawl: list[str] = []
        registered: dict[str, dict[str, int]] = {}
        schema_changes: list[dict[str, Any]] = []
        waiting: list[str] = []
        for change in changes:
            table = self._table(change.table)
            if table is None and not change.partitions:
                waiting.append(change.source)
                continue
            crawl = self._crawl_reason(change, table)
            if crawl is not None and crawl_allowed:
                crawler = crawlers.get(change.source)
                if crawler is None:
                    raise RegisterFailed(f"source {change.source!r} has no crawler")
                to_crawl.append(crawler)
                continue
            if table is None:
                raise SchemaNotSettled(
                    f"{self._database}.{change.table} does not exist after its crawl, though "
                    f"{len(change.partitions)} converted partition(s) hold rows: see the "
                    "crawler's log (CloudWatch /aws-glue/crawlers)"
                )
            applied = None
            if _columns(table) != change.columns and not covers(_columns(table), change.columns):
                table, applied = self._declare(change, table)
            registered[change.source] = self._register(change, table)
            if applied is not None:
                schema_changes.append(self._unreadable(change, applied))
        return {
            "crawlers": sorted(set(to_crawl)),
            "registered": registered,
            "schema_changes": schema_changes,
            "waiting_for_data": waiting,
        }

    def missing_tables(self, sources: Iterable[str]) -> list[str]:
        """Those of the sources (their tables have the source's name) that have no table."""
        return [source for source in sources if self._table(source) is None]

    @staticmethod
    def _crawl_reason(change: SourceChanges, table: dict[str, Any] | None) -> str | None:
        if table is None:
            return "the table does not exist"
        keys = tuple(k["Name"] for k in table.get("PartitionKeys", []))
        if keys != change.partition_keys:
            return f"partition keys {list(keys)} instead of {list(change.partition_keys)}"
        columns = _columns(table)
        if columns != change.columns and not retyped(columns, change.columns):
            if covers(columns, change.columns):
                return None
            return f"columns {[n for n, _ in columns]} instead of {[n for n, _ in change.columns]}"
        return None

    def _table(self, name: str) -> dict[str, Any] | None:
        try:
            with throttling_as_retryable():
                return dict(self._glue.get_table(DatabaseName=self._database, Name=name)["Table"])
        except ClientError as error:
            if error_code(error) == "EntityNotFoundException":
                return None
            raise

    def _declare(
        self, change: SourceChanges, table: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The table given the declared columns; what changed."""
        before = _columns(table)
        updated = table_input(table)
        updated["StorageDescriptor"]["Columns"] = [
            {"Name": name, "Type": kind} for name, kind in change.columns
        ]
        with throttling_as_retryable():
            self._glue.update_table(DatabaseName=self._database, TableInput=updated)
        applied: dict[str, Any] = {
            "source": change.source,
            "table": f"{self._database}.{change.table}",
            "columns": [{"name": n, "type": t} for n, t in change.columns],
            "retyped": retyped(before, change.columns),
        }
        return self._table(change.table) or table, applied

    def _unreadable(self, change: SourceChanges, applied: dict[str, Any]) -> dict[str, Any]:
        """After a type change Athena cannot read from the old type: how many partitions
        still hold another type, and the days a backfill converts them again over."""
        unreadable = {
            t["column"]: t["from"]
            for t in applied["retyped"]
            if t["to"] not in READABLE_AS.get(t["from"], frozenset())
        }
        if not unreadable:
            return applied
        declared = dict(change.columns)
        stale = [
            values
            for values, columns in self._partition_columns(change.table)
            if any(dict(columns).get(name) == old for name, old in unreadable.items())
            and dict(columns) != declared
        ]
        applied["unreadable_partitions"] = len(stale)
        if stale:
            first, last = min(stale), max(stale)
            applied["convert_again"] = {
                "start_date": "-".join(first[:3]),
                "end_date": "-".join(last[:3]),
            }
        return applied

    def _partition_columns(self, table: str) -> Iterator[tuple[tuple[str, ...], Columns]]:
        with throttling_as_retryable():
            pages = self._glue.get_paginator("get_partitions").paginate(
                DatabaseName=self._database, TableName=table
            )
            for page in pages:
                for partition in page.get("Partitions", []):
                    yield tuple(partition["Values"]), _columns(partition)

    def _register(self, change: SourceChanges, table: dict[str, Any]) -> dict[str, int]:
        descriptor = {
            k: table["StorageDescriptor"][k]
            for k in _STORAGE_KEYS
            if k in table["StorageDescriptor"]
        }
        inputs = {
            p.values: {
                "Values": list(p.values),
                "StorageDescriptor": {
                    **descriptor,
                    "Columns": [{"Name": name, "Type": kind} for name, kind in p.columns],
                    "Location": p.location,
                },
            }
            for p in change.partitions
        }
        created = existing = updated = 0
        batches = [
            list(inputs)[i : i + PARTITION_BATCH] for i in range(0, len(inputs), PARTITION_BATCH)
        ]
        for batch in batches:
            with throttling_as_retryable():
                response = self._glue.batch_create_partition(
                    DatabaseName=self._database,
                    TableName=change.table,
                    PartitionInputList=[inputs[values] for values in batch],
                )
            errors = response.get("Errors", [])
            already = [
                tuple(e["PartitionValues"])
                for e in errors
                if e.get("ErrorDetail", {}).get("ErrorCode") == "AlreadyExistsException"
            ]
            if len(already) != len(errors):
                failed = [e for e in errors if tuple(e["PartitionValues"]) not in already]
                raise RegisterFailed(
                    f"BatchCreatePartition on {self._database}.{change.table}: "
                    f"{len(failed)} partition(s) failed, e.g. {failed[0].get('PartitionValues')}: "
                    f"{failed[0].get('ErrorDetail')}"
                )
            stale = self._differing(change.table, {values: inputs[values] for values in already})
            if stale:
                self._update(change.table, stale)
            created += len(batch) - len(already)
            existing += len(already) - len(stale)
            updated += len(stale)
        return {"created": created, "existing": existing, "updated": updated}

    def _differing(
        self, table: str, wanted: Mapping[tuple[str, ...], dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Of partitions that exist, those whose location or columns are not the wanted ones
        (converted again after a type change, or registered by a crawl elsewhere)."""
        if not wanted:
            return []
        with throttling_as_retryable():
            found = self._glue.batch_get_partition(
                DatabaseName=self._database,
                TableName=table,
                PartitionsToGet=[{"Values": list(values)} for values in wanted],
            ).get("Partitions", [])
        stale = []
        for partition in found:
            target = wanted.get(tuple(partition["Values"]))
            descriptor = partition.get("StorageDescriptor", {})
            if target is not None and (
                descriptor.get("Location") != target["StorageDescriptor"]["Location"]
                or descriptor.get("Columns") != target["StorageDescriptor"]["Columns"]
            ):
                stale.append(target)
        return stale

    def _update(self, table: str, partitions: list[dict[str, Any]]) -> None:
        with throttling_as_retryable():
            response = self._glue.batch_update_partition(
                DatabaseName=self._database,
                TableName=table,
                Entries=[
                    {"PartitionValueList": p["Values"], "PartitionInput": p} for p in partitions
                ],
            )
        if response.get("Errors"):
            first = response["Errors"][0]
            raise RegisterFailed(
                f"BatchUpdatePartition on {self._database}.{table}: {len(response['Errors'])} "
                f"partition(s) failed, e.g. {first.get('PartitionValueList')}: "
                f"{first.get('ErrorDetail')}"
            )


def _columns(table_or_partition: Mapping[str, Any]) -> Columns:
    return tuple(
        (c["Name"], c["Type"])
        for c in table_or_partition.get("StorageDescriptor", {}).get("Columns", [])
    )
