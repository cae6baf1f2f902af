"""Deploy what the plan adds for operations: alarms, the dashboard, the freshness check's
schedule (the schedule's own rule too) and the permission that lets it invoke its function,
one applier per resource type (etl_local.deploy applies them in the apply graph's order).

moto stores all of them, as CloudWatch and EventBridge would, and answers Describe/Get calls
with them; what it cannot emulate is skipped by design, not silently: moto never evaluates
an alarm (its state stays as set) and never fires a schedule rule. The local runtime invokes
the freshness function as EventBridge would (`LocalRuntime.check_freshness`), and
etl_local.alarms evaluates an alarm's configuration as CloudWatch documents it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from etl_local.apply_graph import PlannedResource
from etl_local.settings import LocalSettings


def _alarm(clients: Any, resource: PlannedResource, settings: LocalSettings) -> None:
    clients("cloudwatch").put_metric_alarm(**alarm_request(resource.values))


def _dashboard(clients: Any, resource: PlannedResource, settings: LocalSettings) -> None:
    values = resource.values
    clients("cloudwatch").put_dashboard(
        DashboardName=values["dashboard_name"], DashboardBody=values["dashboard_body"]
    )


def _rule(clients: Any, resource: PlannedResource, settings: LocalSettings) -> None:
    clients("events").put_rule(**rule_request(resource.values))


def _target(clients: Any, resource: PlannedResource, settings: LocalSettings) -> None:
    values = resource.values
    clients("events").put_targets(Rule=values["rule"], Targets=[target(values)])


def _permission(clients: Any, resource: PlannedResource, settings: LocalSettings) -> None:
    _add_permission(clients("lambda"), resource.values)


# Applied by etl_local.deploy in the apply graph's order, as the other resources are.
MONITORING_APPLIERS: dict[str, Callable[[Any, PlannedResource, LocalSettings], None]] = {
    "aws_cloudwatch_metric_alarm": _alarm,
    "aws_cloudwatch_dashboard": _dashboard,
    "aws_cloudwatch_event_rule": _rule,
    "aws_cloudwatch_event_target": _target,
    "aws_lambda_permission": _permission,
}


def alarm_request(values: Mapping[str, Any]) -> dict[str, Any]:
    """PutMetricAlarm's parameters for a planned aws_cloudwatch_metric_alarm."""
    request: dict[str, Any] = {
        "AlarmName": values["alarm_name"],
        "AlarmDescription": values.get("alarm_description") or "",
        "ActionsEnabled": values.get("actions_enabled") is not False,
        "AlarmActions": list(values.get("alarm_actions") or []),
        "OKActions": list(values.get("ok_actions") or []),
        "EvaluationPeriods": int(values["evaluation_periods"]),
        "ComparisonOperator": values["comparison_operator"],
        "Threshold": float(values["threshold"]),
        "TreatMissingData": values.get("treat_missing_data") or "missing",
    }
    if values.get("datapoints_to_alarm"):
        request["DatapointsToAlarm"] = int(values["datapoints_to_alarm"])
    if values.get("metric_query"):
        request["Metrics"] = [_metric_query(query) for query in values["metric_query"]]
    else:
        request.update(
            Namespace=values["namespace"],
            MetricName=values["metric_name"],
            Dimensions=_dimensions(values.get("dimensions")),
            Period=int(values["period"]),
            Statistic=values["statistic"],
        )
    return request


def _metric_query(query: Mapping[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"Id": query["id"], "ReturnData": bool(query.get("return_data"))}
    if query.get("expression"):
        entry["Expression"] = query["expression"]
    if query.get("label"):
        entry["Label"] = query["label"]
    for metric in query.get("metric") or []:
        entry["MetricStat"] = {
            "Metric": {
                "Namespace": metric["namespace"],
                "MetricName": metric["metric_name"],
                "Dimensions": _dimensions(metric.get("dimensions")),
            },
            "Period": int(metric["period"]),
            "Stat": metric["stat"],
        }
    return entry


def _dimensions(dimensions: Mapping[str, str] | None) -> list[dict[str, str]]:
    return [{"Name": name, "Value": value} for name, value in (dimensions or {}).items()]


def rule_request(values: Mapping[str, Any]) -> dict[str, Any]:
    request = {
        "Name": values["name"],
        "Description": values.get("description") or "",
        "State": values.get("state") or "ENABLED",
    }
    if values.get("schedule_expression"):
        request["ScheduleExpression"] = values["schedule_expression"]
    if values.get("event_pattern"):
        request["EventPattern"] = values["event_pattern"]
    return request


def target(values: Mapping[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"Id": values["target_id"], "Arn": values["arn"]}
    if values.get("role_arn"):
        entry["RoleArn"] = values["role_arn"]
    if values.get("input"):
        entry["Input"] = values["input"]
    for transformer in values.get("input_transformer") or []:
        entry["InputTransformer"] = {
            "InputPathsMap": dict(transformer.get("input_paths") or {}),
            "InputTemplate": transformer["input_template"],
        }
    return entry


def _add_permission(lambda_client: Any, values: Mapping[str, Any]) -> None:
    try:
        policy = json.loads(
            lambda_client.get_policy(FunctionName=values["function_name"])["Policy"]
        )
    except lambda_client.exceptions.ResourceNotFoundException:
        policy = {"Statement": []}
    if any(s.get("Sid") == values["statement_id"] for s in policy.get("Statement", [])):
        return
    request = {
        "FunctionName": values["function_name"],
        "StatementId": values["statement_id"],
        "Action": values["action"],
        "Principal": values["principal"],
    }
    if values.get("source_arn"):
        request["SourceArn"] = values["source_arn"]
    lambda_client.add_permission(**request)
