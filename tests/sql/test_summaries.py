"""DWS and ADS models chained on dwd.traffic_events output, values computed by hand.

Each test loads ODS fixtures, materializes the DWD model (and DWS where ADS needs it) as the
tables the next tier reads, then runs the model under test.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sql_warehouse import Event, Warehouse, utc, window


def minute_readings(
    sensor: str, local_start: str, speeds: list[int], segment: str = "E40", vehicles: int = 1
) -> list[Event]:
    """Readings one minute apart from local_start ('YYYY-MM-DDTHH:MM', CET +01:00)."""
    start = dt.datetime.fromisoformat(local_start + ":00+01:00")
    events = []
    for offset, speed in enumerate(speeds):
        at = start + dt.timedelta(minutes=offset)
        arrived = f"{at.astimezone(dt.UTC):%Y-%m-%dT%H}"
        events.append(
            Event(
                sensor, at.isoformat(), speed, arrived, segment=segment, intensity_class2=vehicles
            )
        )
    return events


def sort_rows(rows: list[dict[str, Any]], *keys: str) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: tuple(str(r[k]) for k in keys))


def test_sensor_hourly_summarizes_each_sensor_hour_of_the_window_only(
    warehouse: Warehouse,
) -> None:
    warehouse.load_ods(
        [
            # DWD: avg_3m 30, 30, 30, (30+30+90)/3=50 -> jam 1,1,1,0; 30->90 is a rise
            *minute_readings("A", "2026-11-20T08:00", [30, 30, 30, 90], vehicles=2),
            # 09:00: a fall of 70 against 08:03's 90
            *minute_readings("A", "2026-11-20T09:00", [20], vehicles=5),
            *minute_readings("B", "2026-11-20T08:30", [100, 110], segment="R0", vehicles=3),
            # the day after: in dwd (wider window) but outside the summary's window
            *minute_readings("A", "2026-11-21T08:00", [50]),
        ]
    )
    warehouse.materialize("traffic_events", window("2026-11-19", "2026-11-21"))

    rows = sort_rows(warehouse.query("sensor_hourly", window("2026-11-20")), "sensor_id", "hour")

    summary = [
        (
            r["sensor_id"], r["hour_start"], r["segment"], r["events"], r["avg_speed"],
            r["min_speed"], r["max_speed"], r["jam_minutes"], r["vehicles"],
            r["speed_changes_up"], r["speed_changes_down"], r["hour"],
        )
        for r in rows
    ]  # fmt: skip
    assert summary == [
        ("A", utc("2026-11-20 07:00"), "E40", 4, 45.0, 30, 90, 3, 8, 1, 0, "08"),
        ("A", utc("2026-11-20 08:00"), "E40", 1, 20.0, 20, 20, 1, 5, 0, 1, "09"),
        ("B", utc("2026-11-20 07:00"), "R0", 2, 105.0, 100, 110, 0, 6, 0, 0, "08"),
    ]  # fmt: skip
    assert {(r["year"], r["month"], r["day"]) for r in rows} == {("2026", "11", "20")}


def test_sensor_hourly_keeps_the_two_utc_hours_of_the_dst_fallback_apart(
    warehouse: Warehouse,
) -> None:
    # 2026-10-25: local 02:xx happens twice, at 00:xx UTC (CEST) and 01:xx UTC (CET)
    warehouse.load_ods(
        [
            Event("A", "2026-10-25T02:10:00+02:00", 50, "2026-10-25T00"),
            Event("A", "2026-10-25T02:20:00+02:00", 70, "2026-10-25T00"),
            Event("A", "2026-10-25T02:10:00+01:00", 90, "2026-10-25T01"),
        ]
    )
    warehouse.materialize("traffic_events", window("2026-10-25"))

    rows = sort_rows(warehouse.query("sensor_hourly", window("2026-10-25")), "hour_start")

    assert [(r["hour"], r["hour_start"], r["events"], r["avg_speed"]) for r in rows] == [
        ("02", utc("2026-10-25 00:00"), 2, 60.0),
        ("02", utc("2026-10-25 01:00"), 1, 90.0),
    ]


def test_daily_active_sensors_counts_sensors_with_a_valid_event_per_local_day(
    warehouse: Warehouse,
) -> None:
    warehouse.load_ods(
        [
            *minute_readings("A", "2026-12-31T23:58", [60, 60, 60]),  # 2 on the 31st, 1 on 1 Jan
            *minute_readings("B", "2026-12-31T12:00", [80], segment="R0"),
            *minute_readings("B", "2026-12-31T13:00", [80], segment="R1"),  # last segment wins
            *minute_readings("Z", "2026-12-31T12:00", [252, 255]),  # error codes only: inactive
        ]
    )
    warehouse.materialize("traffic_events", window("2026-12-30", "2027-01-02"))

    rows = sort_rows(
        warehouse.query("daily_active_sensors", window("2026-12-31", "2027-01-01")),
        "year", "month", "day", "sensor_id",
    )  # fmt: skip

    assert [tuple(r.values()) for r in rows] == [
        ("A", "E40", utc("2026-12-31 22:58"), utc("2026-12-31 22:59"), 2, "2026", "12", "31"),
        ("B", "R1", utc("2026-12-31 11:00"), utc("2026-12-31 12:00"), 2, "2026", "12", "31"),
        ("A", "E40", utc("2026-12-31 23:00"), utc("2026-12-31 23:00"), 1, "2027", "01", "01"),
    ]
    assert list(rows[0]) == [
        "sensor_id", "segment", "first_seen", "last_seen", "events", "year", "month", "day"
    ]  # fmt: skip


def test_segment_congestion_daily_reports_jam_share_and_worst_hour(warehouse: Warehouse) -> None:
    warehouse.load_ods(
        [
            # E40, sensor A: 07:00..07:02 at 30 -> 3 jam minutes in hour 07
            *minute_readings("A", "2026-11-20T07:00", [30, 30, 30]),
            # sensor B: 17:00..17:02 at 20, 17:03 at 100 -> avg_3m 20, 20, 20, (20+20+100)/3
            # = 46.7 -> 3 jam minutes in hour 17: a tie with 07, the earlier hour wins
            *minute_readings("B", "2026-11-20T17:00", [20, 20, 20, 100]),
            # sensor C: 17:30 at 10 -> a 4th jam minute in hour 17, which becomes the worst
            *minute_readings("C", "2026-11-20T17:30", [10]),
            # R0: never jammed
            *minute_readings("D", "2026-11-20T12:00", [120, 100], segment="R0"),
            # no segment: left out of the report
            *minute_readings("E", "2026-11-20T12:00", [10], segment=None),  # type: ignore[arg-type]
        ]
    )
    day = window("2026-11-20")
    warehouse.materialize("traffic_events", day)
    warehouse.materialize("daily_active_sensors", day)

    rows = sort_rows(warehouse.query("segment_congestion_daily", day), "segment")

    assert [tuple(r.values()) for r in rows] == [
        # 8 events, jam 3 + 3 + 1 = 7, speeds 90 + 160 + 10 = 260
        ("E40", 3, 8, 7, 7 / 8, 260 / 8, "17", "2026", "11", "20"),
        ("R0", 1, 2, 0, 0.0, 110.0, None, "2026", "11", "20"),
    ]
    assert list(rows[0]) == [
        "segment", "sensors", "events", "jam_minutes", "jam_share", "avg_speed", "worst_hour",
        "year", "month", "day",
    ]  # fmt: skip


def test_segment_worst_hour_ties_go_to_the_earliest_hour(warehouse: Warehouse) -> None:
    warehouse.load_ods(
        [
            *minute_readings("A", "2026-11-20T17:00", [30]),
            *minute_readings("B", "2026-11-20T07:00", [30]),
        ]
    )
    day = window("2026-11-20")
    warehouse.materialize("traffic_events", day)
    warehouse.materialize("daily_active_sensors", day)

    (row,) = warehouse.query("segment_congestion_daily", day)

    assert (row["worst_hour"], row["jam_minutes"], row["sensors"]) == ("07", 2, 2)
