"""AWS Glue: Data Catalog and non-catalog operations.

"Specifying AWS Glue resource ARNs" (Glue Developer Guide): "All operations performed on a
Data Catalog resource require permission on the resource and all the ancestors of that
resource": actions on a database need the database and the catalog; on a table, partition
or table version, the table, its database and the catalog; deleting a database also needs
every table and function in it. Listing follows the same rule with a wildcard child (the
Athena User Guide's SHOW TABLES example grants GetTables on `table/<db>/*`). Crawlers and
jobs are resources of their own (`crawler/<name>`, `job/<name>`); operations that list them
support no resource type ("*"); creating one hands it a role (iam:PassRole).
"""

from __future__ import annotations

from collections.abc import Callable

from etl_local.iam.operations.call import (
    ApiCall,
    Mapper,
    Permission,
    ServerLookups,
    everything,
    pass_role,
    uniform,
)

PASSED_TO = "glue.amazonaws.com"


def _catalog_id(call: ApiCall) -> str:
    return str(call.param("CatalogId") or call.account)


def _glue_arn(call: ApiCall, resource: str) -> str:
    return f"arn:{call.partition}:glue:{call.region}:{_catalog_id(call)}:{resource}"


def _database_name(call: ApiCall) -> str:
    name = (
        call.param("DatabaseName")
        or (call.param("DatabaseInput") or {}).get("Name")
        or call.param("Name")
    )
    return str(name)


def _table_name(call: ApiCall) -> str:
    name = (call.param("TableInput") or {}).get("Name") or call.param("TableName")
    return str(name or call.param("Name"))


def _lineage(call: ApiCall, *children: str) -> list[str]:
    """The catalog, the database, then the given children of the database."""
    database = _database_name(call)
    return [
        _glue_arn(call, "catalog"),
        _glue_arn(call, f"database/{database}"),
        *(_glue_arn(call, child.format(database=database)) for child in children),
    ]


# operation -> the catalog resources it needs besides catalog and database ({database}: name).
DATABASE_CHILDREN: dict[str, tuple[str, ...]] = {
    "GetDatabase": (),
    "CreateDatabase": (),
    "UpdateDatabase": (),
    "DeleteDatabase": ("table/{database}/*", "userDefinedFunction/{database}/*"),
    "GetTables": ("table/{database}/*",),
}
TABLE_OPERATIONS = (
    "GetTable",
    "CreateTable",
    "UpdateTable",
    "DeleteTable",
    "GetTableVersion",
    "GetTableVersions",
    "DeleteTableVersion",
    "BatchDeleteTableVersion",
    "GetPartition",
    "GetPartitions",
    "BatchGetPartition",
    "CreatePartition",
    "BatchCreatePartition",
    "UpdatePartition",
    "BatchUpdatePartition",
    "DeletePartition",
    "BatchDeletePartition",
    "GetPartitionIndexes",
    "CreatePartitionIndex",
    "DeletePartitionIndex",
)


def _each(call: ApiCall, action: str, resources: list[str]) -> list[Permission]:
    return [Permission(action, resource) for resource in resources]


def _database_operation(children: tuple[str, ...]) -> Mapper:
    def mapper(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
        return _each(call, f"glue:{call.operation}", _lineage(call, *children))

    return mapper


def _table_operation(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
    table = f"table/{{database}}/{_table_name(call)}"
    return _each(call, f"glue:{call.operation}", _lineage(call, table))


def _get_databases(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
    resources = [_glue_arn(call, "catalog"), _glue_arn(call, "database/*")]
    return _each(call, "glue:GetDatabases", resources)


def _batch_delete_table(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
    tables = [f"table/{{database}}/{name}" for name in call.param("TablesToDelete") or []]
    return _each(call, "glue:BatchDeleteTable", _lineage(call, *tables))


def _named(kind: str, parameter: str) -> Callable[[ApiCall], str]:
    return lambda call: _glue_arn(call, f"{kind}/{call.param(parameter)}")


def _create(kind: str, role_parameter: str) -> Mapper:
    def mapper(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
        created = Permission(f"glue:{call.operation}", _named(kind, "Name")(call))
        return [created, *pass_role(call, call.param(role_parameter), PASSED_TO)]

    return mapper


def _update_job(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
    updated = Permission("glue:UpdateJob", _named("job", "JobName")(call))
    return [updated, *pass_role(call, (call.param("JobUpdate") or {}).get("Role"), PASSED_TO)]


def _batch_named(kind: str, parameter: str) -> Mapper:
    def mapper(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
        names = call.param(parameter) or []
        return [Permission(f"glue:{call.operation}", _glue_arn(call, f"{kind}/{n}")) for n in names]

    return mapper


OPERATIONS: dict[str, Mapper] = {
    **{name: _database_operation(children) for name, children in DATABASE_CHILDREN.items()},
    **{name: _table_operation for name in TABLE_OPERATIONS},
    "GetDatabases": _get_databases,
    "BatchDeleteTable": _batch_delete_table,
    **{
        name: uniform(f"glue:{name}", _named("crawler", "Name"))
        for name in ("GetCrawler", "StartCrawler", "StopCrawler", "UpdateCrawler", "DeleteCrawler")
    },
    "CreateCrawler": _create("crawler", "Role"),
    "BatchGetCrawlers": _batch_named("crawler", "CrawlerNames"),
    **{
        name: uniform(f"glue:{name}", _named("job", "JobName"))
        for name in (
            "StartJobRun",
            "GetJobRun",
            "GetJobRuns",
            "BatchStopJobRun",
            "GetJob",
            "DeleteJob",
        )
    },
    "CreateJob": _create("job", "Role"),
    "UpdateJob": _update_job,
    "BatchGetJobs": _batch_named("job", "JobNames"),
    **{
        name: uniform(f"glue:{name}", everything)
        for name in ("GetCrawlers", "GetCrawlerMetrics", "ListCrawlers", "GetJobs", "ListJobs")
    },
}
