"""`etl load`'s plan (etl_local.load): where each file goes (--arrival, the path's partition
folders, the modification time), and every file checked against the declared format first."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import os
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from etl_lambdas.catalog import load_catalog
from etl_lambdas.sources import FileFormat
from etl_local.load import Arrival, LoadError, md5_of, plan_load

SOURCES = load_catalog().sources
TRAFFIC, APP = SOURCES.get("traffic"), SOURCES.get("app_activity")
RECORD = {"uniqueId": "1001", "recordTimestamp": "2026-11-20T14:03:00+01:00", "currentSpeed": 80}


def nothing_there(key: str) -> str | None:
    return None


def write(path: Path, body: bytes, mtime: datetime | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    if mtime is not None:
        os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return path


def json_lines(*records: dict[str, object]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def test_arrival_comes_from_the_flag_the_folders_or_the_modification_time(tmp_path: Path) -> None:
    at_13 = datetime(2026, 11, 20, 13, 40, tzinfo=UTC)
    by_time = write(tmp_path / "a" / "sensors.json", json_lines(RECORD), at_13)
    write(
        tmp_path / "b" / "year=2026/month=11/day=19/hour=22" / "s.json.gz",
        gzip.compress(json_lines(RECORD)),
    )

    plan = plan_load(TRAFFIC, [by_time, tmp_path / "b"], None, nothing_there)
    flagged = plan_load(TRAFFIC, [by_time], Arrival.parse("2026-11-21"), nothing_there)

    assert plan.problems == ()
    assert [u.key for u in plan.uploads] == [
        "raw/traffic/year=2026/month=11/day=20/hour=13/sensors.json",
        "raw/traffic/year=2026/month=11/day=19/hour=22/s.json.gz",
    ]
    # a day for an hourly source: its hour 00
    assert [u.key for u in flagged.uploads] == [
        "raw/traffic/year=2026/month=11/day=21/hour=00/sensors.json"
    ]


def test_a_daily_source_takes_the_day_and_refuses_an_hour(tmp_path: Path) -> None:
    csv_file = write(
        tmp_path / "app.csv", b"user_id,action,event_time\nu1,open,2026-11-20T10:00Z\n"
    )

    plan = plan_load(APP, [csv_file], Arrival.parse("2026-11-20"), nothing_there)

    assert [u.key for u in plan.uploads] == ["raw/app_activity/year=2026/month=11/day=20/app.csv"]
    with pytest.raises(LoadError, match="arrives daily"):
        plan_load(APP, [csv_file], Arrival.parse("2026-11-20T10"), nothing_there)


@pytest.mark.parametrize("text", ["2026-11-20T24", "2026-13-01", "20261120", "yesterday"])
def test_a_bad_arrival_is_one_error_naming_it(text: str) -> None:
    with pytest.raises(LoadError, match=text):
        Arrival.parse(text)


def test_folders_are_read_recursively_without_hidden_files(tmp_path: Path) -> None:
    write(tmp_path / "in" / "x" / "one.json", json_lines(RECORD))
    write(tmp_path / "in" / "y" / "two.json", json_lines(RECORD))
    write(tmp_path / "in" / ".DS_Store", b"\x00\x01")
    write(tmp_path / "in" / "_SUCCESS", b"")

    plan = plan_load(TRAFFIC, [tmp_path / "in"], Arrival.parse("2026-11-20T05"), nothing_there)

    assert plan.problems == ()
    assert sorted(u.path.name for u in plan.uploads) == ["one.json", "two.json"]


@pytest.mark.parametrize(
    ("source", "name", "body", "problem"),
    [
        (TRAFFIC, "a.json", b"sensor,speed\n1001,80\n", "its first line is not JSON"),
        (TRAFFIC, "a.json", b"[1, 2]\n", "not a JSON object"),
        (TRAFFIC, "a.json", json_lines({"station": "x"}), "none of its fields (station)"),
        (TRAFFIC, "a.json.gz", json_lines(RECORD), "cannot be read as .gz"),
        (TRAFFIC, "a.json", b"", "the file is empty"),
        (TRAFFIC, "a.json.zst", b"x", ".zst files cannot be checked"),
        (APP, "a.csv", b"user_id;action;event_time\nu1;open;x\n", "it looks ';'-delimited"),
        (APP, "a.csv", b"id,what\n1,2\n", "none of its fields (id, what)"),
        (APP, "a.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "is not UTF-8 text"),
    ],
)
def test_a_file_that_does_not_match_the_declared_format_is_one_problem_and_nothing_loads(
    tmp_path: Path, source: object, name: str, body: bytes, problem: str
) -> None:
    good = write(tmp_path / "good.json", json_lines(RECORD))
    bad = write(tmp_path / name, body)
    paths = [good, bad] if source is TRAFFIC else [bad]

    plan = plan_load(source, paths, Arrival.parse("2026-11-20"), nothing_there)  # type: ignore[arg-type]

    assert len(plan.problems) == 1
    assert plan.problems[0].startswith(f"{bad}: ")
    assert problem in plan.problems[0]


def test_compressed_and_parquet_files_are_checked_inside(tmp_path: Path) -> None:
    parquet = io.BytesIO()
    pq.write_table(pa.table({"uniqueId": ["1"], "currentSpeed": [80]}), parquet)
    parquet_source = replace(TRAFFIC, format=FileFormat(type="parquet"))
    files = [
        write(tmp_path / "a.json.bz2", bz2.compress(json_lines(RECORD))),
        write(tmp_path / "b.json.gz", gzip.compress(json_lines(RECORD))),
    ]
    good_parquet = write(tmp_path / "c.parquet", parquet.getvalue())
    bad_parquet = write(tmp_path / "d.parquet", json_lines(RECORD))

    assert plan_load(TRAFFIC, files, Arrival.parse("2026-11-20"), nothing_there).problems == ()
    checked = plan_load(
        parquet_source, [good_parquet, bad_parquet], Arrival.parse("2026-11-20"), nothing_there
    )
    assert [p.split(": ")[1] for p in checked.problems] == ["is not a Parquet file"]


def test_the_same_file_again_is_left_as_it_is_another_with_its_name_is_refused(
    tmp_path: Path,
) -> None:
    first = write(tmp_path / "a" / "s.json", json_lines(RECORD))
    other = write(tmp_path / "b" / "s.json", json_lines(RECORD, RECORD))
    key = "raw/traffic/year=2026/month=11/day=20/hour=00/s.json"
    arrival = Arrival.parse("2026-11-20")

    same = plan_load(TRAFFIC, [first], arrival, {key: md5_of(first)}.get)
    changed = plan_load(TRAFFIC, [other], arrival, {key: md5_of(first)}.get)
    both = plan_load(TRAFFIC, [first, other], arrival, nothing_there)

    assert (same.uploads, same.problems) == ((), ())
    assert "already holds another file of that name" in changed.problems[0]
    assert "goes to the same key" in both.problems[0]


def test_a_missing_path_or_an_empty_folder_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()

    plan = plan_load(TRAFFIC, [tmp_path / "nope", tmp_path / "empty"], None, nothing_there)

    assert plan.problems == (
        f"{tmp_path / 'nope'}: no such file or folder",
        f"{tmp_path / 'empty'}: the folder holds no files",
    )


def test_arrival_of_a_moment_is_its_utc_hour() -> None:
    moment = datetime(2026, 3, 29, 3, 30, tzinfo=datetime.now().astimezone().tzinfo)
    arrival = Arrival.of(moment)
    assert (arrival.day, arrival.hour) == (
        moment.astimezone(UTC).date(),
        moment.astimezone(UTC).hour,
    )
    assert Arrival(date(2026, 3, 29), 1).label(TRAFFIC) == "2026-03-29T01"
