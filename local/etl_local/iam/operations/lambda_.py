"""AWS Lambda: function resources, qualified or not.

"Actions, resources, and condition keys for AWS Lambda" and "Fine-tuning the Resources and
Conditions sections of policies" (Lambda Developer Guide): Invoke is the action
lambda:InvokeFunction on the function ARN; a request naming a version or alias (Qualifier,
or a `name:qualifier` FunctionName) acts on the qualified ARN
`arn:aws:lambda:<region>:<account>:function:<name>:<qualifier>`, which a policy naming only
the unqualified ARN does not cover. FunctionName may be a name, a partial ARN
(`<account>:function:<name>`) or a full ARN. Creating a function hands it a role.
"""

from __future__ import annotations

from etl_local.iam.operations.call import (
    ApiCall,
    Mapper,
    Permission,
    ServerLookups,
    everything,
    pass_role,
    uniform,
)

PASSED_TO = "lambda.amazonaws.com"

# API operation -> IAM action, where they differ.
ACTION_NAMES = {
    "Invoke": "lambda:InvokeFunction",
    "InvokeWithResponseStream": "lambda:InvokeFunction",
}
FUNCTION_OPERATIONS = (
    "Invoke",
    "InvokeAsync",
    "InvokeWithResponseStream",
    "GetFunction",
    "GetFunctionConfiguration",
    "UpdateFunctionCode",
    "DeleteFunction",
    "AddPermission",
    "RemovePermission",
    "GetPolicy",
    "PublishVersion",
    "ListVersionsByFunction",
    "CreateAlias",
    "GetAlias",
    "UpdateAlias",
    "DeleteAlias",
    "ListAliases",
    "PutFunctionConcurrency",
    "GetFunctionConcurrency",
    "DeleteFunctionConcurrency",
)


def function_arn(call: ApiCall) -> str:
    """The ARN a request acts on, with its qualifier when it names one."""
    name = str(call.param("FunctionName"))
    region, account = call.region, call.account
    if name.startswith("arn:"):
        parts = name.split(":")  # arn:partition:lambda:region:account:function:name[:q]
        region, account, rest = parts[3], parts[4], parts[6:]
    elif ":function:" in name:
        account, _, tail = name.partition(":function:")
        rest = tail.split(":")
    else:
        rest = name.split(":")
    function, qualifier = rest[0], (rest[1] if len(rest) > 1 else call.param("Qualifier"))
    arn = f"arn:{call.partition}:lambda:{region}:{account}:function:{function}"
    return f"{arn}:{qualifier}" if qualifier else arn


def _function_operation(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
    action = ACTION_NAMES.get(call.operation, f"lambda:{call.operation}")
    return [Permission(action, function_arn(call))]


def _with_role(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
    return [
        Permission(f"lambda:{call.operation}", function_arn(call)),
        *pass_role(call, call.param("Role"), PASSED_TO),
    ]


OPERATIONS: dict[str, Mapper] = {
    **{name: _function_operation for name in FUNCTION_OPERATIONS},
    "CreateFunction": _with_role,
    "UpdateFunctionConfiguration": _with_role,
    "ListFunctions": uniform("lambda:ListFunctions", everything),
}
