"""Go-live and failure, end to end on the local runtime: each run converges from what is
durably in the lake (the ledger), whatever happened before it.

One runtime, a fresh deployment, scenarios in file order, each building on the lake the
previous ones left (one Spark start per run, small data): sources declared but no data; the
first day with one source only; the other source's first file; a Glue job that dies after
one source and is retried, with malformed lines; a week without runs, caught up by the next;
a backfill over days whose late data arrived after their run; a changed column type."""

from __future__ import annotations

import copy
import gzip
import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from etl_lambdas.catalog import load_catalog
from etl_lambdas.sources import job_argument, read_document
from etl_local import glue_runner
from etl_local.generate import generate_events
from etl_local.runtime import LocalRuntime, RunResult

pytestmark = pytest.mark.e2e

SENSORS = 2
EMPTY_DAY = date(2025, 2, 3)  # nothing has arrived yet
FIRST_DAY = date(2025, 2, 4)  # traffic only
APP_FIRST_DAY = date(2025, 2, 5)  # the app's first file
CRASH_DAY = date(2025, 2, 6)  # the Glue job dies after one source; malformed lines
OUTAGE = (date(2025, 2, 7), date(2025, 2, 13))  # no run
AFTER_OUTAGE = date(2025, 2, 14)
NEXT_DAY = date(2025, 2, 15)  # the column type changed
LATE_SENSOR = "9001"
TRAFFIC_FIELDS = (
    "uniqueId", "recordTimestamp", "currentSpeed", "previousSpeed", "bezettingsgraad",
    "trafficIntensityClass2", "trafficIntensityClass3", "trafficIntensityClass4",
    "trafficIntensityClass5", "segment",
)  # fmt: skip
TRAFFIC_MODELS = {"traffic_events", "sensor_hourly", "daily_active_sensors",
                  "segment_congestion_daily"}  # fmt: skip
APP_MODELS = {"app_events", "daily_active_users", "app_version_adoption_daily"}


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    """A fresh deployment: sources declared, no data."""
    with LocalRuntime(home=tmp_path_factory.mktemp("etl-home")) as started:
        yield started


def arrive(runtime: LocalRuntime, source: str, first: date, last: date) -> None:
    """The source's raw files of local days first..last (late deliveries included); object
    names are the generator's, with a seed of their own (no delivery is ever rewritten)."""
    prefix = f"raw/{source}/"
    objects = generate_events(first, last, sensors=SENSORS, seed=first.toordinal())
    runtime.put_raw_objects((key, body) for key, body in objects if key.startswith(prefix))


def assert_succeeded(result: RunResult) -> None:
    assert result.status == "SUCCEEDED", f"{result.error}: {result.cause}"


def skipped(result: RunResult) -> set[str]:
    return {m.model for m in result.models if m.skipped}


def published(result: RunResult) -> set[str]:
    return {m.model for m in result.models if not m.skipped and m.rows_written > 0}


def count(runtime: LocalRuntime, table: str, day: date, where: str = "") -> int:
    model = load_catalog().get(table)
    sql = (
        f"SELECT count(*) FROM {runtime.settings.database(model.tier)}.{table} "
        f"WHERE year = '{day:%Y}' AND month = '{day:%m}' AND day = '{day:%d}' {where}"
    )
    return int(runtime.query(sql).rows[0][0])


def hours(runtime: LocalRuntime, table: str, day: date) -> int:
    model = load_catalog().get(table)
    sql = (
        f"SELECT count(DISTINCT hour) FROM {runtime.settings.database(model.tier)}.{table} "
        f"WHERE year = '{day:%Y}' AND month = '{day:%m}' AND day = '{day:%d}'"
    )
    return int(runtime.query(sql).rows[0][0])


def lake_partitions(runtime: LocalRuntime, source: str) -> set[tuple[str, ...]]:
    """The ODS partitions that hold data in the curated bucket."""
    s3 = runtime.client("s3")
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=runtime.settings.curated_bucket, Prefix=f"ods/{source}/year="
    )
    folders = {
        item["Key"].rsplit("/", 1)[0]
        for page in pages
        for item in page.get("Contents", [])
        if item["Key"].endswith(".parquet")
    }
    return {tuple(part.split("=", 1)[1] for part in f.split("/")[2:]) for f in folders}


def catalog_partitions(runtime: LocalRuntime, source: str) -> set[tuple[str, ...]]:
    pages = (
        runtime.client("glue")
        .get_paginator("get_partitions")
        .paginate(DatabaseName=runtime.settings.database("ods"), TableName=source)
    )
    return {tuple(p["Values"]) for page in pages for p in page["Partitions"]}


def published_days(runtime: LocalRuntime, run_id: str) -> set[date]:
    """The days of every partition the run published, in every model table."""
    days = set()
    glue = runtime.client("glue")
    for model in load_catalog().models:
        pages = glue.get_paginator("get_partitions").paginate(
            DatabaseName=runtime.settings.database(model.tier), TableName=model.name
        )
        for page in pages:
            for p in page["Partitions"]:
                if f"/_runs/{run_id}/" in p["StorageDescriptor"]["Location"]:
                    values = p["Values"]
                    days.add(
                        date(
                            int(values[0]), int(values[1]), int(values[2]) if len(values) > 2 else 1
                        )
                    )
    return days


def notification_text(result: RunResult) -> str:
    return "\n".join(str(n["message"]) for n in result.notifications)


def run_id_of(result: RunResult) -> str:
    return str(result.output["run"]["Payload"]["run_id"])


def traffic_lines(times: list[str]) -> bytes:
    record = (LATE_SENSOR, 30, 35, 40, 5, 1, 0, 0, "Late segment km 0.1")
    lines = [json.dumps(dict(zip(TRAFFIC_FIELDS, (record[0], at, *record[1:]), strict=True)))
             for at in times]  # fmt: skip
    return gzip.compress(("\n".join(lines) + "\n").encode())


# -- the scenarios, in order -------------------------------------------------------------------


def test_a_fresh_deployment_without_data_succeeds_and_says_nothing_arrived_yet(
    runtime: LocalRuntime,
) -> None:
    result = runtime.run({"date": EMPTY_DAY.isoformat()})

    assert_succeeded(result)
    assert skipped(result) == TRAFFIC_MODELS | APP_MODELS
    assert result.waiting_for_data == ["app_activity", "traffic"]
    text = notification_text(result)
    assert "- source traffic: no data yet" in text and "SKIPPED" in text
    assert result.to_json()["waiting_for_data"] == ["app_activity", "traffic"]


def test_the_first_day_with_one_source_publishes_it_and_skips_the_others_models(
    runtime: LocalRuntime,
) -> None:
    arrive(runtime, "traffic", FIRST_DAY, FIRST_DAY)

    result = runtime.run({"date": FIRST_DAY.isoformat()})

    assert_succeeded(result)
    assert published(result) == TRAFFIC_MODELS
    assert skipped(result) == APP_MODELS
    assert result.waiting_for_data == ["app_activity"]
    assert count(runtime, "traffic_events", FIRST_DAY) > 0
    reason = next(m.skipped for m in result.models if m.model == "app_events")
    assert reason is not None and "app_activity" in reason


def test_a_source_declared_before_its_first_file_starts_with_it(runtime: LocalRuntime) -> None:
    arrive(runtime, "traffic", APP_FIRST_DAY, APP_FIRST_DAY)
    arrive(runtime, "app_activity", APP_FIRST_DAY, APP_FIRST_DAY)

    result = runtime.run({"date": APP_FIRST_DAY.isoformat()})

    assert_succeeded(result)
    assert published(result) == TRAFFIC_MODELS | APP_MODELS
    assert result.waiting_for_data == []
    assert "CrawlersState" in {e.name for e in result.events}  # its table made by its crawler
    assert count(runtime, "app_events", APP_FIRST_DAY) > 0


@pytest.fixture
def glue_dies_once_after_the_first_source(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The next Glue job run dies as it is about to record the second source's partitions
    (after the first source's data, ledger entry and records); its retry runs normally."""
    load = glue_runner._load_script
    crashed: list[str] = []

    def loading(path: Path) -> Any:
        script = load(path)
        write_text = script.HadoopFileSystem.write_text

        def dying(filesystem: Any, target: str, text: str) -> None:
            if "/app_activity/" in target and target.endswith("/_SOURCES") and not crashed:
                crashed.append(target)
                raise RuntimeError(f"injected: the job dies before writing {target}")
            write_text(filesystem, target, text)

        script.HadoopFileSystem.write_text = dying
        return script

    monkeypatch.setattr(glue_runner, "_load_script", loading)
    return crashed


def test_a_glue_job_retried_after_dying_midway_loses_nothing_and_reports_malformed_lines(
    runtime: LocalRuntime, glue_dies_once_after_the_first_source: list[str]
) -> None:
    arrive(runtime, "traffic", CRASH_DAY, CRASH_DAY)
    arrive(runtime, "app_activity", CRASH_DAY, CRASH_DAY)
    bad = "raw/app_activity/year=2025/month=02/day=06/app-activity-bad-lines.csv"
    runtime.put_raw_objects(
        [(bad, b"user_id,action,event_time,device,app_version,country\n"
               b"u1,view,2025-02-06T10:00:00Z,ios,5.2.0,BE\nonly,two\n")]
    )  # fmt: skip

    result = runtime.run({"date": CRASH_DAY.isoformat()})

    # the first attempt died; the state machine retried the job with the same run id
    assert glue_dies_once_after_the_first_source
    assert_succeeded(result)
    convert = next(e for e in result.events if e.name == "ConvertRaw" and e.outcome != "ENTERED")
    assert convert.retries == 1
    # every ODS partition that holds data is in the catalogue, the first source's included
    for source in ("traffic", "app_activity"):
        assert lake_partitions(runtime, source) <= catalog_partitions(runtime, source), source
    assert hours(runtime, "traffic_events", CRASH_DAY) == 24
    # the malformed line is counted for its source and file, everywhere the run reports
    app = next(row for row in result.sources if row["source"] == "app_activity")
    assert {"partition": f"s3://{runtime.settings.curated_bucket}/ods/app_activity/"
            "year=2025/month=02/day=06/", "file": "app-activity-bad-lines.csv",
            "lines": 1} in app["malformed_files"]  # fmt: skip
    assert result.to_json()["sources"] == result.sources
    assert "MALFORMED lines dropped" in notification_text(result)


def test_a_week_without_runs_is_caught_up_by_the_next_run(runtime: LocalRuntime) -> None:
    arrive(runtime, "traffic", OUTAGE[0], AFTER_OUTAGE)
    arrive(runtime, "app_activity", OUTAGE[0], AFTER_OUTAGE)

    result = runtime.run({"date": AFTER_OUTAGE.isoformat()})

    assert_succeeded(result)
    assert result.caught_up == {"start_date": OUTAGE[0].isoformat(),
                                "end_date": OUTAGE[1].isoformat()}  # fmt: skip
    day = OUTAGE[0]
    app_events = 0
    while day <= AFTER_OUTAGE:
        assert hours(runtime, "traffic_events", day) == 24, day
        assert count(runtime, "daily_active_sensors", day) == SENSORS, day
        # a few users: a day may have no app activity, but every active day is summarized
        events = count(runtime, "app_events", day)
        assert (count(runtime, "daily_active_users", day) > 0) == (events > 0), day
        app_events += events
        day += timedelta(days=1)
    assert app_events > 0
    assert "Caught up 2025-02-07..2025-02-13" in notification_text(result)


def test_a_backfill_over_days_with_later_late_data_publishes_its_days_only(
    runtime: LocalRuntime,
) -> None:
    # given a delivery that arrived after those days' runs, holding events of a day of the
    # backfill (the 5th) and of two days after it that their own runs published
    late = "raw/traffic/year=2025/month=02/day=13/hour=10/traffic-events-late-delivery.json.gz"
    times = ["2025-02-05T12:00:00+01:00", "2025-02-08T12:00:00+01:00", "2025-02-12T12:00:00+01:00"]
    runtime.put_raw_objects([(late, traffic_lines(times))])

    result = runtime.run({"start_date": FIRST_DAY.isoformat(), "end_date": CRASH_DAY.isoformat()})

    # then the backfill publishes its own days, the 5th with its late event, and nothing later
    assert_succeeded(result)
    assert published_days(runtime, run_id_of(result)) <= {FIRST_DAY, APP_FIRST_DAY, CRASH_DAY}
    assert count(runtime, "traffic_events", APP_FIRST_DAY, f"AND sensor_id = '{LATE_SENSOR}'") == 1
    assert (
        count(runtime, "traffic_events", date(2025, 2, 8), f"AND sensor_id = '{LATE_SENSOR}'") == 0
    )


def test_the_next_run_restates_those_later_days_and_takes_a_changed_column_type(
    runtime: LocalRuntime,
) -> None:
    # given occupancy declared smallint instead of int (the Glue job's --sources, as Terraform
    # passes the edited sql/sources.yaml)
    settings = runtime.settings
    glue = runtime.client("glue")
    declaration = copy.deepcopy(read_document(settings.sources_path))
    traffic = next(s for s in declaration["sources"] if s["name"] == "traffic")
    next(c for c in traffic["columns"] if c["name"] == "occupancy")["type"] = "smallint"
    job = glue.get_job(JobName=settings.glue_job_name)["Job"]
    arguments = {**job["DefaultArguments"], "--sources": job_argument(declaration)}
    glue.delete_job(JobName=settings.glue_job_name)  # (moto has no UpdateJob)
    glue.create_job(
        Name=settings.glue_job_name,
        **{key: job[key] for key in ("Role", "Command", "GlueVersion", "ExecutionProperty")},
        DefaultArguments=arguments,
    )
    arrive(runtime, "traffic", NEXT_DAY, NEXT_DAY)
    arrive(runtime, "app_activity", NEXT_DAY, NEXT_DAY)

    result = runtime.run({"date": NEXT_DAY.isoformat()})

    # then the run succeeds without a crawl, the table has the declared type, and the run
    # names the older partitions Athena cannot read as smallint, and the backfill for them
    assert_succeeded(result)
    assert "CrawlersState" not in {e.name for e in result.events}
    ods = glue.get_table(DatabaseName=settings.database("ods"), Name="traffic")["Table"]
    columns = {c["Name"]: c["Type"] for c in ods["StorageDescriptor"]["Columns"]}
    assert columns["occupancy"] == "smallint"
    (change,) = result.schema_changes
    assert change["retyped"] == [{"column": "occupancy", "from": "int", "to": "smallint"}]
    assert change["unreadable_partitions"] > 0 and change["convert_again"]["start_date"]
    # and the days after the backfill that received its late delivery are restated now
    restated = {row["date"] for row in result.restated}
    assert {"2025-02-08", "2025-02-12"} <= restated
    for day in (date(2025, 2, 8), date(2025, 2, 12)):
        assert count(runtime, "traffic_events", day, f"AND sensor_id = '{LATE_SENSOR}'") == 1
