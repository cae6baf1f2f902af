"""What the plans hold for operations: the alarms (each judged as CloudWatch would judge it,
etl_local.alarms), the dashboard, the freshness check, the metric grants, the runbook."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hcl_tree import REPOSITORY_ROOT
from plan_json import load_plan

from etl_lambdas import metrics
from etl_lambdas.sources import load_sources
from etl_local.alarms import ALARM, OK, state

HOUR = 1
DAY = 24


def _values(plan: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [
        change["change"]["after"]
        for change in plan["resource_changes"]
        if change["type"] == resource_type and change["mode"] == "managed"
    ]


def _alarms(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    prefix = f"{plan['variables']['project']['value']}-{plan['variables']['env']['value']}-"
    return {
        alarm["alarm_name"].removeprefix(prefix): alarm
        for alarm in _values(plan, "aws_cloudwatch_metric_alarm")
    }


@pytest.fixture(scope="module")
def dev_plan(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return load_plan("dev", tmp_path_factory.mktemp("dev-plan"))


SOURCES = load_sources(REPOSITORY_ROOT / "sql" / "sources.yaml").names()


def test_prod_alarms_on_what_needs_a_human_and_nothing_the_machine_handles(
    prod_plan: dict[str, Any],
) -> None:
    alarms = _alarms(prod_plan)

    assert set(alarms) == {
        "executions-failed",
        "missed-run",
        *(f"raw-data-late-{source.replace('_', '-')}" for source in SOURCES),
    }
    watched = {
        query["metric"][0]["namespace"]
        for alarm in alarms.values()
        for query in alarm["metric_query"]
        if query["metric"]
    }
    # Lambda errors and throttles are retried or caught by the state machine: what they end
    # in, a failed execution, is the alarm.
    assert watched == {"AWS/States", "lakepipe-prod"}
    for alarm in alarms.values():
        assert (
            alarm["alarm_actions"] and alarm["datapoints_to_alarm"] == alarm["evaluation_periods"]
        )


def test_dev_has_no_missed_run_or_freshness_alarm(dev_plan: dict[str, Any]) -> None:
    # Its schedule is off and nothing delivers to it (envs/dev.tfvars).
    assert set(_alarms(dev_plan)) == {"executions-failed"}
    assert not [r for r in _values(dev_plan, "aws_cloudwatch_event_rule") if "fresh" in r["name"]]


def test_every_alarm_says_what_to_do_in_a_runbook_section_of_the_readme(
    prod_plan: dict[str, Any],
) -> None:
    readme = (REPOSITORY_ROOT / "README.md").read_text(encoding="utf-8")
    runbook = readme.split("\n## Runbook\n", 1)[1].split("\n## ", 1)[0]
    sections = set(re.findall(r"^### (.+)$", runbook, re.MULTILINE))
    for name, alarm in _alarms(prod_plan).items():
        named = re.search(r"section Runbook, ([^)]+)\)", alarm["alarm_description"])
        assert named, f"{name}: its description names no runbook section"
        assert named.group(1) in sections, f"{name}: README has no '### {named.group(1)}'"
        assert f"`<prefix>-{re.sub(r'late-.*', 'late-<source>', name)}`" in runbook, name


# -- the missed-run alarm, judged as CloudWatch would (hour indexes) --------------------------


def _succeeded(hours: list[int]) -> dict[str, dict[int, float]]:
    return {"succeeded": dict.fromkeys(hours, 1.0)}


def test_a_missed_run_alarms_after_the_period_the_timeout_and_the_margin(
    prod_plan: dict[str, Any],
) -> None:
    alarm = _alarms(prod_plan)["missed-run"]
    variables = {name: v["value"] for name, v in prod_plan["variables"].items()}
    waited = DAY + variables["state_machine_timeout_seconds"] // 3600 + 1  # 60-minute margin
    assert alarm["treat_missing_data"] == "breaching"
    assert alarm["evaluation_periods"] == waited == 31

    # Daily runs at 03:00 UTC that succeed within the hour: never in alarm.
    daily = _succeeded([day * DAY + 3 for day in range(1, 12)])
    assert {state(alarm, daily, now) for now in range(2 * DAY, 12 * DAY)} == {OK}
    # One run takes five hours longer than the next (both within the timeout): no alarm.
    uneven = _succeeded([day * DAY + (8 if day % 2 else 3) for day in range(1, 12)])
    assert {state(alarm, uneven, now) for now in range(2 * DAY, 12 * DAY)} == {OK}

    # The run of day 6 never starts: the alarm fires 31 hours after day 5's success.
    last = 5 * DAY + 3
    stopped = _succeeded([day * DAY + 3 for day in range(1, 6)])
    assert state(alarm, stopped, last + waited - 1) == OK
    assert state(alarm, stopped, last + waited) == ALARM
    # A pipeline that never ran at all (missing data is breaching).
    assert state(alarm, {}, 100) == ALARM
    # The next success ends it.
    assert state(alarm, _succeeded([last, last + waited + 2]), last + waited + 2) == OK


# -- the freshness alarms ---------------------------------------------------------------------


def test_each_source_has_a_freshness_alarm_on_the_checks_metric(prod_plan: dict[str, Any]) -> None:
    alarms = _alarms(prod_plan)
    for source in SOURCES:
        alarm = alarms[f"raw-data-late-{source.replace('_', '-')}"]
        (query,) = alarm["metric_query"]
        assert query["metric"][0]["metric_name"] == metrics.MISSING_ARRIVAL_PARTITIONS
        assert query["metric"][0]["dimensions"] == {metrics.SOURCE: source}
        assert query["metric"][0]["period"] == 3600
        assert "02:00 UTC" in alarm["alarm_description"]

        check = {query["id"]: {hour: 0.0 for hour in range(90, 100)}}
        assert state(alarm, check, 99) == OK
        # The current hour not reported yet: the last report counts.
        assert state(alarm, check, 100) == OK
        late = {query["id"]: {**check[query["id"]], 99: 3.0}}
        assert state(alarm, late, 99) == ALARM
        # The check stopped reporting: its silence is breaching.
        assert state(alarm, check, 110) == ALARM


def test_the_freshness_check_runs_hourly_with_the_scheduled_event(
    prod_plan: dict[str, Any],
) -> None:
    (rule,) = [
        r for r in _values(prod_plan, "aws_cloudwatch_event_rule") if "freshness" in r["name"]
    ]
    (target,) = [
        t for t in _values(prod_plan, "aws_cloudwatch_event_target") if t["rule"] == rule["name"]
    ]
    (permission,) = _values(prod_plan, "aws_lambda_permission")

    assert rule["schedule_expression"] == "rate(1 hour)"
    # The whole event: its `time` is the check's time.
    assert target["input"] is None and not target["input_transformer"]
    assert target["arn"].endswith(":function:lakepipe-prod-freshness")
    assert permission["principal"] == "events.amazonaws.com"
    assert permission["source_arn"] == f"arn:aws:events:eu-west-1:123456789012:rule/{rule['name']}"


def test_the_functions_are_told_the_namespace_they_may_put_metrics_into(
    prod_plan: dict[str, Any],
) -> None:
    functions = {f["function_name"]: f for f in _values(prod_plan, "aws_lambda_function")}
    policies = {
        p["role"]: json.loads(p["policy"]) for p in _values(prod_plan, "aws_iam_role_policy")
    }
    for step in ("notify", "freshness"):
        variables = functions[f"lakepipe-prod-{step}"]["environment"][0]["variables"]
        assert variables["METRICS_NAMESPACE"] == "lakepipe-prod"
        statements = policies[f"lakepipe-prod-{step}-lambda"]["Statement"]
        (put,) = [s for s in statements if s["Action"] == "cloudwatch:PutMetricData"]
        assert put["Condition"] == {"StringEquals": {"cloudwatch:namespace": "lakepipe-prod"}}
    deadlines = json.loads(
        functions["lakepipe-prod-freshness"]["environment"][0]["variables"]["ARRIVAL_DEADLINES"]
    )
    assert deadlines == dict.fromkeys(SOURCES, "02:00")


# -- the dashboard ----------------------------------------------------------------------------


def test_the_dashboard_shows_runs_costs_late_data_and_bad_input(prod_plan: dict[str, Any]) -> None:
    (dashboard,) = _values(prod_plan, "aws_cloudwatch_dashboard")
    widgets = json.loads(dashboard["dashboard_body"])["widgets"]
    graphed = json.dumps([w["properties"].get("metrics") for w in widgets])
    alarms_widget = next(w for w in widgets if w["type"] == "alarm")

    for metric in (
        "ExecutionsSucceeded",
        "ExecutionsFailed",
        "ExecutionTime",
        "ProcessedBytes",
        metrics.GLUE_DPU_SECONDS,
        metrics.RESTATED_DAYS,
        metrics.MALFORMED_LINES,
        metrics.MISSING_ARRIVAL_PARTITIONS,
    ):
        assert metric in graphed, metric
    for source in SOURCES:
        assert f'"MalformedLines", "Source", "{source}"' in graphed
    assert len(alarms_widget["properties"]["alarms"]) == len(_alarms(prod_plan))
    # No two widgets overlap on the 24-column grid.
    cells = [
        (w["x"] + dx, w["y"] + dy)
        for w in widgets
        for dx in range(w["width"])
        for dy in range(w["height"])
    ]
    assert len(cells) == len(set(cells))
