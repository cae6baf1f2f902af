"""Change-aware backfill and audits with history, through the whole local pipeline and the
`etl` command's own code:

- every published partition records what computed it; after a model's SQL is edited,
  `etl changes` lists it and its downstream model (and nothing else) with their days, and
  `etl run --changed` restates exactly those through write-audit-publish;
- a day whose source data stopped arriving at noon fails its freshness check: nothing of the
  day is published, and the check, the day and the numbers are in the execution's error,
  on the console and in the notification;
- each run is recorded (etl_local.run_records) with its audits, which `etl docs` shows.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from etl_lambdas.catalog import default_sql_root
from etl_lambdas.fingerprints import FINGERPRINT, MODEL_HASH, RUN_ID, fingerprints
from etl_local import backfill, cli, docs_data, docs_page, run_records
from etl_local.generate import arrival_instant, generate_events
from etl_local.runtime import LocalRuntime
from tests.e2e.sample import FIRST_DAY, SENSORS

pytestmark = pytest.mark.e2e

TIME_ZONE = "Europe/Brussels"  # the local environment's (local/terraform/local.tfvars)
DAY_1, DAY_2, DAY_3 = (FIRST_DAY + timedelta(days=n) for n in range(3))
TRAFFIC_MODELS = [
    "traffic_events",
    "sensor_hourly",
    "daily_active_sensors",
    "segment_congestion_daily",
]
# Traffic objects arriving after DAY_3 began (locally) are held back from the first runs: a
# backfill restates the later days its arrivals hold events of, and DAY_3 is to be incomplete.
DAY_3_BEGINS = datetime.combine(DAY_3, time(0), tzinfo=ZoneInfo(TIME_ZONE))
# Then DAY_3's traffic feed stops at noon (UTC): what arrives later never comes.
CUT = datetime.combine(DAY_3, time(12), tzinfo=UTC)


class _Recording:
    """The shared runtime, remembering what each `run` returned (the CLI prints it only)."""

    def __init__(self, runtime: LocalRuntime) -> None:
        self.runtime = runtime
        self.results: list[Any] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.runtime, name)

    def run(self, *args: Any, **kwargs: Any) -> Any:
        result = self.runtime.run(*args, **kwargs)
        self.results.append(result)
        return result


@pytest.fixture(scope="module")
def sql_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sql") / "sql"
    shutil.copytree(default_sql_root(), root)
    return root


@pytest.fixture(scope="module")
def traffic_after_day_2() -> list[tuple[str, bytes]]:
    return []


@pytest.fixture(scope="module")
def runtime(
    tmp_path_factory: pytest.TempPathFactory,
    sql_root: Path,
    traffic_after_day_2: list[tuple[str, bytes]],
) -> Iterator[_Recording]:
    home = tmp_path_factory.mktemp("etl-home")
    arrived = []
    for key, body in generate_events(DAY_1, DAY_3, sensors=SENSORS, seed=7):
        later = key.startswith("raw/traffic/") and arrival_instant(key) > DAY_3_BEGINS
        (traffic_after_day_2 if later else arrived).append((key, body))
    with LocalRuntime(home=home, sql_root=sql_root) as started:
        started.put_raw_objects(arrived)
        yield _Recording(started)


def _factory(runtime: _Recording) -> Any:
    @contextmanager
    def shared(**_: Any) -> Iterator[_Recording]:
        yield runtime

    return shared


def _partitions(runtime: _Recording, tier: str, model: str) -> list[dict[str, Any]]:
    glue = runtime.client("glue")
    pages = glue.get_paginator("get_partitions").paginate(
        DatabaseName=runtime.settings.database(tier), TableName=model
    )
    return [p for page in pages for p in page["Partitions"]]


def failure_message(result: Any) -> str:
    failure = next(n for n in result.notifications if "FAILED" in str(n["subject"]))
    return str(failure["message"])


def _changes(runtime: _Recording, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    assert cli.main(["changes", "--json"], runtime_factory=_factory(runtime)) == 0
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert document.pop("fingerprints") == {
        name: f.as_dict() for name, f in fingerprints(runtime.catalog()).items()
    }
    return document


def test_changes_lists_an_edited_model_and_its_downstream_and_run_changed_restates_them(
    runtime: _Recording, sql_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    window = {"start_date": DAY_1.isoformat(), "end_date": DAY_2.isoformat()}
    first = runtime.run({**window, "models": TRAFFIC_MODELS})
    assert first.status == "SUCCEEDED", first.cause
    computed_by = fingerprints(runtime.catalog())["daily_active_sensors"]
    published = _partitions(runtime, "dws", "daily_active_sensors")
    assert len(published) == 2
    assert all(
        (p["Parameters"][MODEL_HASH], p["Parameters"][FINGERPRINT])
        == (computed_by.model_hash, computed_by.fingerprint)
        for p in published
    )
    assert _changes(runtime, capsys) == {"changes": [], "restate_input": None}

    # A new column: the model's SQL changed; segment_congestion_daily reads it.
    path = sql_root / "dws" / "daily_active_sensors.sql"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "    count(*) AS events,\n",
            "    count(*) AS events,\n    count(DISTINCT hour) AS active_hours,\n",
        ),
        encoding="utf-8",
    )
    listed = _changes(runtime, capsys)
    assert [(c["model"], c["days"]) for c in listed["changes"]] == [
        ("daily_active_sensors", [window]),
        ("segment_congestion_daily", [window]),
    ]
    assert listed["changes"][0]["reasons"] == [backfill.CHANGED]
    assert listed["restate_input"] == {
        **window,
        "models": ["daily_active_sensors", "segment_congestion_daily"],
    }

    assert cli.main(["run", "--changed", "--json"], runtime_factory=_factory(runtime)) == 0
    restated = runtime.results[-1]
    assert restated.status == "SUCCEEDED", restated.cause
    assert {m.model for m in restated.models} == {
        "daily_active_sensors",
        "segment_congestion_daily",
    }
    assert _changes(runtime, capsys) == {"changes": [], "restate_input": None}
    hours = runtime.query(
        "SELECT max(active_hours) AS n FROM lakepipe_local_dws.daily_active_sensors"
    )
    assert hours.rows == [(24,)]
    # Partitions of models it did not restate keep the run that published them.
    events = _partitions(runtime, "dwd", "traffic_events")
    assert {p["Parameters"][RUN_ID] for p in events} == {first.output["run"]["Payload"]["run_id"]}


def test_a_failing_history_check_stops_the_publish_and_names_day_and_numbers(
    runtime: _Recording,
    traffic_after_day_2: list[tuple[str, bytes]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    runtime.put_raw_objects((k, b) for k, b in traffic_after_day_2 if arrival_instant(k) <= CUT)
    capsys.readouterr()
    code = cli.main(["run", "--date", DAY_3.isoformat()], runtime_factory=_factory(runtime))
    console = " ".join(capsys.readouterr().out.split())
    result = runtime.results[-1]

    assert code == 1 and result.status == "FAILED"
    # Days restated for late data pass; the day whose feed stopped at noon (UTC) does not.
    check = "freshness(event_time, 60 min) failed on 1 of "
    numbers = (f"{DAY_3}: latest {DAY_3} 11:", f"the day's data must reach {DAY_3} 22:00:00 UTC")
    for text in (result.cause or "", console, failure_message(result)):
        assert check in text and all(n in text for n in numbers), text
    assert "FAILED" in console
    # Nothing of the day was published; the days before keep their partitions.
    days = {tuple(p["Values"][:3]) for p in _partitions(runtime, "dwd", "traffic_events")}
    assert (f"{DAY_3:%Y}", f"{DAY_3:%m}", f"{DAY_3:%d}") not in days
    assert len(days) == 2


def test_runs_are_recorded_with_their_audits_for_etl_docs(runtime: _Recording) -> None:
    records = run_records.recent(runtime.home)
    assert [r["status"] for r in records] == ["FAILED", "SUCCEEDED", "SUCCEEDED"]
    assert "freshness(event_time, 60 min) failed" in records[0]["error"]
    restated = {m["model"]: m for m in records[1]["models"]}
    history = [c for c in restated["daily_active_sensors"]["audit"] if c.get("kind") == "history"]
    assert history[0]["passed"] and history[0]["check"].startswith("reconcile(sum(events)")
    assert history[0]["observed"] == history[0]["expected"]

    catalog = runtime.catalog()
    page = docs_page.render(
        docs_data.gather(catalog, runtime.settings.time_zone, runtime.home, runtime)
    )
    assert page.count('class="detail model"') == len(catalog.models)
    assert "active_hours" in page  # the edited model's new column, traced
    assert "freshness(event_time, 60 min) failed" in page
