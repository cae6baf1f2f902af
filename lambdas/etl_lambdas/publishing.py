"""Publishing: staged partitions become the model table's partitions, then clean-up.

Order matters for retries: (1) create/update partitions of the published table,
(2) delete the run's staging tables, (3) delete superseded data. A staging table
is deleted only after every partition of the run is published, so a missing one on
a retry means that publish already happened.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from botocore.exceptions import ClientError

from etl_lambdas.aws import error_code, throttling_as_retryable
from etl_lambdas.errors import PublishFailed
from etl_lambdas.naming import database, model_prefix, runs_prefix
from etl_lambdas.planning import RUN_ID

# Glue's BatchCreatePartition / BatchUpdatePartition take at most 100 entries,
# BatchGetPartition 1000 keys; S3 DeleteObjects 1000 keys.
PARTITION_BATCH = 100
PARTITION_LOOKUP_BATCH = 1000
DELETE_BATCH = 1000

_TABLE_INPUT_KEYS = (
    "Name",
    "Description",
    "Owner",
    "Retention",
    "StorageDescriptor",
    "PartitionKeys",
    "TableType",
    "Parameters",
)
_STORAGE_KEYS = (
    "Columns",
    "Location",
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


def _batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def storage_input(descriptor: dict[str, Any], location: str | None = None) -> dict[str, Any]:
    result = {key: descriptor[key] for key in _STORAGE_KEYS if key in descriptor}
    if location is not None:
        result["Location"] = location
    return result


def table_input(table: dict[str, Any]) -> dict[str, Any]:
    """A GetTable answer reduced to what CreateTable/UpdateTable accept."""
    result = {key: table[key] for key in _TABLE_INPUT_KEYS if key in table}
    result["StorageDescriptor"] = storage_input(table["StorageDescriptor"])
    return result


def partition_input(
    partition: dict[str, Any], parameters: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A staged partition as the published table's, with `parameters` added to its own."""
    merged = {**partition.get("Parameters", {}), **(parameters or {})}
    return {
        "Values": partition["Values"],
        "StorageDescriptor": storage_input(partition["StorageDescriptor"]),
        **({"Parameters": merged} if merged else {}),
    }


def directory(location: str) -> str:
    return location if location.endswith("/") else location + "/"


def s3_key_prefix(location: str, bucket: str) -> str | None:
    """The key prefix of an s3:// location in `bucket`, None for any other place."""
    head = f"s3://{bucket}/"
    return directory(location)[len(head) :] if location.startswith(head) else None


def is_referenced(key: str, referenced_prefixes: set[str]) -> bool:
    """Whether the object lies inside one of the published partitions' directories."""
    parts = key.split("/")
    return any(
        "/".join(parts[:depth]) + "/" in referenced_prefixes for depth in range(1, len(parts))
    )


def runs_to_prune(run_ids: Iterable[str], current_run: str, keep: int) -> list[str]:
    """Runs beyond the current one and the newest `keep` others (kept for rollback)."""
    others = [run for run in sorted(set(run_ids), reverse=True) if run != current_run]
    return others[keep:]


class Publisher:
    def __init__(self, glue: Any, s3: Any, *, glue_prefix: str, bucket: str) -> None:
        self.glue = glue
        self.s3 = s3
        self.glue_prefix = glue_prefix
        self.bucket = bucket

    # -- catalog reads -----------------------------------------------------------------
    def _table(self, db: str, name: str) -> dict[str, Any] | None:
        try:
            with throttling_as_retryable():
                return dict(self.glue.get_table(DatabaseName=db, Name=name)["Table"])
        except ClientError as error:
            if error_code(error) == "EntityNotFoundException":
                return None
            raise

    def _partitions(self, db: str, table: str) -> list[dict[str, Any]]:
        with throttling_as_retryable():
            pages = self.glue.get_paginator("get_partitions").paginate(
                DatabaseName=db, TableName=table
            )
            return [partition for page in pages for partition in page["Partitions"]]

    def _existing_values(
        self, db: str, table: str, values: list[list[str]]
    ) -> set[tuple[str, ...]]:
        found: set[tuple[str, ...]] = set()
        for batch in _batches(values, PARTITION_LOOKUP_BATCH):
            pending = [{"Values": v} for v in batch]
            while pending:
                with throttling_as_retryable():
                    response = self.glue.batch_get_partition(
                        DatabaseName=db, TableName=table, PartitionsToGet=pending
                    )
                found.update(tuple(p["Values"]) for p in response.get("Partitions", []))
                pending = response.get("UnprocessedKeys", [])
        return found

    # -- publish -----------------------------------------------------------------------
    def ensure_table(
        self, tier: str, model: str, staging: dict[str, Any]
    ) -> tuple[str, bool, bool]:
        """The published table, created from the staging table's schema if absent."""
        db = database(self.glue_prefix, tier)
        location = f"s3://{self.bucket}/{model_prefix(tier, model)}"
        existing = self._table(db, model)
        staged_columns = staging["StorageDescriptor"].get("Columns", [])
        if existing is None:
            new = table_input(staging)
            new["Name"] = model
            new["TableType"] = "EXTERNAL_TABLE"
            new["StorageDescriptor"]["Location"] = location
            new["Parameters"] = {
                **staging.get("Parameters", {}),
                "EXTERNAL": "TRUE",
                "classification": "parquet",
            }
            try:
                with throttling_as_retryable():
                    self.glue.create_table(DatabaseName=db, TableInput=new)
                return db, True, False
            except ClientError as error:
                if error_code(error) != "AlreadyExistsException":
                    raise
                existing = self._table(db, model)
                assert existing is not None
        if [c["Name"] for c in existing.get("PartitionKeys", [])] != [
            c["Name"] for c in staging.get("PartitionKeys", [])
        ]:
            raise PublishFailed(
                f"{db}.{model}: partition keys differ from the staged table's; "
                "drop the table to change its partitioning"
            )
        if existing["StorageDescriptor"].get("Columns", []) != staged_columns:
            updated = table_input(existing)
            updated["StorageDescriptor"]["Columns"] = staged_columns
            with throttling_as_retryable():
                self.glue.update_table(DatabaseName=db, TableInput=updated)
            return db, False, True
        return db, False, False

    def publish_partitions(
        self,
        db: str,
        table: str,
        partitions: list[dict[str, Any]],
        parameters: Mapping[str, str] | None = None,
    ) -> tuple[int, int]:
        """Create or update each partition; `parameters` (what computed it) on every one."""
        values = [p["Values"] for p in partitions]
        existing = self._existing_values(db, table, values)
        inputs = [partition_input(p, parameters) for p in partitions]
        to_create = [p for p in inputs if tuple(p["Values"]) not in existing]
        to_update = [p for p in inputs if tuple(p["Values"]) in existing]
        late_existing: list[dict[str, Any]] = []
        for batch in _batches(to_create, PARTITION_BATCH):
            with throttling_as_retryable():
                response = self.glue.batch_create_partition(
                    DatabaseName=db, TableName=table, PartitionInputList=batch
                )
            by_values = {tuple(p["Values"]): p for p in batch}
            errors = []
            for error in response.get("Errors", []):
                if error.get("ErrorDetail", {}).get("ErrorCode") == "AlreadyExistsException":
                    # Created meanwhile (a concurrent or earlier attempt): update it instead.
                    late_existing.append(by_values[tuple(error["PartitionValues"])])
                else:
                    errors.append(error)
            self._fail_on(errors, f"BatchCreatePartition on {db}.{table}")
        to_update += late_existing
        for batch in _batches(to_update, PARTITION_BATCH):
            with throttling_as_retryable():
                response = self.glue.batch_update_partition(
                    DatabaseName=db,
                    TableName=table,
                    Entries=[
                        {"PartitionValueList": p["Values"], "PartitionInput": p} for p in batch
                    ],
                )
            self._fail_on(response.get("Errors", []), f"BatchUpdatePartition on {db}.{table}")
        return len(to_create) - len(late_existing), len(to_update)

    @staticmethod
    def _fail_on(errors: list[dict[str, Any]], call: str) -> None:
        if errors:
            details = "; ".join(
                f"{e.get('PartitionValueList') or e.get('PartitionValues')}: "
                f"{e.get('ErrorDetail', {}).get('ErrorCode')} "
                f"{e.get('ErrorDetail', {}).get('ErrorMessage')}"
                for e in errors[:5]
            )
            raise PublishFailed(f"{call}: {len(errors)} partition(s) failed: {details}")

    def drop_staging_tables(self, tables: list[str]) -> None:
        db = database(self.glue_prefix, "staging")
        for table in tables:
            try:
                with throttling_as_retryable():
                    self.glue.delete_table(DatabaseName=db, Name=table)
            except ClientError as error:
                if error_code(error) != "EntityNotFoundException":
                    raise

    # -- clean-up ----------------------------------------------------------------------
    def _run_ids(self, tier: str, model: str) -> list[str]:
        prefix = runs_prefix(tier, model)
        found = []
        with throttling_as_retryable():
            pages = self.s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix, Delimiter="/"
            )
            for page in pages:
                for common in page.get("CommonPrefixes", []):
                    name = common["Prefix"][len(prefix) :].rstrip("/")
                    # Only prefixes named like a run id are ours to prune.
                    if RUN_ID.match(name):
                        found.append(name)
        return found

    def prune(self, tier: str, model: str, current_run: str, keep: int) -> int:
        """Delete data of runs beyond the newest `keep` not served by any published partition."""
        old_runs = runs_to_prune(self._run_ids(tier, model), current_run, keep)
        if not old_runs:
            return 0
        referenced = {
            prefix
            for partition in self._partitions(database(self.glue_prefix, tier), model)
            if (prefix := s3_key_prefix(partition["StorageDescriptor"]["Location"], self.bucket))
        }
        deleted = 0
        for run in old_runs:
            run_prefix = f"{runs_prefix(tier, model)}{run}/"
            with throttling_as_retryable():
                pages = self.s3.get_paginator("list_objects_v2").paginate(
                    Bucket=self.bucket, Prefix=run_prefix
                )
                keys = [
                    item["Key"]
                    for page in pages
                    for item in page.get("Contents", [])
                    if not is_referenced(item["Key"], referenced)
                ]
            for batch in _batches(keys, DELETE_BATCH):
                with throttling_as_retryable():
                    response = self.s3.delete_objects(
                        Bucket=self.bucket,
                        Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
                    )
                if response.get("Errors"):
                    first = response["Errors"][0]
                    raise PublishFailed(
                        f"could not delete {len(response['Errors'])} object(s) under "
                        f"s3://{self.bucket}/{run_prefix}, e.g. {first.get('Key')}: "
                        f"{first.get('Code')} {first.get('Message')}"
                    )
                deleted += len(batch)
        return deleted

    def publish(
        self,
        run: str,
        tier: str,
        model: str,
        tables: list[str],
        keep: int,
        parameters: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        staging_db = database(self.glue_prefix, "staging")
        staged = [(name, self._table(staging_db, name)) for name in tables]
        present = [(name, table) for name, table in staged if table is not None]
        created = updated = 0
        table_created = schema_updated = False
        if present:
            partitions = [p for name, _ in present for p in self._partitions(staging_db, name)]
            seen: set[tuple[str, ...]] = set()
            for partition in partitions:
                key = tuple(partition["Values"])
                if key in seen:
                    raise PublishFailed(f"partition {list(key)} is staged by two chunks of {run}")
                seen.add(key)
            db, table_created, schema_updated = self.ensure_table(tier, model, present[0][1])
            created, updated = self.publish_partitions(db, model, partitions, parameters)
        elif self._table(database(self.glue_prefix, tier), model) is None:
            raise PublishFailed(
                f"no staging table of run {run} for {model} exists and {model} was never published"
            )
        self.drop_staging_tables(tables)
        deleted = self.prune(tier, model, run, keep)
        return {
            "run_id": run,
            "model": model,
            "tier": tier,
            "table": f"{database(self.glue_prefix, tier)}.{model}",
            "table_created": table_created,
            "schema_updated": schema_updated,
            "partitions_created": created,
            "partitions_updated": updated,
            "partitions": created + updated,
            "deleted_objects": deleted,
        }
