"""The app activity models (dwd.app_events, dws.daily_active_users,
ads.app_version_adoption_daily) on hand-built ODS fixtures; every expected value is computed by
hand. The pipeline's zone is Europe/Brussels: CET (UTC+1) in winter, CEST (UTC+2) in summer;
the app writes each event time with the device's own offset."""

from __future__ import annotations

from typing import Any

from sql_warehouse import Action, Warehouse, utc, window


def rows(warehouse: Warehouse, model: str, values: dict[str, str], *keys: str) -> list[Any]:
    found = warehouse.query(model, values)
    return sorted(found, key=lambda r: tuple(str(r[k]) for k in keys))


def events(warehouse: Warehouse, values: dict[str, str]) -> list[tuple[Any, ...]]:
    found = rows(warehouse, "app_events", values, "event_time", "user_id", "action")
    return [
        (r["user_id"], r["action"], r["event_time"], (r["year"], r["month"], r["day"]))
        for r in found
    ]


def test_local_days_follow_the_spring_dst_change_whatever_offset_the_app_wrote(
    warehouse: Warehouse,
) -> None:
    # 2026-03-29: local day 29 runs from 28 March 23:00 UTC (CET) to 29 March 22:00 UTC (CEST)
    warehouse.load_app_activity(
        [
            Action("u1", "open", "2026-03-28T22:59:59Z", "2026-03-28"),  # 23:59:59 on the 28th
            Action("u1", "open", "2026-03-28T23:00:00Z", "2026-03-29"),  # 00:00 on the 29th
            Action("u1", "tap", "2026-03-29T03:30:00+02:00", "2026-03-29"),  # 01:30 UTC
            Action("u2", "open", "2026-03-29T07:00:00+09:00", "2026-03-28"),  # 28th, 23:00 CET
            Action("u2", "open", "2026-03-29T21:59:00Z", "2026-03-30"),  # 23:59 CEST
            Action("u2", "open", "2026-03-29T22:00:00Z", "2026-03-30"),  # the 30th
            Action("u3", "open", "2026-03-28T20:30:00-04:00", "2026-03-29"),  # 00:30 UTC
        ]
    )

    assert events(warehouse, window("2026-03-29")) == [
        ("u1", "open", utc("2026-03-28 23:00"), ("2026", "03", "29")),
        ("u3", "open", utc("2026-03-29 00:30"), ("2026", "03", "29")),
        ("u1", "tap", utc("2026-03-29 01:30"), ("2026", "03", "29")),
        ("u2", "open", utc("2026-03-29 21:59"), ("2026", "03", "29")),
    ]


def test_the_autumn_dst_day_has_25_hours_and_its_repeated_hour_twice(
    warehouse: Warehouse,
) -> None:
    # 2026-10-25: local 02:30 happens at 00:30 UTC (CEST) and again at 01:30 UTC (CET)
    warehouse.load_app_activity(
        [
            Action("u1", "open", "2026-10-24T21:59:00Z", "2026-10-24"),  # 23:59 on the 24th
            Action("u1", "open", "2026-10-24T22:00:00Z", "2026-10-24"),  # 00:00 CEST
            Action("u1", "open", "2026-10-25T02:30:00+02:00", "2026-10-25"),  # 00:30 UTC
            Action("u1", "open", "2026-10-25T02:30:00+01:00", "2026-10-25"),  # 01:30 UTC
            Action("u1", "open", "2026-10-25T22:59:00Z", "2026-10-26"),  # 23:59 CET
            Action("u1", "open", "2026-10-25T23:00:00Z", "2026-10-26"),  # the 26th
        ]
    )

    assert [e[2] for e in events(warehouse, window("2026-10-25"))] == [
        utc("2026-10-24 22:00"),
        utc("2026-10-25 00:30"),
        utc("2026-10-25 01:30"),
        utc("2026-10-25 22:59"),
    ]


def test_the_year_end_partition_is_the_local_new_year(warehouse: Warehouse) -> None:
    warehouse.load_app_activity(
        [
            Action("u1", "open", "2026-12-31T22:59:59Z", "2026-12-31"),  # 23:59:59, 31 Dec
            Action("u1", "open", "2026-12-31T23:30:00Z", "2026-12-31"),  # 00:30, 1 Jan 2027
        ]
    )

    assert events(warehouse, window("2027-01-01")) == [
        ("u1", "open", utc("2026-12-31 23:30"), ("2027", "01", "01"))
    ]
    assert [e[2] for e in events(warehouse, window("2026-12-31"))] == [utc("2026-12-31 22:59:59")]


def test_bad_rows_are_dropped_and_values_normalised(warehouse: Warehouse) -> None:
    day = "2026-11-20"
    warehouse.load_app_activity(
        [
            Action("u1", "open", "2026-11-20T10:00:00+01:00", day),  # valid: 09:00 UTC
            Action(None, "open", "2026-11-20T10:00:00Z", day),
            Action("  ", "open", "2026-11-20T10:00:00Z", day),
            Action("u2", None, "2026-11-20T10:00:00Z", day),
            Action("u2", " ", "2026-11-20T10:00:00Z", day),
            Action("u3", "open", "not a time", day),
            Action("u3", "open", "20/11/2026 10:00", day),
            Action("u3", "open", None, day),
            # a device clock in the future: 20 Nov 22:30 UTC in a batch of the 19th
            Action("u4", "open", "2026-11-20T22:30:00Z", "2026-11-19"),
            # the same UTC day as its batch: kept
            Action("u4", "open", "2026-11-20T23:00:00+01:00", day),
            Action(
                " u5 ",
                " Purchase ",
                "2026-11-20T12:00:00Z",
                day,
                device=" iOS ",
                app_version=" 5.3.0 ",
                country=" be ",
            ),
            Action(
                "u6",
                "open",
                "2026-11-20T12:00:00Z",
                day,
                device="",
                app_version=" ",
                country="Belgium",
            ),
            Action("u7", "open", "2026-11-20T12:00:00", day),  # no offset: UTC, as declared
        ]
    )

    found = rows(warehouse, "app_events", window(day), "user_id", "event_time")

    assert [
        (r["user_id"], r["action"], r["event_time"], r["device"], r["app_version"], r["country"])
        for r in found
    ] == [
        ("u1", "open", utc("2026-11-20 09:00"), "ios", "5.2.0", "BE"),
        ("u4", "open", utc("2026-11-20 22:00"), "ios", "5.2.0", "BE"),
        ("u5", "purchase", utc("2026-11-20 12:00"), "ios", "5.3.0", "BE"),
        ("u6", "open", utc("2026-11-20 12:00"), None, None, None),
        ("u7", "open", utc("2026-11-20 12:00"), "ios", "5.2.0", "BE"),
    ]


def test_redelivered_actions_are_kept_once_the_earliest_arrival_wins(
    warehouse: Warehouse,
) -> None:
    day = "2026-11-20"
    warehouse.load_app_activity(
        [
            Action("u1", "open", "2026-11-20T12:00:00+01:00", "2026-11-21", app_version="5.2.0"),
            # the same instant, written in UTC and New York time, in an earlier batch: a tie
            # on arrival, broken by the values (5.1.0 < 5.3.0)
            Action("u1", "open", "2026-11-20T11:00:00Z", day, app_version="5.3.0"),
            Action("u1", "open", "2026-11-20T06:00:00-05:00", day, app_version="5.1.0"),
            Action("u1", "tap", "2026-11-20T11:00:00Z", day),  # another action: kept
            Action("u1", "open", "2026-11-20T11:00:00.001Z", day),  # another instant: kept
        ]
    )

    found = rows(warehouse, "app_events", window(day), "event_time", "action")

    assert [(r["action"], r["event_time"], r["app_version"]) for r in found] == [
        ("open", utc("2026-11-20 11:00"), "5.1.0"),
        ("tap", utc("2026-11-20 11:00"), "5.2.0"),
        ("open", utc("2026-11-20 11:00:00.001"), "5.2.0"),
    ]


def test_daily_active_users_one_row_per_user_and_action_with_the_days_last_version(
    warehouse: Warehouse,
) -> None:
    warehouse.load_app_activity(
        [
            Action("A", "open", "2026-11-30T08:00:00+01:00", "2026-11-30"),
            Action("A", "purchase", "2026-11-30T09:00:00+01:00", "2026-11-30"),
            # A's last event of the day: its version, device and country go on every A row
            Action(
                "A",
                "open",
                "2026-11-30T20:00:00+01:00",
                "2026-11-30",
                device="android",
                app_version="5.3.0",
                country="NL",
            ),
            # B across the month end: 23:30 on the 30th and 00:10 on 1 December (local)
            Action("B", "open", "2026-11-30T23:30:00+01:00", "2026-11-30"),
            Action("B", "open", "2026-12-01T00:10:00+01:00", "2026-11-30"),
            # C: two actions at the same last instant: the smaller action name ('like') decides
            Action("C", "share", "2026-11-30T10:00:00Z", "2026-11-30", app_version="6.0.0"),
            Action("C", "like", "2026-11-30T10:00:00Z", "2026-11-30", app_version="6.1.0"),
        ]
    )
    warehouse.materialize("app_events", window("2026-11-29", "2026-12-02"))

    found = rows(
        warehouse, "daily_active_users", window("2026-11-30", "2026-12-01"),
        "year", "month", "day", "user_id", "action",
    )  # fmt: skip

    assert [tuple(r.values()) for r in found] == [
        ("A", "open", 2, utc("2026-11-30 07:00"), utc("2026-11-30 19:00"), "5.3.0", "android",
         "NL", "2026", "11", "30"),
        ("A", "purchase", 1, utc("2026-11-30 08:00"), utc("2026-11-30 08:00"), "5.3.0",
         "android", "NL", "2026", "11", "30"),
        ("B", "open", 1, utc("2026-11-30 22:30"), utc("2026-11-30 22:30"), "5.2.0", "ios", "BE",
         "2026", "11", "30"),
        ("C", "like", 1, utc("2026-11-30 10:00"), utc("2026-11-30 10:00"), "6.1.0", "ios", "BE",
         "2026", "11", "30"),
        ("C", "share", 1, utc("2026-11-30 10:00"), utc("2026-11-30 10:00"), "6.1.0", "ios", "BE",
         "2026", "11", "30"),
        ("B", "open", 1, utc("2026-11-30 23:10"), utc("2026-11-30 23:10"), "5.2.0", "ios", "BE",
         "2026", "12", "01"),
    ]  # fmt: skip
    assert list(found[0]) == [
        "user_id", "action", "events", "first_seen", "last_seen", "app_version", "device",
        "country", "year", "month", "day",
    ]  # fmt: skip


def test_app_version_adoption_shares_the_days_active_users_out_by_version(
    warehouse: Warehouse,
) -> None:
    day = "2026-11-20"

    def at(user: str, action: str, clock: str, version: str | None) -> Action:
        return Action(user, action, f"{day}T{clock}:00+01:00", day, app_version=version)

    warehouse.load_app_activity(
        [
            at("A", "open", "08:00", "5.3.0"),
            at("A", "open", "09:00", "5.3.0"),
            at("A", "purchase", "09:30", "5.3.0"),
            at("B", "open", "10:00", "5.3.0"),
            *(at("C", "open", f"1{n}:00", "5.2.0") for n in range(4)),
            at("D", "tap", "12:00", None),
            at("D", "tap", "13:00", None),
            # the next day, one user: that day's share is 1
            Action("E", "open", "2026-11-21T12:00:00Z", "2026-11-21", app_version="5.3.0"),
        ]
    )
    values = window(day, "2026-11-21")
    warehouse.materialize("app_events", values)
    warehouse.materialize("daily_active_users", values)

    found = rows(warehouse, "app_version_adoption_daily", values, "day", "app_version")

    assert [tuple(r.values()) for r in found] == [
        # 4 active users on the 20th: C on 5.2.0, A and B on 5.3.0, D without a version
        ("5.2.0", 1, 0.25, 4, 4.0, 0, "2026", "11", "20"),
        ("5.3.0", 2, 0.5, 4, 2.0, 1, "2026", "11", "20"),
        ("unknown", 1, 0.25, 2, 2.0, 0, "2026", "11", "20"),
        ("5.3.0", 1, 1.0, 1, 1.0, 0, "2026", "11", "21"),
    ]
    assert list(found[0]) == [
        "app_version", "users", "user_share", "events", "events_per_user", "purchasers",
        "year", "month", "day",
    ]  # fmt: skip
