"""The local lake as a Trino catalog: the Hive connector over the local AWS endpoint's Glue
Data Catalog and S3, as Athena reads the account's ("Hive connector", "AWS Glue catalog
configuration properties" and "S3 file system support", Trino docs)."""

from __future__ import annotations

import re

from .client import TrinoClient

# Athena's query results name the catalog AwsDataCatalog; the oracle's catalogs are per
# endpoint (one server serves several local AWS endpoints at once).
CATALOG_PREFIX = "lake_"


def catalog_name(endpoint: str) -> str:
    """A catalog name of the endpoint's port: `lake_<port>`."""
    match = re.search(r":(\d+)/?$", endpoint)
    if not match:
        raise ValueError(f"endpoint without a port: {endpoint!r}")
    return f"{CATALOG_PREFIX}{match.group(1)}"


def catalog_properties(
    endpoint: str, region: str, access_key: str, secret_key: str
) -> dict[str, str]:
    return {
        "hive.metastore": "glue",
        "hive.metastore.glue.region": region,
        "hive.metastore.glue.endpoint-url": endpoint,
        "hive.metastore.glue.aws-access-key": access_key,
        "hive.metastore.glue.aws-secret-key": secret_key,
        # Partitions are listed in one call: moto serves no segments.
        "hive.metastore.glue.partitions-segments": "1",
        "fs.native-s3.enabled": "true",
        "s3.endpoint": endpoint,
        "s3.region": region,
        "s3.path-style-access": "true",
        "s3.aws-access-key": access_key,
        "s3.aws-secret-key": secret_key,
        # The oracle reads; writing is the local Athena's job. Athena reads a table's files
        # as they are, like Trino's Hive connector with these settings.
        "hive.non-managed-table-writes-enabled": "false",
    }


def attach_lake(
    client: TrinoClient, endpoint: str, region: str, access_key: str, secret_key: str
) -> str:
    """Create (or re-create) the endpoint's catalog on the server; its name."""
    name = catalog_name(endpoint)
    properties = catalog_properties(endpoint, region, access_key, secret_key)
    options = ", ".join(
        f"\"{key}\" = '{value.replace(chr(39), chr(39) * 2)}'" for key, value in properties.items()
    )
    client.execute(f"DROP CATALOG IF EXISTS {name}")
    client.execute(f"CREATE CATALOG {name} USING hive WITH ({options})")
    return name
