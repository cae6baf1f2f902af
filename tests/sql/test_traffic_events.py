"""dwd.traffic_events on hand-built ODS fixtures; every expected value is computed by hand.

Fixtures use Europe/Brussels: CET (UTC+1) in winter, CEST (UTC+2) in summer.
"""

from __future__ import annotations

from typing import Any

import pytest
from sql_warehouse import Event, Warehouse, utc, window

MODEL = "traffic_events"


def by_time(rows: list[dict[str, Any]], sensor: str) -> list[dict[str, Any]]:
    return sorted((r for r in rows if r["sensor_id"] == sensor), key=lambda r: r["event_time"])


def test_rolling_averages_and_indicators_use_readings_before_local_midnight(
    warehouse: Warehouse,
) -> None:
    # Local day 2026-11-20 starts at 2026-11-19 23:00 UTC. The readings of 22:40..22:59 UTC
    # (local 19 November) feed the windows of the first minutes but are not output.
    speeds = {
        "2026-11-19T22:40:00Z": 0,  # exactly 20 min before 23:00: outside (t - 20 min, t]
        "2026-11-19T22:57:00Z": 100,  # exactly 3 min before 23:00: outside (t - 3 min, t]
        "2026-11-19T22:58:00Z": 90,
        "2026-11-19T22:59:00Z": 60,
        "2026-11-20T00:00:00+01:00": 30,  # = 23:00 UTC
        "2026-11-20T00:01:00+01:00": 30,
        # no reading at 00:02: the window holds fewer readings, it does not stretch
        "2026-11-20T00:03:00+01:00": 50,
        "2026-11-20T00:04:00+01:00": 80,
    }
    warehouse.load_ods(
        [Event("A", ts, speed, arrived="2026-11-19T23") for ts, speed in speeds.items()]
    )

    rows = by_time(warehouse.query(MODEL, window("2026-11-20")), "A")

    got = [
        (
            r["event_time"],
            r["avg_speed_3m"],
            r["avg_speed_20m"],
            r["speed_change"],
            r["traffic_jam"],
        )
        for r in rows
    ]
    assert got == [
        # 3m: 22:58, 22:59, 23:00; 20m: 22:57..23:00; 30 vs 60 fell by 30
        (utc("2026-11-19 23:00"), (90 + 60 + 30) / 3, (100 + 90 + 60 + 30) / 4, -1, 0),
        # 3m: 22:59..23:01 = 40, inclusive jam bound
        (utc("2026-11-19 23:01"), (60 + 30 + 30) / 3, (100 + 90 + 60 + 30 + 30) / 5, 0, 1),
        # 3m: (23:00, 23:03] = 23:01, 23:03; rose by exactly 20 against the previous reading
        (utc("2026-11-19 23:03"), (30 + 50) / 2, (100 + 90 + 60 + 30 + 30 + 50) / 6, 1, 1),
        (utc("2026-11-19 23:04"), (50 + 80) / 2, (100 + 90 + 60 + 30 + 30 + 50 + 80) / 7, 1, 0),
    ]
    assert {(r["year"], r["month"], r["day"], r["hour"]) for r in rows} == {
        ("2026", "11", "20", "00")
    }


def test_error_codes_and_impossible_values_are_dropped(warehouse: Warehouse) -> None:
    arrived = "2026-11-20T09"
    warehouse.load_ods(
        [
            Event("B", "2026-11-20T10:00:00+01:00", 50, arrived),
            Event("B", "2026-11-20T10:01:00+01:00", 252, arrived),
            Event("B", "2026-11-20T10:02:00+01:00", 254, arrived),
            Event("B", "2026-11-20T10:03:00+01:00", 255, arrived),
            Event("B", "2026-11-20T10:04:00+01:00", -1, arrived),
            Event("B", "2026-11-20T10:05:00+01:00", None, arrived),
            Event("B", "2026-11-20T10:06:00+01:00", 10, arrived, occupancy=101),
            Event("B", "2026-11-20T10:06:10+01:00", 10, arrived, occupancy=-1),
            Event("B", "2026-11-20T10:07:00+01:00", 10, arrived, intensity_class4=-3),
            # times the Glue job cannot read: record_timestamp_utc is NULL
            Event("B", "20/11/2026 10:07", 10, arrived),
            Event("B", "not a time", 10, arrived),
            Event("B", "2026-11-20", 10, arrived),
            Event(None, "2026-11-20T10:07:30+01:00", 10, arrived),
            # valid: the sensor's previous valid reading is 10:00's 50, not a dropped one
            Event("B", "2026-11-20T10:08:00+01:00", 80, arrived, previous_speed=254),
            # 250 is the highest real speed; missing occupancy is kept as missing
            Event("B", "2026-11-20T10:09:00Z", 250, arrived, occupancy=None),
        ]
    )

    rows = warehouse.query(MODEL, window("2026-11-20"))

    assert len(rows) == 3
    assert [(r["sensor_id"], r["event_time"]) for r in by_time(rows, "B")] == [
        ("B", utc("2026-11-20 09:00")),
        ("B", utc("2026-11-20 09:08")),
        ("B", utc("2026-11-20 10:09")),
    ]
    first, second, third = by_time(rows, "B")
    assert (second["speed_change"], second["avg_speed_3m"]) == (1, 80.0)
    assert second["previous_speed"] is None  # the error code 254 is not a speed
    assert (third["current_speed"], third["occupancy"], third["speed_change"]) == (250, None, 1)
    assert third["avg_speed_3m"] == 250.0  # 10:08 CET is an hour before 10:09 UTC
    assert first["speed_change"] == 0  # a sensor's first reading has nothing to compare with


def test_event_time_is_the_typed_instant_a_time_without_offset_in_the_declared_zone(
    warehouse: Warehouse,
) -> None:
    # The model reads record_timestamp_utc, which the Glue job writes: a time written without an
    # offset is Brussels time (sql/sources.yaml), a space may stand for the 'T'.
    arrived = "2026-11-20T09"
    warehouse.load_ods(
        [
            Event("E", "2026-11-20T10:07:20", 10, arrived),
            Event("E", "2026-11-20 10:07:25+01:00", 10, arrived),
            Event("E", "2026-11-20T09:07:30Z", 10, arrived),
        ]
    )

    rows = warehouse.query(MODEL, window("2026-11-20"))

    assert [(r["event_time"], r["hour"]) for r in by_time(rows, "E")] == [
        (utc("2026-11-20 09:07:20"), "10"),
        (utc("2026-11-20 09:07:25"), "10"),
        (utc("2026-11-20 09:07:30"), "10"),
    ]


def test_redelivered_events_are_kept_once_the_earliest_arrival_wins(warehouse: Warehouse) -> None:
    warehouse.load_ods(
        [
            Event("C", "2026-11-20T12:00:00+01:00", 70, "2026-11-20T12", occupancy=30),
            Event("C", "2026-11-20T12:00:00+01:00", 70, "2026-11-20T11", occupancy=20),
            # the same instant written in UTC is the same event
            Event("C", "2026-11-20T11:00:00Z", 70, "2026-11-20T13", occupancy=40),
            Event("C", "2026-11-20T11:00:00Z", 70, "2026-11-20T11", occupancy=25),
            Event("C", "2026-11-20T12:01:00+01:00", 70, "2026-11-20T11"),
        ]
    )

    rows = by_time(warehouse.query(MODEL, window("2026-11-20")), "C")

    assert [(r["event_time"], r["occupancy"]) for r in rows] == [
        # earliest arrival hour (11), then the smallest values: occupancy 20 before 25
        (utc("2026-11-20 11:00"), 20),
        (utc("2026-11-20 11:01"), 10),
    ]
    # the duplicate does not count twice in the rolling average either
    assert rows[1]["avg_speed_3m"] == 70.0


def test_late_events_are_included_and_only_the_arrival_window_is_read(
    warehouse: Warehouse,
) -> None:
    warehouse.load_ods(
        [
            # local 23:30 on the 20th, arrived the next UTC day: included
            Event("D", "2026-11-20T23:30:00+01:00", 60, "2026-11-21T05"),
            # arrived two days later: outside arrival_end_date, not read
            Event("D", "2026-11-20T23:40:00+01:00", 60, "2026-11-22T00"),
            # arrived two days early: outside arrival_start_date, not read
            Event("D", "2026-11-20T01:00:00+01:00", 60, "2026-11-18T23"),
            # local 21 November 00:30 (= 20 November 23:30 UTC): another local day
            Event("D", "2026-11-21T00:30:00+01:00", 60, "2026-11-20T23"),
        ]
    )

    rows = warehouse.query(MODEL, window("2026-11-20"))

    assert [(r["event_time"], r["day"], r["hour"]) for r in rows] == [
        (utc("2026-11-20 22:30"), "20", "23")
    ]


def test_a_restated_day_reads_the_events_that_arrived_late(warehouse: Warehouse) -> None:
    warehouse.load_ods(
        [
            Event("D", "2026-11-20T12:00:00+01:00", 60, "2026-11-20T11"),
            # delivered two days late: read when a later run restates the 20th
            Event("D", "2026-11-20T23:40:00+01:00", 70, "2026-11-22T09"),
        ]
    )

    daily = warehouse.query(MODEL, window("2026-11-20"))
    restated = warehouse.query(MODEL, window("2026-11-20", today="2026-11-23", lookback_days=7))

    assert [r["current_speed"] for r in daily] == [60]
    assert [r["current_speed"] for r in restated] == [60, 70]


@pytest.mark.parametrize(
    ("last_minute", "first_minute", "last_partition", "first_partition"),
    [
        # year end (CET): 2026-12-31 23:59 local and 2027-01-01 00:00 local
        (
            "2026-12-31T23:59:00+01:00",
            "2027-01-01T00:00:00+01:00",
            ("2026", "12", "31", "23"),
            ("2027", "01", "01", "00"),
        ),
        # month end (CEST)
        (
            "2026-06-30T23:59:00+02:00",
            "2026-07-01T00:00:00+02:00",
            ("2026", "06", "30", "23"),
            ("2026", "07", "01", "00"),
        ),
    ],
)
def test_day_boundary_across_month_and_year_end(
    warehouse: Warehouse,
    last_minute: str,
    first_minute: str,
    last_partition: tuple[str, ...],
    first_partition: tuple[str, ...],
) -> None:
    # both readings arrive on the UTC day before the new local day (22:59 and 23:00 UTC)
    arrived = last_minute[:10] + "T23"
    warehouse.load_ods(
        [Event("E", last_minute, 20, arrived), Event("E", first_minute, 60, arrived)]
    )
    old_day, new_day = last_minute[:10], first_minute[:10]

    old_rows = warehouse.query(MODEL, window(old_day))
    new_rows = warehouse.query(MODEL, window(new_day))

    def partition(row: dict[str, Any]) -> tuple[str, ...]:
        return (row["year"], row["month"], row["day"], row["hour"])

    assert [partition(r) for r in old_rows] == [last_partition]
    assert [partition(r) for r in new_rows] == [first_partition]
    # the new day's first reading averages with the old day's last one and compares to it
    assert (new_rows[0]["avg_speed_3m"], new_rows[0]["speed_change"]) == ((20 + 60) / 2, 1)


def hourly_readings(first_utc_hour: str, hours: int) -> list[Event]:
    """One reading at :30 of every UTC hour, starting at first_utc_hour ('YYYY-MM-DDTHH')."""
    import datetime as dt

    start = dt.datetime.fromisoformat(first_utc_hour + ":30:00+00:00")
    events = []
    for offset in range(hours):
        at = start + dt.timedelta(hours=offset)
        events.append(Event("F", at.isoformat(), 90, arrived=f"{at:%Y-%m-%dT%H}"))
    return events


def test_dst_end_day_has_25_local_hours_and_hour_02_holds_two_utc_hours(
    warehouse: Warehouse,
) -> None:
    # 2026-10-25: CEST ends at 03:00 local (01:00 UTC); the local day is 22:00 UTC on the 24th
    # to 23:00 UTC on the 25th.
    warehouse.load_ods(hourly_readings("2026-10-24T20", 28))

    rows = by_time(warehouse.query(MODEL, window("2026-10-25")), "F")

    assert len(rows) == 25
    assert [r["hour"] for r in rows] == [
        "00",
        "01",
        "02",
        "02",
        *(f"{h:02d}" for h in range(3, 24)),
    ]
    assert [r["event_time"] for r in rows if r["hour"] == "02"] == [
        utc("2026-10-25 00:30"),
        utc("2026-10-25 01:30"),
    ]
    assert {r["day"] for r in rows} == {"25"}


def test_dst_start_day_has_23_local_hours_and_no_hour_02(warehouse: Warehouse) -> None:
    # 2026-03-29: CET ends at 02:00 local (01:00 UTC); the local day is 23:00 UTC on the 28th
    # to 22:00 UTC on the 29th.
    warehouse.load_ods(hourly_readings("2026-03-28T21", 27))

    rows = by_time(warehouse.query(MODEL, window("2026-03-29")), "F")

    assert [r["hour"] for r in rows] == ["00", "01", *(f"{h:02d}" for h in range(3, 24))]
    assert rows[0]["event_time"] == utc("2026-03-28 23:30")
    assert rows[-1]["event_time"] == utc("2026-03-29 21:30")


def test_output_columns_types_and_partition_columns_last(warehouse: Warehouse) -> None:
    warehouse.load_ods(
        [
            Event(
                "G",
                "2026-02-03T04:05:06+01:00",
                88,
                "2026-02-03T03",
                intensity_class2=4,
                intensity_class3=3,
                intensity_class4=2,
                intensity_class5=1,
            )
        ]
    )

    columns = warehouse.describe(MODEL, window("2026-02-03"))
    (row,) = warehouse.query(MODEL, window("2026-02-03"))

    assert [name for name, _ in columns] == [
        "sensor_id", "segment", "event_time", "current_speed", "previous_speed", "occupancy",
        "intensity_class2", "intensity_class3", "intensity_class4", "intensity_class5",
        "vehicles", "avg_speed_3m", "avg_speed_20m", "speed_change", "traffic_jam",
        "year", "month", "day", "hour",
    ]  # fmt: skip
    types = dict(columns)
    assert types["event_time"] == "TIMESTAMP"  # no zone: Parquet-writable by Athena
    assert all(types[p] == "VARCHAR" for p in ("year", "month", "day", "hour"))
    assert (row["year"], row["month"], row["day"], row["hour"]) == ("2026", "02", "03", "04")
    assert row["event_time"] == utc("2026-02-03 03:05:06")
    assert row["vehicles"] == 10
