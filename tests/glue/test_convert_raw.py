"""glue/convert_raw.py: argument parsing and window paths (pure), and the job on local Spark."""

from __future__ import annotations

import datetime as dt
import gzip
import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "glue" / "convert_raw.py"


def load_job() -> ModuleType:
    # The script is deployed as a single file, not a package: load it the way Glue runs it.
    spec = importlib.util.spec_from_file_location("glue_convert_raw", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


job = load_job()

ARGS = [
    "--raw_path", "/raw/traffic/", "--ods_path", "/ods/traffic",
    "--arrival_start_date", "2026-12-31", "--arrival_end_date", "2027-01-01",
]  # fmt: skip


def test_arguments_in_glue_convention_ignore_glue_own_arguments() -> None:
    argv = [
        "--JOB_ID", "j_1", "--enable-metrics", "--job-bookmark-option", "job-bookmark-disable",
        *ARGS, "--JOB_NAME=convert", "--TempDir", "s3://tmp/",
    ]  # fmt: skip

    arguments = job.parse_arguments(argv)

    assert arguments == job.JobArguments(
        raw_path="/raw/traffic",
        ods_path="/ods/traffic",
        arrival_start_date=dt.date(2026, 12, 31),
        arrival_end_date=dt.date(2027, 1, 1),
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--arrival_start_date": "2026-13-01"}, "--arrival_start_date '2026-13-01' is not a date"),
        ({"--arrival_end_date": "20270101"}, "--arrival_end_date '20270101' is not a date"),
        ({"--arrival_end_date": "2026-12-30"}, "--arrival_end_date 2026-12-30 is before"),
        ({"--arrival_end_date": "2028-12-30"}, "longer than 400 days"),
        ({"--raw_path": ""}, "missing job argument(s): --raw_path"),
    ],
)
def test_bad_arguments_raise_one_clear_error(change: dict[str, str], message: str) -> None:
    argv = list(ARGS)
    for name, value in change.items():
        argv[argv.index(name) + 1] = value

    with pytest.raises(job.JobArgumentError) as error:
        job.parse_arguments(argv)

    assert message in str(error.value)


def test_missing_arguments_are_all_named() -> None:
    with pytest.raises(job.JobArgumentError, match="--ods_path, --arrival_end_date"):
        job.parse_arguments(["--raw_path", "/r", "--arrival_start_date", "2026-01-01"])


def test_window_paths_cover_every_utc_hour_across_the_year_end() -> None:
    paths = job.partition_paths("s3://raw/raw/traffic/", dt.date(2026, 12, 31), dt.date(2027, 1, 1))

    assert len(paths) == 48
    assert paths[0] == "s3://raw/raw/traffic/year=2026/month=12/day=31/hour=00"
    assert paths[23] == "s3://raw/raw/traffic/year=2026/month=12/day=31/hour=23"
    assert paths[24] == "s3://raw/raw/traffic/year=2027/month=01/day=01/hour=00"


# --- the job on local Spark -------------------------------------------------------------------


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("test_convert_raw")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    yield session
    session.stop()


def event(sensor: str, timestamp: str, speed: Any = 87, **fields: Any) -> str:
    record = {
        "uniqueId": sensor,
        "recordTimestamp": timestamp,
        "currentSpeed": speed,
        "previousSpeed": 90,
        "bezettingsgraad": 12,
        "trafficIntensityClass2": 10,
        "trafficIntensityClass3": 1,
        "trafficIntensityClass4": 0,
        "trafficIntensityClass5": 2,
        "segment": "E40 Gent-Brussel km 12.3",
        **fields,
    }
    return json.dumps(record)


def write_hour(raw: Path, arrival: str, lines: list[str], name: str = "part-0.json.gz") -> None:
    """Gzipped JSON lines under the arrival-hour prefix ('YYYY-MM-DDTHH', UTC)."""
    at = dt.datetime.strptime(arrival, "%Y-%m-%dT%H")
    directory = raw / f"year={at:%Y}/month={at:%m}/day={at:%d}/hour={at:%H}"
    directory.mkdir(parents=True, exist_ok=True)
    with gzip.open(directory / name, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def run_job(spark: Any, raw: Path, ods: Path, start: str, end: str, *extra: str) -> dict[str, int]:
    arguments = job.parse_arguments(
        ["--raw_path", str(raw), "--ods_path", str(ods),
         "--arrival_start_date", start, "--arrival_end_date", end, "--JOB_NAME", "test", *extra]
    )  # fmt: skip
    summary: dict[str, int] = job.run(spark, arguments)
    return summary


def read_ods(ods: Path) -> list[dict[str, Any]]:
    import pyarrow as pa
    import pyarrow.dataset as ds

    # Partition values are strings, as the crawler declares them: '05', not 5.
    hive = ds.partitioning(
        pa.schema([(c, pa.string()) for c in job.PARTITION_COLUMNS]), flavor="hive"
    )
    table = ds.dataset(ods, format="parquet", partitioning=hive).to_table()
    return sorted(table.to_pylist(), key=lambda r: (r["record_timestamp"], r["sensor_id"]))


def partitions(ods: Path) -> set[str]:
    return {str(p.parent.relative_to(ods)) for p in ods.rglob("*.parquet")}


@pytest.mark.spark
def test_converts_the_window_to_typed_parquet_partitioned_by_arrival_hour(
    spark: Any, tmp_path: Path
) -> None:
    raw, ods = tmp_path / "raw", tmp_path / "ods"
    write_hour(raw, "2026-12-31T23", [event("1065", "2027-01-01T00:03:00+01:00")])
    write_hour(
        raw,
        "2027-01-01T05",
        [
            event("1066", "2027-01-01T06:00:00+01:00", speed=252),  # converted, not cleaned
            "{not json",
            '{"uniqueId": "1067", "currentSpeed": "fast"}',  # wrong type
            "[1, 2]",
            "",  # a blank line is no event, and not malformed either
            event("1067", "2027-01-01T06:01:00Z", bezettingsgraad=None),
        ],
    )
    write_hour(raw, "2027-01-02T00", [event("1068", "2027-01-02T01:00:00+01:00")])  # outside

    summary = run_job(spark, raw, ods, "2026-12-31", "2027-01-01")

    assert summary == {
        "hours_with_raw_data": 2, "hours_converted": 2, "hours_unchanged": 0,
        "events": 3, "malformed_lines": 3,
    }  # fmt: skip
    assert partitions(ods) == {
        "year=2026/month=12/day=31/hour=23",
        "year=2027/month=01/day=01/hour=05",
    }
    assert not list(ods.rglob("_SUCCESS"))
    schema = spark.read.parquet(str(ods / "year=2026/month=12/day=31/hour=23")).schema
    assert [(f.name, f.dataType.simpleString()) for f in schema.fields] == [
        ("sensor_id", "string"), ("record_timestamp", "string"), ("current_speed", "int"),
        ("previous_speed", "int"), ("occupancy", "int"), ("intensity_class2", "int"),
        ("intensity_class3", "int"), ("intensity_class4", "int"), ("intensity_class5", "int"),
        ("segment", "string"),
    ]  # fmt: skip
    first, second, third = read_ods(ods)
    assert first == {
        "sensor_id": "1065", "record_timestamp": "2027-01-01T00:03:00+01:00",
        "current_speed": 87, "previous_speed": 90, "occupancy": 12, "intensity_class2": 10,
        "intensity_class3": 1, "intensity_class4": 0, "intensity_class5": 2,
        "segment": "E40 Gent-Brussel km 12.3",
        "year": "2026", "month": "12", "day": "31", "hour": "23",
    }  # fmt: skip
    assert (second["sensor_id"], second["current_speed"], second["hour"]) == ("1066", 252, "05")
    assert (third["sensor_id"], third["occupancy"], third["hour"]) == ("1067", None, "05")


@pytest.mark.spark
def test_rerun_replaces_the_changed_hours_and_nothing_else(spark: Any, tmp_path: Path) -> None:
    # given a converted window
    raw, ods = tmp_path / "raw", tmp_path / "ods"
    write_hour(raw, "2026-11-19T10", [event("1", "2026-11-19T11:00:00+01:00")])
    write_hour(raw, "2026-11-20T10", [event("2", "2026-11-20T11:00:00+01:00")])
    write_hour(raw, "2026-11-20T11", [event("3", "2026-11-20T12:00:00+01:00")])
    run_job(spark, raw, ods, "2026-11-19", "2026-11-20")
    unchanged_file = next((ods / "year=2026/month=11/day=20/hour=11").glob("*.parquet"))
    # when hour 10 of the 20th receives a second delivery (a new object, as Firehose writes)
    # and the window is run again
    write_hour(
        raw,
        "2026-11-20T10",
        [event("2", "2026-11-20T11:00:00+01:00"), event("4", "2026-11-20T11:01:00+01:00")],
        name="late-delivery.json.gz",
    )
    summary = run_job(spark, raw, ods, "2026-11-20", "2026-11-20")

    # then only that hour is converted again, from all its files, and nothing is duplicated
    assert summary["hours_converted"] == 1
    assert summary["hours_unchanged"] == 1
    assert unchanged_file.exists()  # hour 11 was not rewritten
    assert [(r["sensor_id"], r["day"], r["hour"]) for r in read_ods(ods)] == [
        ("1", "19", "10"),  # outside the re-run's window: untouched
        ("2", "20", "10"),  # the first delivery's event
        ("2", "20", "10"),  # the second delivery re-sent it: both are raw events (DWD dedupes)
        ("4", "20", "10"),
        ("3", "20", "11"),
    ]


@pytest.mark.spark
def test_unchanged_window_converts_nothing_unless_forced(spark: Any, tmp_path: Path) -> None:
    raw, ods = tmp_path / "raw", tmp_path / "ods"
    write_hour(raw, "2026-11-20T10", [event("2", "2026-11-20T11:00:00+01:00")])
    write_hour(raw, "2026-11-20T11", [event("3", "2026-11-20T12:00:00+01:00")])
    first = run_job(spark, raw, ods, "2026-11-20", "2026-11-20")
    sources = (ods / "year=2026/month=11/day=20/hour=10" / job.SOURCES_FILE).read_text()

    again = run_job(spark, raw, ods, "2026-11-20", "2026-11-20")
    forced = run_job(spark, raw, ods, "2026-11-20", "2026-11-20", "--force", "true")

    assert (first["hours_converted"], first["events"]) == (2, 2)
    assert (again["hours_converted"], again["hours_unchanged"], again["events"]) == (0, 2, 0)
    assert (forced["hours_converted"], forced["events"]) == (2, 2)
    assert sources.strip() == job.sources_fingerprint(
        [(p.name, p.stat().st_size) for p in (raw / "year=2026/month=11/day=20/hour=10").iterdir()]
    )
    assert [r["sensor_id"] for r in read_ods(ods)] == ["2", "3"]


@pytest.mark.spark
def test_an_hour_whose_raw_files_are_gone_is_kept(spark: Any, tmp_path: Path) -> None:
    # given a converted hour whose raw files later expired
    raw, ods = tmp_path / "raw", tmp_path / "ods"
    write_hour(raw, "2026-11-20T10", [event("2", "2026-11-20T11:00:00+01:00")])
    write_hour(raw, "2026-11-20T11", [event("3", "2026-11-20T12:00:00+01:00")])
    run_job(spark, raw, ods, "2026-11-20", "2026-11-20")
    for expired in (raw / "year=2026/month=11/day=20/hour=11").iterdir():
        expired.unlink()

    # when the window is forced to convert again, then the ODS hour is not lost
    summary = run_job(spark, raw, ods, "2026-11-20", "2026-11-20", "--force", "true")

    assert summary["hours_with_raw_data"] == 1
    assert [r["sensor_id"] for r in read_ods(ods)] == ["2", "3"]


def test_fingerprint_depends_on_names_sizes_and_converter_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = [("a.json.gz", 10), ("b.json.gz", 20)]
    fingerprint = job.sources_fingerprint(files)
    assert job.sources_fingerprint(list(reversed(files))) == fingerprint  # order is not content
    assert job.sources_fingerprint([("a.json.gz", 11), ("b.json.gz", 20)]) != fingerprint
    assert job.sources_fingerprint([*files, ("c.json.gz", 1)]) != fingerprint
    monkeypatch.setattr(job, "CONVERTER_VERSION", "next")
    assert job.sources_fingerprint(files) != fingerprint


@pytest.mark.spark
def test_a_window_without_raw_data_fails_before_deleting_anything(
    spark: Any, tmp_path: Path
) -> None:
    raw, ods = tmp_path / "raw", tmp_path / "ods"
    write_hour(raw, "2026-11-20T10", [event("2", "2026-11-20T11:00:00+01:00")])
    run_job(spark, raw, ods, "2026-11-20", "2026-11-20")

    with pytest.raises(job.NoRawDataError, match="no raw arrival hour"):
        run_job(spark, tmp_path / "wrong", ods, "2026-11-20", "2026-11-20")

    assert partitions(ods) == {"year=2026/month=11/day=20/hour=10"}
