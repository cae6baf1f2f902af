"""What a data engineer relies on every day, end to end on the local runtime: both declared
sources published for the same days, late data restated exactly (and data older than the
look-back bound reported), a skipped day caught up by the next run, one run at a time, and a
schema change reaching the ODS table through the crawler while a day without change crawls
nothing.

The scenarios build on each other in file order (one runtime, one Spark start): the first
run publishes the sample week, the next ones deliver late, concurrent and changed data."""

from __future__ import annotations

import copy
import gzip
import json
import threading
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from etl_lambdas.catalog import load_catalog
from etl_lambdas.sources import job_argument, read_document
from etl_local import glue_runner
from etl_local.runtime import LocalRuntime, RunResult
from tests.e2e.test_faults import fingerprint

pytestmark = pytest.mark.e2e

DAY = date(2025, 11, 28)  # the first run's day; its late events arrive two days later
SKIPPED_DAY = date(2025, 11, 29)  # no run of its own: caught up by the next
LATE_RUN_DAY = date(2025, 11, 30)
OLD_DAY = date(2025, 11, 20)  # before LATE_RUN_DAY - 7 days: beyond the look-back bound
HELD_DAY = date(2025, 12, 1)  # the run that holds the lease
BUSY_DAY = date(2025, 11, 29)  # the run started while the lease is held
SCHEMA_DAY = date(2025, 12, 2)  # the app's CSV gains a column
QUIET_DAY = date(2025, 12, 3)  # no schema change: no crawl

TRAFFIC_FIELDS = (
    "uniqueId", "recordTimestamp", "currentSpeed", "previousSpeed", "bezettingsgraad",
    "trafficIntensityClass2", "trafficIntensityClass3", "trafficIntensityClass4",
    "trafficIntensityClass5", "segment",
)  # fmt: skip
APP_HEADER = "user_id,action,event_time,device,app_version,country"
LATE_SENSOR, LATE_SEGMENT, LATE_VERSION = "9001", "Late segment km 0.1", "9.9.9"


# -- helpers ------------------------------------------------------------------------------


def assert_succeeded(result: RunResult) -> None:
    assert result.status == "SUCCEEDED", f"{result.error}: {result.cause}"


def restate_output(result: RunResult) -> dict[str, Any]:
    payload: dict[str, Any] = result.output["restate"]["Payload"]
    return payload


def run_id_of(result: RunResult) -> str:
    return str(result.output["run"]["Payload"]["run_id"])


def day_filter(day: date) -> str:
    return f"year = '{day:%Y}' AND month = '{day:%m}' AND day = '{day:%d}'"


def model_tables(runtime: LocalRuntime) -> dict[str, str]:
    """model name -> its published table, every model of the catalog."""
    return {
        model.name: f"{runtime.settings.database(model.tier)}.{model.name}"
        for model in load_catalog().models
    }


def count(runtime: LocalRuntime, sql: str) -> int:
    return int(runtime.query(sql).rows[0][0])


def partition_day(values: tuple[str, ...]) -> date:
    return date(int(values[0]), int(values[1]), int(values[2]))


def partitions_by_day(
    tables: dict[str, list[tuple[str, ...]]],
) -> dict[tuple[str, date], set[tuple[str, ...]]]:
    """(table, day) -> that day's partitions with their locations."""
    days: dict[tuple[str, date], set[tuple[str, ...]]] = {}
    for table, partitions in tables.items():
        for partition in partitions:
            days.setdefault((table, partition_day(partition[:3])), set()).add(partition)
    return days


def traffic_lines(sensor: str, segment: str, times: list[str]) -> bytes:
    lines = [
        json.dumps(
            dict(zip(TRAFFIC_FIELDS, (sensor, at, 30, 35, 40, 5, 1, 0, 0, segment), strict=True))
        )
        for at in times
    ]
    return gzip.compress(("\n".join(lines) + "\n").encode())


def app_lines(rows: list[str], header: str = APP_HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def object_versions(runtime: LocalRuntime, bucket: str, prefix: str) -> dict[str, str]:
    """key -> ETag of every object under the prefix."""
    s3 = runtime.client("s3")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {item["Key"]: item["ETag"] for page in pages for item in page.get("Contents", [])}


def lease_holder(runtime: LocalRuntime) -> str | None:
    item = (
        runtime.client("dynamodb")
        .get_item(
            TableName=runtime.settings.run_lease_table,
            Key={"pk": {"S": "pipeline"}},
            ConsistentRead=True,
        )
        .get("Item")
    )
    return None if item is None else str(item["holder"]["S"])


def last_crawl_start(runtime: LocalRuntime, source: str) -> Any:
    crawler = runtime.client("glue").get_crawler(Name=runtime.settings.crawler_name(source))
    return crawler["Crawler"].get("LastCrawl", {}).get("StartTime")


# -- the scenarios ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def first_run(runtime: LocalRuntime) -> RunResult:
    result = runtime.run({"date": DAY.isoformat()})
    assert_succeeded(result)
    return result


def test_both_sources_publish_every_tier_for_the_same_day(
    runtime: LocalRuntime, first_run: RunResult
) -> None:
    # given both sources' raw data for the sample week, when the day has run (first_run)
    tables = model_tables(runtime)
    catalog = load_catalog()
    # then every model of both sources has rows for the day, in every tier
    empty = [
        name for name, table in tables.items()
        if count(runtime, f"SELECT count(*) FROM {table} WHERE {day_filter(DAY)}") == 0
    ]  # fmt: skip
    assert empty == []
    assert {m.tier for m in catalog.models} == {"dwd", "dws", "ads"}
    for source in ("traffic", "app_activity"):
        ods = f"{runtime.settings.database('ods')}.{source}"
        assert count(runtime, f"SELECT count(*) FROM {ods} WHERE {day_filter(DAY)}") > 0
    assert {m.model for m in first_run.models} == set(tables)


def test_late_events_are_restated_into_their_day_and_nothing_else_is_republished(
    runtime: LocalRuntime, first_run: RunResult
) -> None:
    # given the published week, and a batch delivered in the arrival folders of DAY + 2 that
    # holds events of DAY (late, within the bound) and of OLD_DAY (beyond the bound)
    before = fingerprint(runtime)
    late_traffic = traffic_lines(
        LATE_SENSOR,
        LATE_SEGMENT,
        ["2025-11-28T12:00:00+01:00", "2025-11-28T12:01:00+01:00", "2025-11-20T12:00:00+01:00"],
    )
    late_app = app_lines(
        [
            f"late-user,purchase,2025-11-28T10:00:00+01:00,android,{LATE_VERSION},BE",
            f"late-user,view,2025-11-28T10:01:00+01:00,android,{LATE_VERSION},BE",
            f"old-user,view,2025-11-19T10:00:00Z,ios,{LATE_VERSION},NL",
        ]
    )
    runtime.put_raw_objects(
        [
            (
                "raw/traffic/year=2025/month=11/day=30/hour=10/"
                "traffic-events-1-2025-11-30-10-59-00-late.json.gz",
                late_traffic,
            ),
            (
                "raw/app_activity/year=2025/month=11/day=30/"
                "app-activity-events-1-2025-11-30-23-59-00-late.csv",
                late_app,
            ),
        ]
    )

    # when DAY + 2 runs
    result = runtime.run({"date": LATE_RUN_DAY.isoformat()})

    # then DAY, and only DAY, was restated, with the late events counted per source, and the
    # day without a run of its own was caught up
    assert_succeeded(result)
    assert result.caught_up == {"start_date": "2025-11-29", "end_date": "2025-11-29"}
    restate = restate_output(result)
    assert restate["restated"] == [
        {"date": DAY.isoformat(), "events": {"app_activity": 2, "traffic": 2}}
    ]
    # the events older than the bound are counted and reported, not silently dropped
    assert restate["beyond_lookback"] == [
        {"date": "2025-11-19", "events": {"app_activity": 1}},
        {"date": OLD_DAY.isoformat(), "events": {"traffic": 1}},
    ]
    # what `etl run` shows is what the Restate step returned
    assert (result.restated, result.beyond_lookback) == (
        restate["restated"],
        restate["beyond_lookback"],
    )
    message = "\n".join(str(n["message"]) for n in result.notifications)
    assert "Restated for late data: 2025-11-28" in message
    assert "NOT restated" in message and "2025-11-20" in message
    # the late events are in DAY's DWD, DWS and ADS
    tables = model_tables(runtime)
    where = day_filter(DAY)
    assert count(runtime, f"SELECT count(*) FROM {tables['traffic_events']} "
                 f"WHERE {where} AND sensor_id = '{LATE_SENSOR}'") == 2  # fmt: skip
    assert count(runtime, f"SELECT count(*) FROM {tables['daily_active_sensors']} "
                 f"WHERE {where} AND sensor_id = '{LATE_SENSOR}'") == 1  # fmt: skip
    assert count(runtime, f"SELECT count(*) FROM {tables['segment_congestion_daily']} "
                 f"WHERE {where} AND segment = '{LATE_SEGMENT}'") == 1  # fmt: skip
    assert count(runtime, f"SELECT count(*) FROM {tables['app_events']} "
                 f"WHERE {where} AND user_id = 'late-user'") == 2  # fmt: skip
    assert count(runtime, f"SELECT count(*) FROM {tables['daily_active_users']} "
                 f"WHERE {where} AND user_id = 'late-user'") == 2  # fmt: skip
    assert count(runtime, f"SELECT users FROM {tables['app_version_adoption_daily']} "
                 f"WHERE {where} AND app_version = '{LATE_VERSION}'") == 1  # fmt: skip
    # nothing of the old day was published
    old = f"SELECT count(*) FROM {tables['traffic_events']} WHERE {day_filter(OLD_DAY)}"
    assert count(runtime, old) == 0
    # only DAY and the run's own days were republished: every other partition is the one the
    # first run published, at the same location
    after = partitions_by_day(fingerprint(runtime))
    earlier = partitions_by_day(before)
    run_id = run_id_of(result)
    republished = {day for (_, day), parts in after.items() for p in parts if run_id in p[-1]}
    own = {DAY, SKIPPED_DAY, LATE_RUN_DAY}
    assert republished == own
    untouched = {key for key in earlier if key[1] not in own}
    assert untouched, "the first run published no other day"
    assert {key: after.get(key) for key in untouched} == {key: earlier[key] for key in untouched}
    for key, parts in after.items():
        if key[1] in own:
            assert all(run_id in p[-1] for p in parts), key


@pytest.fixture
def held_glue_run(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[threading.Event, threading.Event]]:
    """The next Glue job run converts, then waits (holding the run lease) until released."""
    converted, release = threading.Event(), threading.Event()
    original = glue_runner.LocalGlueJob.run
    holds = [True]

    def run(job: glue_runner.LocalGlueJob, arguments: dict[str, str], principal: str = "") -> None:
        original(job, arguments, principal)
        if holds and holds.pop():
            converted.set()
            release.wait(600)

    monkeypatch.setattr(glue_runner.LocalGlueJob, "run", run)
    try:
        yield converted, release
    finally:
        release.set()


def test_a_second_execution_fails_fast_while_one_holds_the_pipeline(
    runtime: LocalRuntime,
    first_run: RunResult,
    held_glue_run: tuple[threading.Event, threading.Event],
) -> None:
    converted, release = held_glue_run
    settings = runtime.settings
    # given a run that holds the lease and has converted new raw data (ODS partitions and
    # their ledger entries), waiting to register them
    runtime.put_raw_objects(
        [
            (
                "raw/app_activity/year=2025/month=12/day=01/"
                "app-activity-events-1-2025-12-01-23-59-00-held.csv",
                app_lines(["held-user,view,2025-12-01T09:00:00+01:00,ios,5.2.0,BE"]),
            )
        ]
    )
    published = fingerprint(runtime)
    results: list[RunResult] = []
    holder = threading.Thread(
        target=lambda: results.append(runtime.run({"date": HELD_DAY.isoformat()})),
        name="held-run",
    )
    holder.start()
    try:
        assert converted.wait(600), "the held run never converted"
        running = runtime.client("stepfunctions").list_executions(
            stateMachineArn=settings.state_machine_arn, statusFilter="RUNNING"
        )["executions"]
        assert len(running) == 1
        held_arn = running[0]["executionArn"]
        assert lease_holder(runtime) == held_arn
        staged_ods = object_versions(runtime, settings.curated_bucket, "ods/")
        assert [key for key in staged_ods if "/_ledger/runs/" in key], "no ledger entry"

        # when a second execution starts
        second = runtime.run({"date": BUSY_DAY.isoformat()})

        # then it fails fast naming the running execution, and touched nothing
        assert second.status == "FAILED"
        assert second.cause is not None and "PipelineBusy" in f"{second.error} {second.cause}"
        assert held_arn in second.cause
        assert [n for n in second.notifications if "FAILED" in str(n["subject"])]
        assert "ConvertRaw" not in {e.name for e in second.events}
        assert lease_holder(runtime) == held_arn
        assert fingerprint(runtime) == published
        assert object_versions(runtime, settings.curated_bucket, "ods/") == staged_ods
    finally:
        release.set()
        holder.join(600)
    # and the held run completes with what it staged, and gives the lease back
    assert len(results) == 1
    assert_succeeded(results[0])
    assert lease_holder(runtime) is None
    events = model_tables(runtime)["app_events"]
    held = f"SELECT count(*) FROM {events} WHERE {day_filter(HELD_DAY)} AND user_id = 'held-user'"
    assert count(runtime, held) == 1


def test_a_new_csv_column_reaches_the_ods_table_through_the_crawler(
    runtime: LocalRuntime, first_run: RunResult
) -> None:
    settings = runtime.settings
    glue = runtime.client("glue")
    ods = settings.database("ods")
    # given the app's CSV gains a column, declared in the source (the job's --sources, as
    # Terraform passes the edited sql/sources.yaml)
    columns = glue.get_table(DatabaseName=ods, Name="app_activity")["Table"]["StorageDescriptor"]
    assert "os_version" not in {c["Name"] for c in columns["Columns"]}
    crawled_before = last_crawl_start(runtime, "app_activity")
    declaration = copy.deepcopy(read_document(settings.sources_path))
    app = next(s for s in declaration["sources"] if s["name"] == "app_activity")
    app["columns"].append({"name": "os_version", "type": "string"})
    job = glue.get_job(JobName=settings.glue_job_name)["Job"]
    arguments = {**job["DefaultArguments"], "--sources": job_argument(declaration)}
    # (moto has no UpdateJob: the job is made again with the new arguments, same name)
    glue.delete_job(JobName=settings.glue_job_name)
    glue.create_job(
        Name=settings.glue_job_name,
        **{key: job[key] for key in ("Role", "Command", "GlueVersion", "ExecutionProperty")},
        DefaultArguments=arguments,
    )
    runtime.put_raw_objects(
        [
            (
                "raw/app_activity/year=2025/month=12/day=02/"
                "app-activity-events-1-2025-12-02-23-59-00-new-column.csv",
                app_lines(
                    ["os-user,view,2025-12-02T09:00:00+01:00,ios,5.2.0,BE,17.1"],
                    header=f"{APP_HEADER},os_version",
                ),
            )
        ]
    )

    # when the day runs
    result = runtime.run({"date": SCHEMA_DAY.isoformat()})

    # then the crawler ran and the ODS table has the new column, with its values
    assert_succeeded(result)
    assert "CrawlersState" in {e.name for e in result.events}
    assert last_crawl_start(runtime, "app_activity") != crawled_before
    table = glue.get_table(DatabaseName=ods, Name="app_activity")["Table"]
    # (declared columns, then the typed event time the Glue job writes)
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]][-2:] == [
        "os_version",
        "event_time_utc",
    ]
    rows = runtime.query(
        f"SELECT os_version FROM {ods}.app_activity WHERE user_id = 'os-user'"
    ).rows
    assert rows == [("17.1",)]
    # events of the files without the column are still there
    assert count(runtime, f"SELECT count(*) FROM {ods}.app_activity WHERE "
                 f"{day_filter(SCHEMA_DAY)} AND os_version IS NULL") > 0  # fmt: skip

    # and a day without a schema change registers its partitions without a crawl
    crawled = last_crawl_start(runtime, "app_activity")
    quiet = runtime.run({"date": QUIET_DAY.isoformat()})
    assert_succeeded(quiet)
    assert "CrawlersState" not in {e.name for e in quiet.events}
    assert last_crawl_start(runtime, "app_activity") == crawled
    assert quiet.output["register"]["Payload"]["crawlers"] == []
