"""Amazon DynamoDB: table (and index) resources, and the keys fine-grained access uses.

"Actions, resources, and condition keys for Amazon DynamoDB": item and table operations act
on `arn:aws:dynamodb:<region>:<account>:table/<name>`, a Query or Scan of an index on
`.../table/<name>/index/<index>`; BatchGetItem/BatchWriteItem need their action on every
table they name; TransactWriteItems needs PutItem, UpdateItem, DeleteItem or
ConditionCheckItem per item and TransactGetItems GetItem, with dynamodb:EnclosingOperation
set. dynamodb:LeadingKeys holds the partition key values a request touches ("Using IAM
policy conditions for fine-grained access control"), dynamodb:Select, dynamodb:ReturnValues
and dynamodb:ReturnConsumedCapacity the request's parameters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from etl_local.iam.conditions import ContextValue
from etl_local.iam.operations.call import (
    ApiCall,
    Mapper,
    Permission,
    ServerLookups,
    everything,
    uniform,
)

ITEM_OPERATIONS = ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan")
TABLE_OPERATIONS = (
    "DescribeTable",
    "CreateTable",
    "DeleteTable",
    "UpdateTable",
    "DescribeTimeToLive",
    "UpdateTimeToLive",
)
PARAMETER_KEYS = {
    "Select": "dynamodb:select",
    "ReturnValues": "dynamodb:returnvalues",
    "ReturnConsumedCapacity": "dynamodb:returnconsumedcapacity",
}
TRANSACT_WRITE_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}
_EQUALITY = re.compile(r"^\(?\s*([#\w.]+)\s*=\s*(:\w+)\s*\)?$")


def table_arn(call: ApiCall, table: str, index: str | None = None) -> str:
    return call.arn("dynamodb", f"table/{table}" + (f"/index/{index}" if index else ""))


def _scalar(value: Mapping[str, Any]) -> str | None:
    """The text of a key attribute value ({"S": "a"}, {"N": "1"} or {"B": ...})."""
    for kind in ("S", "N", "B"):
        if kind in value:
            return str(value[kind])
    return None


def _query_partition_value(params: Mapping[str, Any], key: str) -> str | None:
    names = params.get("ExpressionAttributeNames") or {}
    values = params.get("ExpressionAttributeValues") or {}
    for clause in re.split(
        r"\s+and\s+", str(params.get("KeyConditionExpression") or ""), flags=re.I
    ):
        match = _EQUALITY.match(clause.strip())
        if match and names.get(match.group(1), match.group(1)) == key:
            return _scalar(values.get(match.group(2)) or {})
    legacy = (params.get("KeyConditions") or {}).get(key) or {}
    if legacy.get("ComparisonOperator") == "EQ":
        return _scalar((legacy.get("AttributeValueList") or [{}])[0])
    return None


def _leading_keys(items: Iterable[Mapping[str, Any] | None], key: str) -> tuple[str, ...]:
    return tuple(v for item in items if item and (v := _scalar(item.get(key) or {})) is not None)


def _keys(
    call: ApiCall, lookups: ServerLookups, table: str, params: Mapping[str, Any]
) -> dict[str, ContextValue]:
    keys: dict[str, ContextValue] = {
        name: str(params[parameter])
        for parameter, name in PARAMETER_KEYS.items()
        if parameter in params
    }
    partition_key = lookups.dynamodb_partition_key(call.account, call.region, table)
    if partition_key is None:
        return keys
    if "KeyConditionExpression" in params or "KeyConditions" in params:
        value = _query_partition_value(params, partition_key)
        leading: tuple[str, ...] = (value,) if value is not None else ()
    else:
        leading = _leading_keys([params.get("Key"), params.get("Item")], partition_key)
    if leading:
        keys["dynamodb:leadingkeys"] = leading
    return keys


def _item_operation(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
    table = str(call.param("TableName"))
    resource = table_arn(call, table, call.param("IndexName"))
    return [
        Permission(f"dynamodb:{call.operation}", resource, _keys(call, lookups, table, call.params))
    ]


def _batch(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
    permissions = []
    for table, request in (call.param("RequestItems") or {}).items():
        key = lookups.dynamodb_partition_key(call.account, call.region, table)
        if isinstance(request, Mapping):  # BatchGetItem: {"Keys": [...]}
            items: list[Mapping[str, Any] | None] = list(request.get("Keys") or [])
        else:  # BatchWriteItem: [{"PutRequest": {"Item"}}, {"DeleteRequest": {"Key"}}]
            items = [
                (r.get("PutRequest") or {}).get("Item") or (r.get("DeleteRequest") or {}).get("Key")
                for r in request
            ]
        keys: dict[str, ContextValue] = {}
        if key is not None and (leading := _leading_keys(items, key)):
            keys["dynamodb:leadingkeys"] = leading
        permissions.append(Permission(f"dynamodb:{call.operation}", table_arn(call, table), keys))
    return permissions


def _transact(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
    permissions = []
    for item in call.param("TransactItems") or []:
        for kind, request in item.items():
            action = TRANSACT_WRITE_ACTIONS.get(kind, "dynamodb:GetItem")
            table = str(request.get("TableName"))
            keys = _keys(call, lookups, table, request)
            keys["dynamodb:enclosingoperation"] = call.operation
            permissions.append(Permission(action, table_arn(call, table), keys))
    return permissions


OPERATIONS: dict[str, Mapper] = {
    **{name: _item_operation for name in ITEM_OPERATIONS + TABLE_OPERATIONS},
    "BatchGetItem": _batch,
    "BatchWriteItem": _batch,
    "TransactWriteItems": _transact,
    "TransactGetItems": _transact,
    "ListTables": uniform("dynamodb:ListTables", everything),
}
