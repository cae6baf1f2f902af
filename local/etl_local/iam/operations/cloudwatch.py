"""Amazon CloudWatch (metrics, alarms, dashboards).

"Actions, resources, and condition keys for Amazon CloudWatch": PutMetricData supports no
resource type (its resource is "*") and carries the condition key `cloudwatch:namespace`,
the request's Namespace, by which a policy confines it to a namespace. Alarms act on
`arn:aws:cloudwatch:<region>:<account>:alarm:<name>`, dashboards on
`arn:aws:cloudwatch::<account>:dashboard/<name>` (global: no region). Reading metrics and
describing alarms support no resource type.
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


def _put_metric_data(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
    namespace = str(call.param("Namespace"))
    return [Permission("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": namespace})]


def _alarm(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
    name = str(call.param("AlarmName"))
    return [Permission(f"cloudwatch:{call.operation}", call.arn("cloudwatch", f"alarm:{name}"))]


def _alarms(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
    return [
        Permission(f"cloudwatch:{call.operation}", call.arn("cloudwatch", f"alarm:{name}"))
        for name in call.param("AlarmNames") or []
    ]


def _dashboard(call: ApiCall, lookups: ServerLookups) -> list[Permission]:
    name = str(call.param("DashboardName"))
    resource = f"arn:{call.partition}:cloudwatch::{call.account}:dashboard/{name}"
    return [Permission(f"cloudwatch:{call.operation}", resource)]


OPERATIONS: dict[str, Mapper] = {
    "PutMetricData": _put_metric_data,
    "PutMetricAlarm": _alarm,
    "SetAlarmState": _alarm,
    "DeleteAlarms": _alarms,
    "PutDashboard": _dashboard,
    "GetDashboard": _dashboard,
    **{
        name: uniform(f"cloudwatch:{name}", everything)
        for name in (
            "DescribeAlarms",
            "GetMetricData",
            "GetMetricStatistics",
            "ListMetrics",
            "ListDashboards",
        )
    },
}
