"""Amazon Athena: query operations act on the workgroup.

"Actions, resources, and condition keys for Amazon Athena": StartQueryExecution,
GetQueryExecution, BatchGetQueryExecution, GetQueryResults, StopQueryExecution and
ListQueryExecutions require the `workgroup` resource,
`arn:aws:athena:<region>:<account>:workgroup/<name>`. A request without WorkGroup runs in
`primary`. Operations that name only a query execution act on the workgroup the query ran
in, which the server knows (`ServerLookups.athena_query_workgroup`); a query id the server
does not know is left to the service, which answers that the query does not exist.
"""

from __future__ import annotations

from etl_local.iam.operations.call import (
    ApiCall,
    Mapper,
    Permission,
    ServerLookups,
    everything,
    uniform,
)

DEFAULT_WORKGROUP = "primary"


def workgroup_arn(call: ApiCall, name: str) -> str:
    return call.arn("athena", f"workgroup/{name}")


def _named_workgroup(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
    name = call.param("WorkGroup") or call.param("Name") or DEFAULT_WORKGROUP
    return [Permission(f"athena:{call.operation}", workgroup_arn(call, str(name)))]


def _queries_workgroups(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
    ids = call.param("QueryExecutionIds") or [call.param("QueryExecutionId")]
    workgroups = {
        lookups.athena_query_workgroup(call.account, call.region, str(query_id))
        for query_id in ids
        if query_id
    }
    return [
        Permission(f"athena:{call.operation}", workgroup_arn(call, name))
        for name in sorted(w for w in workgroups if w)
    ]


def _data_catalog(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
    name = call.param("CatalogName") or call.param("Name") or "AwsDataCatalog"
    return [Permission(f"athena:{call.operation}", call.arn("athena", f"datacatalog/{name}"))]


OPERATIONS: dict[str, Mapper] = {
    **{
        name: _named_workgroup
        for name in (
            "StartQueryExecution",
            "ListQueryExecutions",
            "CreateWorkGroup",
            "GetWorkGroup",
            "UpdateWorkGroup",
            "DeleteWorkGroup",
        )
    },
    **{
        name: _queries_workgroups
        for name in (
            "GetQueryExecution",
            "BatchGetQueryExecution",
            "GetQueryResults",
            "GetQueryRuntimeStatistics",
            "StopQueryExecution",
        )
    },
    **{
        name: _data_catalog
        for name in (
            "GetDataCatalog",
            "GetDatabase",
            "ListDatabases",
            "GetTableMetadata",
            "ListTableMetadata",
        )
    },
    "ListWorkGroups": uniform("athena:ListWorkGroups", everything),
    "ListDataCatalogs": uniform("athena:ListDataCatalogs", everything),
}
