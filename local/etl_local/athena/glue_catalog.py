"""Tables and partitions of the Glue Data Catalog held by moto, as the local Athena needs them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moto.glue.exceptions import EntityNotFoundException
from moto.glue.models import GlueBackend, glue_backends

from .errors import AthenaQueryError
from .hive import StorageFormat, storage_format

# Glue's BatchCreatePartition takes at most 100 partitions per call.
PARTITION_BATCH = 100

# (IAM action, resource ARN) -> None; raises PermissionError to deny. Athena reads and
# changes the catalog with the permissions of the query's caller ("Fine-grained access to
# databases and tables in the AWS Glue Data Catalog", Athena User Guide): a query needs
# glue:GetTable (and glue:GetPartitions) on what it reads, a CTAS glue:CreateTable and,
# partitioned, glue:BatchCreatePartition, each on the catalog, the database and the table.
CatalogAuthorize = Callable[[str, str], None]


def glue_resource_arns(arn_base: str, database: str, table: str | None = None) -> list[str]:
    """The resources Glue authorizes a database operation on (the catalog and the database)
    or a table operation (and the table): "Specifying AWS Glue resource ARNs", AWS Glue
    Developer Guide. `arn_base` is `arn:aws:glue:<region>:<account>`."""
    resources = [f"{arn_base}:catalog", f"{arn_base}:database/{database}"]
    if table is not None:
        resources.append(f"{arn_base}:table/{database}/{table}")
    return resources


def _allow_all(action: str, resource: str) -> None:
    """No IAM enforcement."""


@dataclass(frozen=True)
class Partition:
    values: tuple[str, ...]
    location: str


@dataclass(frozen=True)
class GlueTable:
    database: str
    name: str
    table_input: dict[str, Any]
    columns: tuple[tuple[str, str], ...]
    partition_keys: tuple[tuple[str, str], ...]
    location: str
    partitions: tuple[Partition, ...]

    @property
    def format(self) -> StorageFormat:
        return storage_format(self.table_input)

    @property
    def qualified_name(self) -> str:
        return f"awsdatacatalog.{self.database}.{self.name}"


class GlueCatalog:
    """One account and region's Glue catalog in moto, read and written in-process."""

    def __init__(
        self, account_id: str, region: str, authorize: CatalogAuthorize = _allow_all
    ) -> None:
        self._backend: GlueBackend = glue_backends[account_id][region]
        self._arn = f"arn:aws:glue:{region}:{account_id}"
        self._authorize = authorize

    def _require(self, action: str, database: str, table: str) -> None:
        """Glue authorizes a table operation on the catalog, the database and the table
        ("Specifying AWS Glue resource ARNs", AWS Glue Developer Guide)."""
        for resource in glue_resource_arns(self._arn, database, table):
            try:
                self._authorize(action, resource)
            except PermissionError as error:
                raise AthenaQueryError(
                    f"Insufficient permissions to execute the query. {error} (Service: "
                    "AWSGlue; Status Code: 400; Error Code: AccessDeniedException)"
                ) from None

    def database_exists(self, database: str) -> bool:
        return database in self._backend.databases

    def table_exists(self, database: str, name: str) -> bool:
        db = self._backend.databases.get(database)
        return db is not None and name in db.tables

    def table(self, database: str, name: str) -> GlueTable:
        """The table with its partitions; fails like Athena when the schema or table is missing."""
        if not self.database_exists(database):
            raise AthenaQueryError(f"SCHEMA_NOT_FOUND: Schema '{database}' does not exist")
        try:
            fake = self._backend.get_table(database, name)
        except EntityNotFoundException:
            raise AthenaQueryError(
                f"TABLE_NOT_FOUND: Table 'awsdatacatalog.{database}.{name}' does not exist"
            ) from None
        self._require("glue:GetTable", database, name)
        table_input = fake.as_dict()
        if table_input.get("PartitionKeys"):
            self._require("glue:GetPartitions", database, name)
        descriptor = table_input.get("StorageDescriptor") or {}
        partitions = tuple(
            Partition(
                tuple(p.values),
                ((p.partition_input.get("StorageDescriptor") or {}).get("Location") or ""),
            )
            for p in list(fake.partitions.values())
        )
        return GlueTable(
            database=database,
            name=name,
            table_input=table_input,
            columns=tuple((c["Name"], c["Type"]) for c in descriptor.get("Columns") or []),
            partition_keys=tuple(
                (c["Name"], c.get("Type", "string")) for c in table_input.get("PartitionKeys") or []
            ),
            location=descriptor.get("Location") or "",
            partitions=partitions,
        )

    def table_names(self, database: str) -> list[str]:
        if not self.database_exists(database):
            raise AthenaQueryError(f"SCHEMA_NOT_FOUND: Schema '{database}' does not exist")
        return sorted(self._backend.databases[database].tables)

    def create_table(self, database: str, table_input: dict[str, Any]) -> None:
        self._require("glue:CreateTable", database, table_input["Name"])
        self._backend.create_table(database, table_input["Name"], table_input)

    def create_partitions(
        self, database: str, table: str, partition_inputs: list[dict[str, Any]]
    ) -> None:
        if partition_inputs:
            self._require("glue:BatchCreatePartition", database, table)
        for start in range(0, len(partition_inputs), PARTITION_BATCH):
            errors = self._backend.batch_create_partition(
                database, table, partition_inputs[start : start + PARTITION_BATCH]
            )
            if errors:
                raise AthenaQueryError(f"HIVE_METASTORE_ERROR: {errors[0]['ErrorDetail']}")

    def drop_table(self, database: str, name: str) -> None:
        self._require("glue:DeleteTable", database, name)
        self._backend.delete_table(database, name)
