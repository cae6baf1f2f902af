"""Checks that compare with the past: their SQL really runs (DuckDB, through the local Athena's
translation) on staged and published rows, and the verdict names the check, the day and the
numbers; their declaration is validated."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from etl_lambdas.catalog import Catalog, CatalogError, default_sql_root, load_catalog
from etl_lambdas.checks import audit_sql, evaluate
from etl_lambdas.history_checks import AuditContext, day_end_utc
from etl_lambdas.sources import SOURCES_FILE
from etl_local.sql_dialect import athena_to_duckdb, install_functions

TIME_ZONE = "Europe/Brussels"

MODELS = """
[[models]]
name = "events"
tier = "dwd"
sources = ["ods.traffic"]
granularity = "hour"
keys = ["sensor_id", "event_time"]
not_null = []
row_count = { trailing_days = 3, tolerance = 0.5, min_history_days = 2 }
freshness = { column = "event_time", max_lag_minutes = 30 }

[[models]]
name = "daily"
tier = "dws"
sources = ["dwd.events"]
granularity = "day"
keys = ["sensor_id"]
not_null = []
[[models.reconcile]]
expression = "sum(events)"
source = "dwd.events"
source_expression = "count(*)"
tolerance = 0.1
"""
SQL = {
    "dwd/events.sql": "SELECT sensor_id, event_time, year, month, day, hour FROM x",
    "dws/daily.sql": "SELECT sensor_id, events, year, month, day FROM ${dwd_database}.events",
}
EVENTS = (
    "sensor_id VARCHAR, event_time TIMESTAMP, "
    "year VARCHAR, month VARCHAR, day VARCHAR, hour VARCHAR"
)
DAILY = "sensor_id VARCHAR, events BIGINT, year VARCHAR, month VARCHAR, day VARCHAR"


def _catalog(root: Path, models: str = MODELS) -> Catalog:
    root.mkdir(parents=True, exist_ok=True)
    (root / "models.toml").write_text(models, encoding="utf-8")
    shutil.copy(default_sql_root() / SOURCES_FILE, root / SOURCES_FILE)
    for relative, text in SQL.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    return load_catalog(root)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    return _catalog(tmp_path_factory.mktemp("history") / "sql")


@pytest.fixture
def lake() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    install_functions(connection)
    for schema in ("lake_staging", "lake_dwd", "lake_dws"):
        connection.execute(f"CREATE SCHEMA {schema}")
    connection.execute(f"CREATE TABLE lake_dwd.events ({EVENTS})")
    connection.execute(f"CREATE TABLE lake_staging.events__run__c0 ({EVENTS})")
    connection.execute(f"CREATE TABLE lake_staging.daily__run__c0 ({DAILY})")
    yield connection
    connection.close()


def _event_rows(day: date, count: int, last: str = "21:59") -> list[tuple[Any, ...]]:
    """`count` events of one local day, UTC times spread up to `last` (UTC) of that day."""
    end = datetime.fromisoformat(f"{day.isoformat()}T{last}")
    return [
        (f"s{n}", end - timedelta(minutes=n), f"{day:%Y}", f"{day:%m}", f"{day:%d}", "10")
        for n in range(count)
    ]


def _insert(lake: duckdb.DuckDBPyConnection, table: str, rows: list[tuple[Any, ...]]) -> None:
    if rows:
        marks = ", ".join("?" * len(rows[0]))
        lake.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)


def _audit(
    lake: duckdb.DuckDBPyConnection,
    catalog: Catalog,
    model: str,
    days: list[date],
    *,
    published: bool = True,
) -> dict[str, dict[str, Any]]:
    context = AuditContext(
        days=tuple(days),
        time_zone=TIME_ZONE,
        database=lambda tier: f"lake_{tier}",
        published=published,
    )
    sql = audit_sql(catalog.get(model), "lake_staging", [f"{model}__run__c0"], context)
    cursor = lake.execute(athena_to_duckdb(sql))
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    assert len(rows) == 1, "the audit query answers one row"
    # Athena answers every value as text: judge what the verdict step would read.
    row = {k: None if v is None else str(v) for k, v in zip(names, rows[0], strict=True)}
    return {result["check"]: result for result in evaluate(catalog.get(model), row)}


ROW_COUNT = "row_count(trailing 3 days, +-50%)"
FRESHNESS = "freshness(event_time, 30 min)"
DAY = date(2025, 11, 20)


def test_a_day_within_the_trailing_median_passes(lake: Any, catalog: Catalog) -> None:
    for back, count in ((1, 100), (2, 80), (3, 120), (4, 5000)):  # day -4 is outside 3 days
        _insert(lake, "lake_dwd.events", _event_rows(DAY - timedelta(days=back), count))
    _insert(lake, "lake_staging.events__run__c0", _event_rows(DAY, 140))

    result = _audit(lake, catalog, "events", [DAY])[ROW_COUNT]

    assert result["passed"], result["detail"]
    assert (result["day"], float(result["observed"]), float(result["expected"])) == (
        "2025-11-20",
        140.0,
        100.0,
    )
    assert result["judged_days"] == 1


def test_one_partial_day_in_the_history_does_not_fail_the_complete_days(
    lake: Any, catalog: Catalog
) -> None:
    # A source's first day, restated from the few events that arrived late: 2 rows. Against
    # the mean (67) a complete day of 110 would fail; against the median (100) it passes.
    for back, count in ((1, 100), (2, 100), (3, 2)):
        _insert(lake, "lake_dwd.events", _event_rows(DAY - timedelta(days=back), count))
    _insert(lake, "lake_staging.events__run__c0", _event_rows(DAY, 110))

    result = _audit(lake, catalog, "events", [DAY])[ROW_COUNT]

    assert result["passed"], result["detail"]
    assert float(result["expected"]) == 100.0


def test_a_day_far_below_the_trailing_median_fails_naming_day_and_numbers(
    lake: Any, catalog: Catalog
) -> None:
    for back in (1, 2, 3):
        _insert(lake, "lake_dwd.events", _event_rows(DAY - timedelta(days=back), 100))
    _insert(lake, "lake_staging.events__run__c0", _event_rows(DAY, 30))

    result = _audit(lake, catalog, "events", [DAY])[ROW_COUNT]

    assert not result["passed"]
    assert result["detail"] == (
        "row_count(trailing 3 days, +-50%) failed on 1 of 1 day(s); 2025-11-20: 30 rows, "
        "trailing median 100 (allowed 50..150)"
    )


def test_a_backfill_judges_each_day_on_the_staged_days_before_it(
    lake: Any, catalog: Catalog
) -> None:
    days = [DAY + timedelta(days=n) for n in range(4)]
    # Published rows of the days the run rewrites do not count: the staged ones do.
    for day in days:
        _insert(lake, "lake_dwd.events", _event_rows(day, 1000))
    staged = [*_event_rows(days[0], 100), *_event_rows(days[1], 100)]
    staged += [*_event_rows(days[2], 110), *_event_rows(days[3], 10)]
    _insert(lake, "lake_staging.events__run__c0", staged)

    result = _audit(lake, catalog, "events", days)[ROW_COUNT]

    # Day 0 and 1 have fewer than 2 days of history: not judged; day 3 fails against 103.3.
    assert (result["value"], result["judged_days"], result["day"]) == (1, 2, days[3].isoformat())
    assert result["observed"] == "10"


def test_too_little_history_is_not_judged_and_says_so(lake: Any, catalog: Catalog) -> None:
    _insert(lake, "lake_staging.events__run__c0", _event_rows(DAY, 10))

    result = _audit(lake, catalog, "events", [DAY], published=False)[ROW_COUNT]

    assert result["passed"]
    assert result["detail"].startswith(
        "row_count(trailing 3 days, +-50%): not judged, no day had 2 day(s) of history"
    )


def test_freshness_passes_when_the_day_reaches_its_end(lake: Any, catalog: Catalog) -> None:
    # Brussels is UTC+1 in November: the day ends at 23:00 UTC; 30 minutes allowed.
    _insert(lake, "lake_staging.events__run__c0", _event_rows(DAY, 5, last="22:31"))

    result = _audit(lake, catalog, "events", [DAY])[FRESHNESS]

    assert result["passed"], result["detail"]


def test_freshness_fails_when_the_sources_day_stopped_early(lake: Any, catalog: Catalog) -> None:
    _insert(lake, "lake_staging.events__run__c0", _event_rows(DAY, 5, last="14:00"))
    empty = DAY + timedelta(days=1)  # no rows at all for the next day

    result = _audit(lake, catalog, "events", [DAY, empty])[FRESHNESS]

    assert (result["value"], result["day"]) == (2, "2025-11-20")
    assert "failed on 2 of 2 day(s); 2025-11-20: latest 2025-11-20 14:00:00" in result["detail"]
    assert result["detail"].endswith("the day's data must reach 2025-11-20 22:30:00 UTC")


def test_the_end_of_a_dst_day_is_its_own() -> None:
    # 2025-10-26 in Brussels has 25 hours: it ends at 23:00 UTC, not 22:00.
    assert day_end_utc(date(2025, 10, 26), TIME_ZONE) == datetime(2025, 10, 26, 23, 0)
    assert day_end_utc(date(2025, 3, 30), TIME_ZONE) == datetime(2025, 3, 30, 22, 0)


RECONCILE = "reconcile(sum(events) = dwd.events count(*))"


def test_reconciliation_across_tiers_within_tolerance_passes(lake: Any, catalog: Catalog) -> None:
    _insert(lake, "lake_dwd.events", _event_rows(DAY, 100))
    _insert(lake, "lake_staging.daily__run__c0", [("s1", 60, "2025", "11", "20")])
    _insert(lake, "lake_staging.daily__run__c0", [("s2", 35, "2025", "11", "20")])

    result = _audit(lake, catalog, "daily", [DAY])[RECONCILE]

    assert result["passed"], result["detail"]
    assert (result["observed"], result["expected"]) == ("95", "100")


def test_reconciliation_that_lost_rows_fails_with_both_numbers(lake: Any, catalog: Catalog) -> None:
    _insert(lake, "lake_dwd.events", _event_rows(DAY, 100))
    _insert(lake, "lake_dwd.events", _event_rows(DAY + timedelta(days=1), 50))
    _insert(lake, "lake_staging.daily__run__c0", [("s1", 100, "2025", "11", "20")])

    results = _audit(lake, catalog, "daily", [DAY, DAY + timedelta(days=1)])
    result = results[RECONCILE]

    assert not result["passed"]
    assert result["detail"] == (
        "reconcile(sum(events) = dwd.events count(*)) failed on 1 of 2 day(s); 2025-11-21: "
        "0 vs 50 in dwd.events (difference 50, tolerance 10%)"
    )
    # The model's other checks are judged as before, in the same row.
    assert results["min_rows"]["value"] == 1


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            'granularity = "month"\nrow_count = { trailing_days = 7, tolerance = 0.5 }',
            "row_count compare days; granularity 'month' has none",
        ),
        (
            'granularity = "day"\nrow_count = { trailing_days = 7 }',
            "row_count needs trailing_days and tolerance",
        ),
        (
            'granularity = "day"\nrow_count = { trailing_days = 7, tolerance = 0.5, days = 1 }',
            "row_count: unknown field(s) ['days']",
        ),
        (
            'granularity = "day"\nfreshness = { column = "event time" }',
            "freshness column 'event time' must be a column name",
        ),
        (
            'granularity = "day"\nreconcile = [{ expression = "sum(x); DROP TABLE y", '
            'source = "dwd.events", source_expression = "count(*)" }]',
            "must be one SQL expression",
        ),
        (
            'granularity = "day"\nreconcile = [{ expression = "sum(x)", source = "ods.traffic", '
            'source_expression = "count(*)" }]',
            "reconcile source 'ods.traffic' is not a declared model of a tier before 'dws'",
        ),
    ],
)
def test_a_bad_history_check_is_one_error_naming_it(
    tmp_path: Path, entry: str, message: str
) -> None:
    models = MODELS.split('[[models]]\nname = "daily"')[0] + (
        '[[models]]\nname = "daily"\ntier = "dws"\nsources = ["dwd.events"]\n'
        f'keys = ["sensor_id"]\n{entry}\n'
    )
    with pytest.raises(CatalogError, match="model 'daily'") as raised:
        _catalog(tmp_path / "sql", models)
    assert message in str(raised.value)
