"""Server state some authorization rules need, read from moto's backends.

Athena's GetQueryExecution names only the query, yet is authorized on the workgroup the
query ran in; dynamodb:LeadingKeys needs the table's partition key name. The local Athena
engine keeps its own executions, so the runtime passes its lookup in `athena_workgroup`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class MotoLookups:
    # query id -> workgroup name, for query executions moto does not hold (the local engine).
    athena_workgroup: Callable[[str], str | None] | None = None

    def athena_query_workgroup(self, account: str, region: str, query_id: str) -> str | None:
        if self.athena_workgroup is not None:
            found = self.athena_workgroup(query_id)
            if found is not None:
                return found
        from moto.athena.models import athena_backends

        execution = athena_backends[account][region].executions.get(query_id)
        if execution is None:
            return None
        workgroup = execution.workgroup
        return str(getattr(workgroup, "name", workgroup) or "primary")

    def dynamodb_partition_key(self, account: str, region: str, table: str) -> str | None:
        from moto.dynamodb.models import dynamodb_backends

        found = dynamodb_backends[account][region].tables.get(table)
        return found.hash_key_attr if found is not None else None
