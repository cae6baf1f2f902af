"""What computed a partition (etl_lambdas.fingerprints) and which published days other SQL
computed (etl_local.backfill): pure, on the unit catalog (events -> hourly, daily -> monthly)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from etl_lambdas.catalog import Catalog, load_catalog
from etl_lambdas.fingerprints import Fingerprints, fingerprints
from etl_local.backfill import (
    CHANGED,
    INPUTS_CHANGED,
    UNRECORDED,
    PublishedPartition,
    model_changes,
    restatement_input,
    within,
)

DAYS = [date(2026, 3, 28) + timedelta(days=n) for n in range(4)]  # across the DST change


def _hours(day: date, computed_by: Fingerprints | None) -> list[PublishedPartition]:
    return [
        PublishedPartition(
            (f"{day:%Y}", f"{day:%m}", f"{day:%d}", f"{hour:02d}"),
            computed_by.model_hash if computed_by else None,
            computed_by.fingerprint if computed_by else None,
        )
        for hour in range(24)
    ]


def _published(
    hashes: dict[str, Fingerprints], days: list[date] = DAYS
) -> dict[str, list[PublishedPartition]]:
    """Every model published on `days` (monthly: March), computed by `hashes`."""
    by_day = {
        "events": [p for d in days for p in _hours(d, hashes["events"])],
        "hourly": [p for d in days for p in _hours(d, hashes["hourly"])],
        "daily": [
            PublishedPartition(
                (f"{d:%Y}", f"{d:%m}", f"{d:%d}"),
                hashes["daily"].model_hash,
                hashes["daily"].fingerprint,
            )
            for d in days
        ],
        "monthly": [
            PublishedPartition(
                ("2026", "03"), hashes["monthly"].model_hash, hashes["monthly"].fingerprint
            )
        ],
    }
    return by_day


def _edit(catalog: Catalog, relative: str, text: str) -> None:
    path = catalog.root / relative
    path.write_text(text, encoding="utf-8")


def test_what_the_sql_in_sql_computed_is_not_a_change(catalog: Catalog) -> None:
    assert model_changes(catalog, _published(fingerprints(catalog))) == []


def test_a_changed_model_and_everything_downstream_are_listed_with_their_days(
    catalog: Catalog,
) -> None:
    before = fingerprints(catalog)
    published = _published(before)
    _edit(catalog, "dws/daily.sql", "SELECT sensor_id, year, month, day FROM ${dwd_database}.x")

    changes = {c.model: c for c in model_changes(catalog, published)}

    # events and hourly do not read daily: untouched.
    assert list(changes) == ["daily", "monthly"]
    assert changes["daily"].reasons == (CHANGED,)
    assert changes["daily"].stale_partitions == 4
    assert [r.as_dict() for r in changes["daily"].ranges] == [
        {"start_date": "2026-03-28", "end_date": "2026-03-31"}
    ]
    # monthly's March partition was computed from daily's rows: the whole month is restated.
    assert changes["monthly"].days == tuple(date(2026, 3, day) for day in range(1, 32))
    assert changes["monthly"].reasons == ("reads daily, changed on these days",)
    assert changes["monthly"].stale_partitions == 1
    # The current fingerprints differ exactly for the edited model and those reading it.
    after = fingerprints(catalog)
    assert {name for name in after if after[name] != before[name]} == {"daily", "monthly"}
    assert after["monthly"].model_hash == before["monthly"].model_hash


def test_a_downstream_model_is_affected_only_on_days_it_has_published(catalog: Catalog) -> None:
    before = fingerprints(catalog)
    published = _published(before)
    published["hourly"] = [p for p in published["hourly"] if p.values[2] == "29"]
    _edit(catalog, "dwd/events.sql", "SELECT 1 AS changed, year, month, day, hour FROM x")

    changes = {c.model: c for c in model_changes(catalog, published)}

    assert set(changes) == {"events", "hourly", "daily", "monthly"}
    assert changes["events"].days == tuple(DAYS)
    assert changes["hourly"].days == (date(2026, 3, 29),)
    assert changes["hourly"].stale_partitions == 24


def test_edits_that_change_no_row_are_not_changes(catalog: Catalog) -> None:
    before = fingerprints(catalog)
    toml = (catalog.root / "models.toml").read_text(encoding="utf-8")
    (catalog.root / "models.toml").write_text(
        toml.replace('name = "daily"', 'name = "daily"\ndescription = "Now described."').replace(
            "min_rows = 2", "min_rows = 5"
        ),
        encoding="utf-8",
    )
    sql = (catalog.root / "dws/daily.sql").read_text(encoding="utf-8")
    (catalog.root / "dws/daily.sql").write_bytes((sql.replace("\n", "\r\n") + "  \n").encode())
    load_catalog.cache_clear()
    reloaded = load_catalog(catalog.root)
    assert reloaded.get("daily").description == "Now described."
    assert fingerprints(reloaded) == before


def test_partitions_published_before_hashes_were_recorded_are_listed(catalog: Catalog) -> None:
    published = _published(fingerprints(catalog))
    published["events"] = _hours(DAYS[0], None) + _hours(DAYS[1], fingerprints(catalog)["events"])

    changes = {c.model: c for c in model_changes(catalog, published)}

    assert changes["events"].reasons == (UNRECORDED,)
    assert changes["events"].days == (DAYS[0],)
    assert changes["events"].stale_partitions == 24


def test_rows_computed_before_an_upstream_restatement_are_listed(catalog: Catalog) -> None:
    """events changed and was restated alone: hourly's own SQL is current, its inputs are not."""
    before = fingerprints(catalog)
    _edit(catalog, "dwd/events.sql", "SELECT 2 AS changed, year, month, day, hour FROM x")
    after = fingerprints(catalog)
    published = _published({**before, "events": after["events"]})

    changes = {c.model: c for c in model_changes(catalog, published)}

    assert "events" not in changes
    assert changes["hourly"].reasons == (INPUTS_CHANGED,)
    assert changes["hourly"].days == tuple(DAYS)


def test_the_restatement_input_covers_the_changed_days_within_the_dates(catalog: Catalog) -> None:
    published = _published(fingerprints(catalog))
    _edit(catalog, "dws/daily.sql", "SELECT 3 AS changed, year, month, day FROM x")
    changes = model_changes(catalog, published)

    # monthly's partition is the month: the window spans it (Restate widens a month model's
    # window to whole months anyway).
    assert restatement_input(changes) == {
        "start_date": "2026-03-01",
        "end_date": "2026-03-31",
        "models": ["daily", "monthly"],
    }
    assert restatement_input(within(changes, date(2026, 3, 30), None)) == {
        "start_date": "2026-03-30",
        "end_date": "2026-03-31",
        "models": ["daily", "monthly"],
    }
    assert restatement_input(within(changes, date(2026, 4, 1), date(2026, 4, 30))) is None


def test_the_unit_catalog_is_the_repositorys_shape(catalog: Catalog) -> None:
    assert Path(catalog.root / "models.toml").is_file()
    assert [m.name for m in catalog.in_tier_order()] == ["events", "daily", "hourly", "monthly"]
