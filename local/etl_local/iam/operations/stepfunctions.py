"""AWS Step Functions: state machine and execution resources.

"Actions, resources, and condition keys for AWS Step Functions": StartExecution,
StartSyncExecution, DescribeStateMachine, UpdateStateMachine, DeleteStateMachine and
ListExecutions act on `arn:aws:states:<region>:<account>:stateMachine:<name>`;
DescribeExecution, StopExecution, GetExecutionHistory and
DescribeStateMachineForExecution on the execution,
`arn:aws:states:<region>:<account>:execution:<state machine>:<execution>`. Creating a state
machine hands it a role (iam:PassRole). Task tokens and listing support no resource type.
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

PASSED_TO = "states.amazonaws.com"


def _state_machine(call: ApiCall) -> str:
    return str(call.param("stateMachineArn"))


def _execution(call: ApiCall) -> str:
    return str(call.param("executionArn"))


def _create(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
    arn = call.arn("states", f"stateMachine:{call.param('name')}")
    return [
        Permission("states:CreateStateMachine", arn),
        *pass_role(call, call.param("roleArn"), PASSED_TO),
    ]


def _update(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
    return [
        Permission("states:UpdateStateMachine", _state_machine(call)),
        *pass_role(call, call.param("roleArn"), PASSED_TO),
    ]


OPERATIONS: dict[str, Mapper] = {
    **{
        name: uniform(f"states:{name}", _state_machine)
        for name in (
            "StartExecution",
            "StartSyncExecution",
            "DescribeStateMachine",
            "DeleteStateMachine",
            "ListExecutions",
        )
    },
    **{
        name: uniform(f"states:{name}", _execution)
        for name in (
            "DescribeExecution",
            "StopExecution",
            "GetExecutionHistory",
            "DescribeStateMachineForExecution",
        )
    },
    "CreateStateMachine": _create,
    "UpdateStateMachine": _update,
    **{
        name: uniform(f"states:{name}", everything)
        for name in (
            "ListStateMachines",
            "SendTaskSuccess",
            "SendTaskFailure",
            "SendTaskHeartbeat",
        )
    },
}
