"""What `etl docs` shows, gathered: the models (sql/), their lineage, what computed their
published partitions and the tables' column types (the Glue catalogue, through the local
runtime's API), their unit tests (`sql/<tier>/<model>.test.yaml`) and the local execution
history (etl_local.run_records)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from etl_lambdas.aws import error_code
from etl_lambdas.catalog import Catalog
from etl_lambdas.fingerprints import fingerprints
from etl_local import backfill, run_records
from etl_local.docs_page import DocsData
from etl_local.lineage import model_lineage

TEST_SUFFIX = ".test.yaml"


def unit_tests(catalog: Catalog) -> dict[str, str]:
    """The text of each model's unit test file, where there is one."""
    found = {}
    for model in catalog.models:
        path = catalog.root / model.tier / f"{model.name}{TEST_SUFFIX}"
        if path.is_file():
            found[model.name] = path.read_text(encoding="utf-8")
    return found


def column_types(glue: Any, catalog: Catalog, database_of: Any) -> dict[str, dict[str, str]]:
    """Each published table's columns and partition keys with their Glue types."""
    types: dict[str, dict[str, str]] = {}
    for model in catalog.models:
        try:
            table = glue.get_table(DatabaseName=database_of(model.tier), Name=model.name)["Table"]
        except ClientError as error:
            if error_code(error) == "EntityNotFoundException":
                continue
            raise
        columns = [*table["StorageDescriptor"].get("Columns", []), *table.get("PartitionKeys", [])]
        types[model.name] = {column["Name"]: column.get("Type", "") for column in columns}
    return types


def gather(catalog: Catalog, time_zone: str, home: Path, runtime: Any | None) -> DocsData:
    """The page's data; `runtime` None: no local lake to read (nothing published yet)."""
    published = None
    changes: list[backfill.ModelChange] = []
    types: dict[str, dict[str, str]] = {}
    if runtime is not None:
        glue = runtime.client("glue")
        published = backfill.read_published(glue, catalog, runtime.settings.database)
        changes = backfill.model_changes(catalog, published)
        types = column_types(glue, catalog, runtime.settings.database)
    return DocsData(
        catalog=catalog,
        lineage=model_lineage(catalog, time_zone),
        fingerprints=fingerprints(catalog),
        generated=datetime.now(UTC),
        time_zone=time_zone,
        published=published,
        changes=changes,
        column_types=types,
        runs=run_records.recent(home),
        tests=unit_tests(catalog),
    )
