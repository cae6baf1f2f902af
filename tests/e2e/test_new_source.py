"""A source is added by declaration and SQL alone (README, "Adding a source"): in a copy of
sql/, a third source (weather stations, JSON lines with their own field names) gets an entry
in sources.yaml, one DWD model in models.toml and its SELECT; Terraform plans the copy as it
is (its crawler, the Glue job's `--sources`, the grants on its prefixes all derived from the
declaration), and its own files, brought in with `etl load` (arrival partitions from their
folders), run end to end from that plan, next to the two sample sources, nothing else
changed."""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from etl_lambdas.catalog import default_sql_root
from etl_lambdas.sources import SOURCES_FILE, load_sources
from etl_local import cli, devloop_cli
from etl_local.generate import generate_events
from etl_local.runtime import LocalRuntime
from etl_local.settings import LocalSettings
from tests.e2e.homes import e2e_home
from tools.terraform_plan import REPOSITORY_ROOT, plan_session

pytestmark = pytest.mark.e2e

DAY = date(2025, 11, 28)
STATIONS = 2

WEATHER_SOURCE = """
  - name: weather
    description: Weather stations, one observation per station and quarter hour.
    raw_prefix: raw/weather/
    arrival: hourly
    format:
      type: json
    columns:
      - { name: station_id, type: string, field: stationId }
      - { name: observed_at, type: string, field: observedAt }
      - { name: temperature, type: double }
      - { name: wind_speed, type: double, field: windSpeed }
    event_time:
      column: observed_at
      format: iso8601
      time_zone: UTC
"""

WEATHER_MODEL = """
[[models]]
name = "weather_observations"
tier = "dwd"
description = "Weather observations by local day: one row per station and observation time."
sources = ["ods.weather"]
granularity = "day"
keys = ["station_id", "observed_at"]
not_null = ["temperature", "wind_speed"]
ranges = { temperature = [0, 100], wind_speed = [0, 100] }
"""

WEATHER_SQL = """-- dwd.weather_observations: one row per station and observation, by local day.
WITH observed AS (
    SELECT
        station_id,
        temperature,
        wind_speed,
        try(from_iso8601_timestamp(observed_at)) AS observed_instant
    FROM ${ods_database}.weather
    WHERE ${arrival_day_partitions}
),

located AS (
    SELECT
        station_id,
        temperature,
        wind_speed,
        CAST(observed_instant AT TIME ZONE 'UTC' AS timestamp) AS observed_at,
        date_format(observed_instant AT TIME ZONE '${time_zone}', '%Y-%m-%d') AS local_day
    FROM observed
    WHERE station_id IS NOT NULL AND observed_instant IS NOT NULL
)

SELECT
    station_id,
    observed_at,
    temperature,
    wind_speed,
    substr(local_day, 1, 4) AS year,
    substr(local_day, 6, 2) AS month,
    substr(local_day, 9, 2) AS day
FROM located
WHERE local_day BETWEEN '${start_date}' AND '${end_date}'
"""


def add_weather(sql_root: Path) -> None:
    """What a data engineer writes: a declaration entry, a model entry and its SELECT."""
    sources = sql_root / SOURCES_FILE
    sources.write_text(sources.read_text(encoding="utf-8") + WEATHER_SOURCE, encoding="utf-8")
    models = sql_root / "models.toml"
    models.write_text(models.read_text(encoding="utf-8") + WEATHER_MODEL, encoding="utf-8")
    (sql_root / "dwd" / "weather_observations.sql").write_text(WEATHER_SQL, encoding="utf-8")


def planned_copy(root: Path) -> tuple[Path, Path]:
    """(sql root, local plan) of a copy of the repository whose sql/ has the weather source:
    every other entry is linked, sql/ is copied and edited, then planned by Terraform."""
    root.mkdir(parents=True)
    for entry in REPOSITORY_ROOT.iterdir():
        if not entry.name.startswith(".") and entry.name != "sql":
            (root / entry.name).symlink_to(entry)
    sql_root = root / "sql"
    shutil.copytree(default_sql_root(), sql_root)
    add_weather(sql_root)
    plan_json = root.parent / "plan-local.json"
    with plan_session(root, root.parent / "build") as session:
        session.plan(REPOSITORY_ROOT / "local" / "terraform" / "local.tfvars", plan_json)
    return sql_root, plan_json


def weather_files(folder: Path, first: date, last: date) -> Path:
    """What a user has: the stations' JSON lines, one file per UTC arrival hour, in folders
    named like the raw prefix's partitions (a copy of their S3 bucket). One observation per
    station and quarter hour of each local day, arriving five minutes later."""
    zone = ZoneInfo("Europe/Brussels")
    at = datetime(first.year, first.month, first.day, tzinfo=zone).astimezone(UTC)
    end = datetime(last.year, last.month, last.day, tzinfo=zone) + timedelta(days=1)
    while at < end:
        arrival = at + timedelta(minutes=5)
        hour = folder / f"year={arrival:%Y}/month={arrival:%m}/day={arrival:%d}/hour={arrival:%H}"
        hour.mkdir(parents=True, exist_ok=True)
        with (hour / f"stations-{arrival:%Y%m%d%H}.json").open("a", encoding="utf-8") as out:
            for station in range(STATIONS):
                observed = at.strftime("%Y-%m-%dT%H:%M:%SZ")
                record = {"stationId": f"s{station}", "observedAt": observed,
                          "temperature": 10.5 + station, "windSpeed": 3.0}  # fmt: skip
                out.write(json.dumps(record) + "\n")
        at += timedelta(minutes=15)
    return folder


@pytest.fixture(scope="module")
def weather_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    sql_root, plan_json = planned_copy(tmp_path_factory.mktemp("copy") / "repository")
    settings = LocalSettings(sources_path=sql_root / SOURCES_FILE, plan_path=plan_json)
    home = e2e_home(tmp_path_factory)
    files = weather_files(
        tmp_path_factory.mktemp("weather"), date(2025, 11, 27), date(2025, 11, 29)
    )
    with LocalRuntime(home=home, settings=settings, sql_root=sql_root) as started:
        raw = generate_events(
            date(2025, 11, 27),
            date(2025, 11, 29),
            sensors=STATIONS,
            seed=11,
            sources=load_sources(settings.sources_path),
        )
        started.put_raw_objects(raw)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(devloop_cli, "sql_root", lambda: sql_root)
            loaded = cli.main(
                ["load", "weather", str(files)],
                runtime_factory=lambda **_: contextlib.nullcontext(started),
            )
        assert loaded == 0
        yield started


def test_a_source_added_by_declaration_and_sql_runs_end_to_end(
    weather_runtime: LocalRuntime,
) -> None:
    runtime = weather_runtime
    assert runtime.settings.sources.names() == ["traffic", "app_activity", "weather"]

    result = runtime.run({"date": DAY.isoformat()})

    assert result.status == "SUCCEEDED", f"{result.error}: {result.cause}"
    # generate left it alone: its raw files are the ones loaded
    loaded = runtime.objects.list_prefix(runtime.settings.raw_bucket, "raw/weather/")
    assert loaded
    assert all(obj.key.rsplit("/", 1)[1].startswith("stations-") for obj in loaded)
    # its ODS table was made by its own crawler, from what the generic Glue job converted
    ods = runtime.settings.database("ods")
    glue = runtime.client("glue")
    table = glue.get_table(DatabaseName=ods, Name="weather")["Table"]
    # (the declared columns, then the typed event time the job writes beside observed_at)
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == [
        "station_id", "observed_at", "temperature", "wind_speed", "observed_at_utc"
    ]  # fmt: skip
    crawler = glue.get_crawler(Name=runtime.settings.crawler_name("weather"))["Crawler"]
    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED"
    # its model published the day: every station, every quarter hour of the local day
    dwd = f"{runtime.settings.database('dwd')}.weather_observations"
    rows = runtime.query(
        f"SELECT count(*), count(DISTINCT station_id) FROM {dwd} "
        f"WHERE year = '{DAY:%Y}' AND month = '{DAY:%m}' AND day = '{DAY:%d}'"
    ).rows
    assert rows == [(96 * STATIONS, STATIONS)]
    published = {m.model for m in result.models}
    assert {"weather_observations", "traffic_events", "app_events"} <= published
