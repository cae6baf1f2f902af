"""The real pipeline, end to end, on the local runtime: one day, re-runs, a backfill."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from etl_lambdas.catalog import TIERS
from etl_local import iam_report
from etl_local.runtime import LocalRuntime, RunResult

pytestmark = pytest.mark.e2e

DAY = "2025-11-30"
DWD = "lakepipe_local_dwd.traffic_events"


def published_tables(runtime: LocalRuntime) -> dict[str, list[tuple[Any, ...]]]:
    """Every published table's rows, sorted: equal dicts mean identical tables."""
    tables = {}
    glue = runtime.client("glue")
    for tier in TIERS:
        database = runtime.settings.database(tier)
        for table in glue.get_tables(DatabaseName=database)["TableList"]:
            name = f"{database}.{table['Name']}"
            tables[name] = sorted(runtime.query(f"SELECT * FROM {name}").rows, key=repr)
    return tables


def assert_succeeded(result: RunResult) -> None:
    assert result.status == "SUCCEEDED", f"{result.error}: {result.cause}"


def test_one_day_publishes_every_tier(runtime: LocalRuntime) -> None:
    result = runtime.run({"date": DAY})

    assert_succeeded(result)
    assert {m.tier for m in result.models} == set(TIERS)
    assert all(m.rows_written > 0 and m.partitions_written > 0 for m in result.models)
    assert all(m.bytes_read > 0 for m in result.models)
    hours = runtime.query(
        f"SELECT count(DISTINCT hour) AS hours, count(DISTINCT sensor_id) AS sensors FROM {DWD} "
        "WHERE year = '2025' AND month = '11' AND day = '30'"
    )
    assert hours.rows == [(24, 3)]
    active = runtime.query(
        "SELECT count(*) FROM lakepipe_local_dws.daily_active_sensors WHERE day = '30'"
    )
    assert active.rows == [(3,)]
    congestion = runtime.query("SELECT count(*) FROM lakepipe_local_ads.segment_congestion_daily")
    assert congestion.rows[0][0] > 0
    assert [n["subject"] for n in result.notifications] == [
        n["subject"] for n in result.notifications if "SUCCEEDED" in n["subject"]
    ]
    assert len(result.notifications) == 1
    entered = [e.name for e in result.events if e.outcome == "ENTERED"]
    assert entered[:3] == ["Begin", "ConversionNeeded", "ConvertRaw"]


def test_same_day_twice_gives_identical_tables(runtime: LocalRuntime) -> None:
    assert_succeeded(runtime.run({"date": DAY}))
    before = published_tables(runtime)

    assert_succeeded(runtime.run({"date": DAY}))

    assert published_tables(runtime) == before
    duplicates = runtime.query(
        f"SELECT sensor_id, event_time, count(*) FROM {DWD} GROUP BY 1, 2 HAVING count(*) > 1"
    )
    assert duplicates.rows == []


def test_backfill_across_a_month_end_gives_168_hourly_partitions(runtime: LocalRuntime) -> None:
    result = runtime.run({"start_date": "2025-11-27", "end_date": "2025-12-03"})

    assert_succeeded(result)
    partitions = runtime.query(
        f"SELECT count(*) FROM (SELECT DISTINCT year, month, day, hour FROM {DWD} "
        "WHERE (month = '11' AND day >= '27') OR (month = '12' AND day <= '03'))"
    )
    assert partitions.rows == [(168,)]
    glue = runtime.client("glue")
    pages = glue.get_paginator("get_partitions").paginate(
        DatabaseName="lakepipe_local_dwd", TableName="traffic_events"
    )
    catalogued = {tuple(p["Values"]) for page in pages for p in page["Partitions"]}
    assert len(catalogued) == 168
    assert ("2025", "12", "01", "00") in catalogued
    assert ("2025", "11", "30", "23") in catalogued


def test_a_selected_run_on_a_current_ods_skips_the_conversion(runtime: LocalRuntime) -> None:
    # The earlier runs converted every raw file of the day's window: the ODS is current.
    before = published_tables(runtime)

    result = runtime.run({"date": DAY, "select": ["+daily_active_sensors"]})

    assert_succeeded(result)
    entered = [e.name for e in result.events if e.outcome == "ENTERED"]
    assert entered[:4] == ["Begin", "ConversionNeeded", "ConversionSkipped", "Register"]
    assert "ConvertRaw" not in entered
    assert [m.model for m in result.models] == ["traffic_events", "daily_active_sensors"]
    # the selection's tables are written again, the same; nothing else changes
    assert published_tables(runtime) == before


def test_the_runs_and_the_freshness_check_send_the_dashboards_metrics(
    runtime: LocalRuntime,
) -> None:
    # After the module's runs: each success sent the run's metrics (etl_lambdas.metrics).
    cloudwatch = runtime.client("cloudwatch")
    sent = {
        (m["MetricName"], tuple(d["Value"] for d in m.get("Dimensions", [])))
        for m in cloudwatch.list_metrics(Namespace="lakepipe-local")["Metrics"]
    }
    assert {("RestatedDays", ()), ("GlueDPUSeconds", ())} <= sent

    # The hourly check, invoked as its rule invokes it: the sample's days have arrived...
    arrived = runtime.check_freshness(datetime(2025, 12, 1, 3, 5, tzinfo=UTC))["sources"]
    assert arrived["traffic"] == {
        "day": "2025-11-30",
        "expected_partitions": 24,
        "missing_partitions": [],
    }
    assert arrived["app_activity"]["missing_partitions"] == []
    # ...and the days after them have not.
    late = runtime.check_freshness(datetime(2025, 12, 10, 3, 5, tzinfo=UTC))["sources"]
    assert len(late["traffic"]["missing_partitions"]) == 24
    assert late["app_activity"]["missing_partitions"] == [
        "raw/app_activity/year=2025/month=12/day=09/"
    ]
    points = cloudwatch.get_metric_statistics(
        Namespace="lakepipe-local",
        MetricName="MissingArrivalPartitions",
        Dimensions=[{"Name": "Source", "Value": "traffic"}],
        StartTime=datetime(2025, 12, 1, tzinfo=UTC),
        EndTime=datetime(2025, 12, 11, tzinfo=UTC),
        Period=3600,
        Statistics=["Maximum"],
    )["Datapoints"]
    assert sorted(p["Maximum"] for p in points) == [0, 24]
    # The plan's alarms and dashboard are deployed (moto stores them; it evaluates none).
    alarms = {a["AlarmName"] for a in cloudwatch.describe_alarms()["MetricAlarms"]}
    assert "lakepipe-local-raw-data-late-traffic" in alarms
    assert cloudwatch.get_dashboard(DashboardName="lakepipe-local")["DashboardBody"]


def test_the_runs_were_never_denied_and_each_unused_grant_has_a_reason(
    runtime: LocalRuntime,
) -> None:
    # After the module's runs (one day, the same day again, a backfill, a selection): least
    # privilege, measured on what they asked for (etl_local.iam_report).
    assert runtime.iam is not None
    report = iam_report.build(runtime.iam.ledger.lines(), iam_report.load_reasons())

    assert report["denied"] == []
    assert report["unexplained_unused_statements"] == []
    write_role = "arn:aws:iam::123456789012:role/lakepipe-local-write-lambda"
    used = {entry["action"] for entry in report["identities"][write_role]["used"]}
    assert {"athena:StartQueryExecution", "glue:BatchCreatePartition"} <= used
