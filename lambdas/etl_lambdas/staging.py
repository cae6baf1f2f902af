"""Staging: where a run's CTAS writes each chunk, and clearing up after runs that died.

A model never writes into its published table. Each chunk of a run is a CTAS into a
staging table of its own, over a location unique to the run; publish swaps the staged
partitions in and drops the staging tables. A run that fails leaves its staging tables
behind: the next run (which holds the run lease, so no other run is alive) drops them.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from etl_lambdas.aws import error_code, throttling_as_retryable
from etl_lambdas.catalog import DUCKDB_ENGINE, TRINO_ENGINE, Model
from etl_lambdas.errors import StagingFailed
from etl_lambdas.naming import chunk_prefix, database, run_of_staging_table, staging_table
from etl_lambdas.publishing import PARTITION_BATCH, directory, storage_input


def ctas(
    model: Model,
    select: str,
    *,
    run_id: str,
    chunk: int,
    glue_prefix: str,
    bucket: str,
    engine: str = TRINO_ENGINE,
) -> str:
    """The CTAS that stages one chunk; its table lives in the staging database only.

    `external_location` is allowed because the workgroup does not enforce its results
    location (an enforcing workgroup fails such a CTAS: "Troubleshoot workgroup errors" in
    the Athena User Guide); the location must be empty, which a run-unique prefix is.

    On a DuckDB workgroup, CREATE TABLE AS "take[s] the type of the table, its location in
    Amazon S3, and its other storage settings in a WITH clause" ("CREATE TABLE and CREATE
    TABLE AS statements in DuckDB", Athena User Guide): a Hive table (Parquet, Snappy) at
    the run's location, partitioned like the model. The property names are DUCKDB_CTAS_WITH's.
    """
    location = f"s3://{bucket}/{chunk_prefix(model.tier, model.name, run_id, chunk)}"
    partitions = ", ".join(f"'{column}'" for column in model.partition_by)
    body = select.strip().rstrip(";").rstrip()
    table = f"{database(glue_prefix, 'staging')}.{staging_table(model.name, run_id, chunk)}"
    if engine == DUCKDB_ENGINE:
        properties = DUCKDB_CTAS_WITH.format(location=location, partitions=partitions)
    else:
        properties = (
            f"external_location = '{location}', format = 'PARQUET', "
            f"write_compression = 'SNAPPY', partitioned_by = ARRAY[{partitions}]"
        )
    return f"CREATE TABLE {table}\nWITH ({properties})\nAS\n{body}"


# The WITH clause of a DuckDB workgroup's CTAS. AWS's page names what it holds (the table
# type, the S3 location, the storage settings) but the project could not confirm the property
# names there (docs/architecture.md, "Athena's DuckDB engine"): these are engine version 3's,
# with `location` for the table's place. This is the one place to correct should Athena's
# DuckDB engine spell one otherwise; the local Athena accepts exactly these
# (etl_local.athena.duckdb_statements), so it cannot tell.
DUCKDB_CTAS_WITH = (
    "table_type = 'HIVE', location = '{location}', format = 'PARQUET', "
    "write_compression = 'SNAPPY', partitioned_by = ARRAY[{partitions}]"
)


def request_token(*parts: object) -> str:
    """An Athena ClientRequestToken: the same for every retry of one step's attempt, so
    Athena returns the query already started instead of starting a second one."""
    return hashlib.sha256("/".join(str(p) for p in parts).encode()).hexdigest()


def drop_stale_tables(glue: Any, staging_database: str, current_run: str) -> list[str]:
    """Drop the staging tables of every run but `current_run`; returns their names.

    Only tables named like a staging table are touched (`<model>__<run id>__c<k>`).
    """
    stale = []
    with throttling_as_retryable():
        for page in glue.get_paginator("get_tables").paginate(DatabaseName=staging_database):
            for table in page.get("TableList", []):
                run = run_of_staging_table(table["Name"])
                if run is not None and run != current_run:
                    stale.append(table["Name"])
    for name in stale:
        try:
            with throttling_as_retryable():
                glue.delete_table(DatabaseName=staging_database, Name=name)
        except ClientError as error:
            if error_code(error) != "EntityNotFoundException":
                raise
    return stale


def staged_partition_values(keys: list[str], prefix: str, names: list[str]) -> set[tuple[str, ...]]:
    """The partition values of the Hive folders (`<name>=<value>/...`, in the table's key order)
    holding the objects `keys` under `prefix`. Objects whose name starts with `_` or `.` are
    not data: Athena skips them ("Considerations and limitations for SQL queries")."""
    found: set[tuple[str, ...]] = set()
    for key in keys:
        *folders, name = key[len(prefix) :].split("/")
        if name.startswith(("_", ".")) or len(folders) != len(names):
            continue
        pairs = [folder.partition("=") for folder in folders]
        if [pair[0] for pair in pairs] != names:
            continue
        found.add(tuple(unquote(pair[2]) for pair in pairs))
    return found


def register_staged_partitions(glue: Any, s3: Any, staging_database: str, tables: list[str]) -> int:
    """Register in the Glue catalogue every partition a staging table's files are in and the
    catalogue lacks; the number registered. Idempotent: a partition already there is kept.

    For a CTAS on Athena's DuckDB engine: its pages say that the Glue functions "register and
    change the partitions of Hive tables" ("AWS Glue Data Catalog functions in DuckDB", Athena
    User Guide) but not whether CREATE TABLE AS registers those it writes (engine version 3's
    does). What is durably staged decides instead: the files under the table's location.
    """
    registered = 0
    for name in tables:
        try:
            with throttling_as_retryable():
                table = glue.get_table(DatabaseName=staging_database, Name=name)["Table"]
        except ClientError as error:
            if error_code(error) == "EntityNotFoundException":
                continue  # never written, or published and dropped already
            raise
        names = [key["Name"] for key in table.get("PartitionKeys", [])]
        if not names:
            continue
        location = directory(table["StorageDescriptor"]["Location"])
        bucket, _, prefix = location.removeprefix("s3://").partition("/")
        keys: list[str] = []
        with throttling_as_retryable():
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                keys.extend(item["Key"] for item in page.get("Contents", []))
            existing = {
                tuple(partition["Values"])
                for page in glue.get_paginator("get_partitions").paginate(
                    DatabaseName=staging_database, TableName=name
                )
                for partition in page["Partitions"]
            }
        missing = sorted(staged_partition_values(keys, prefix, names) - existing)
        inputs = [
            {
                "Values": list(values),
                "StorageDescriptor": storage_input(
                    table["StorageDescriptor"],
                    location
                    + "/".join(f"{n}={v}" for n, v in zip(names, values, strict=True))
                    + "/",
                ),
            }
            for values in missing
        ]
        for start in range(0, len(inputs), PARTITION_BATCH):
            with throttling_as_retryable():
                response = glue.batch_create_partition(
                    DatabaseName=staging_database,
                    TableName=name,
                    PartitionInputList=inputs[start : start + PARTITION_BATCH],
                )
            failed = [
                error
                for error in response.get("Errors", [])
                if error.get("ErrorDetail", {}).get("ErrorCode") != "AlreadyExistsException"
            ]
            if failed:
                detail = failed[0].get("ErrorDetail", {})
                raise StagingFailed(
                    f"BatchCreatePartition on {staging_database}.{name}: {len(failed)} "
                    f"partition(s) failed, e.g. {failed[0].get('PartitionValues')}: "
                    f"{detail.get('ErrorCode')} {detail.get('ErrorMessage')}"
                )
        registered += len(inputs)
    return registered
