"""glue/convert_raw.py: arguments, the declaration and the layouts (pure), and the job on local
Spark for every format and arrival layout: conversion, new-file detection with `_SOURCES`, exact
replacement, the ledger (its entries and records, and a retry that loses nothing), malformed
lines counted per file, declared null values, and a changed column type."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import gzip
import importlib.util
import io
import json
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from etl_lambdas.catalog import default_sql_root
from etl_lambdas.sources import (
    SOURCES_FILE,
    default_job_arguments,
    job_argument,
    load_sources,
    read_document,
    run_job_arguments,
)
from etl_local.event_time import instant as sql_instant

SCRIPT = Path(__file__).resolve().parents[2] / "glue" / "convert_raw.py"
DECLARATION = read_document(default_sql_root() / SOURCES_FILE)


def load_job() -> ModuleType:
    # The script is deployed as a single file, not a package: load it the way Glue runs it.
    spec = importlib.util.spec_from_file_location("glue_convert_raw", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


job = load_job()


def job_argv(
    declaration: dict[str, Any], raw_root: str, ods_root: str, start: str, end: str, run_id: str
) -> list[str]:
    """The argv Glue gives the script: the job's default arguments and a run's, as the
    pipeline writes them (etl_lambdas.sources), so the script is tested on those names."""
    defaults = default_job_arguments(
        declaration, raw_root=raw_root, ods_root=ods_root, time_zone="Europe/Brussels"
    )
    run = run_job_arguments(arrival_start_date=start, arrival_end_date=end, run_id=run_id)
    return [item for pair in {**defaults, **run}.items() for item in pair]


ARGS = job_argv(DECLARATION, "s3://raw/", "s3://curated/ods", "2026-12-31", "2027-01-01", "r1")


def test_arguments_in_glue_convention_ignore_glue_own_arguments() -> None:
    argv = [
        "--JOB_ID", "j_1", "--enable-metrics", "--job-bookmark-option", "job-bookmark-disable",
        *ARGS, "--JOB_NAME=convert", "--TempDir", "s3://tmp/",
    ]  # fmt: skip

    arguments = job.parse_arguments(argv)

    assert (arguments.raw_root, arguments.ods_root) == ("s3://raw/", "s3://curated/ods/")
    assert (arguments.arrival_start_date, arguments.arrival_end_date) == (
        dt.date(2026, 12, 31), dt.date(2027, 1, 1)
    )  # fmt: skip
    assert (arguments.time_zone, arguments.run_id, arguments.force) == (
        "Europe/Brussels", "r1", False
    )  # fmt: skip
    assert [s.name for s in arguments.sources] == ["traffic", "app_activity"]


def replaced(argv: list[str], name: str, value: str | None) -> list[str]:
    argv = list(argv)
    index = argv.index(name)
    if value is None:
        del argv[index : index + 2]
    else:
        argv[index + 1] = value
    return argv


def test_without_a_run_id_the_run_id_is_glues() -> None:
    argv = replaced(ARGS, "--run_id", None)

    arguments = job.parse_arguments([*argv, "--JOB_RUN_ID", "jr_42"])

    assert arguments.run_id == "jr_42"
    assert job.ledger_entry_path(arguments, arguments.sources[0]) == (
        "s3://curated/ods/traffic/_ledger/runs/jr_42.json"
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("--arrival_start_date", "2026-13-01", "--arrival_start_date '2026-13-01' is not a date"),
        ("--arrival_end_date", "20270101", "--arrival_end_date '20270101' is not a date"),
        ("--arrival_end_date", "2026-12-30", "--arrival_end_date 2026-12-30 is before"),
        ("--arrival_end_date", "2028-12-30", "longer than 400 days"),
        ("--raw_root", "", "missing job argument(s): --raw_root"),
        ("--sources", "not base64!", "--sources is not base64 of a JSON declaration"),
        ("--sources", job_argument({"sources": [{"name": "x"}]}), "invalid declaration"),
        ("--run_id", None, "missing job argument(s): --run_id"),
    ],
)
def test_bad_arguments_raise_one_clear_error(name: str, value: str | None, message: str) -> None:
    with pytest.raises(job.JobArgumentError) as error:
        job.parse_arguments(replaced(ARGS, name, value))

    assert message in str(error.value)


def as_terraform_passes_it(declaration: dict[str, Any]) -> dict[str, Any]:
    """The declaration after Terraform's conversion to modules/glue_job's `sources` type:
    every optional attribute present, null when the YAML leaves it out."""
    converted = copy.deepcopy(declaration)
    for source in converted["sources"]:
        source.setdefault("description", "")
        source["format"] = {
            "delimiter": None, "header": None, "null_values": None, **source["format"]
        }  # fmt: skip
        source["columns"] = [{"field": None, **column} for column in source["columns"]]
        source["event_time"] = {"time_zone": None, **source["event_time"]}
    return converted


@pytest.mark.parametrize("shape", ["yaml", "terraform"])
def test_the_job_reads_the_declaration_as_the_loader_does(shape: str) -> None:
    declared = load_sources(default_sql_root() / SOURCES_FILE)
    document = DECLARATION if shape == "yaml" else as_terraform_passes_it(DECLARATION)

    specs = job.decode_sources(job_argument(document))

    for spec, source in zip(specs, declared, strict=True):
        assert (spec.name, spec.raw_prefix, spec.arrival, spec.partition_keys) == (
            source.name, source.raw_prefix, source.arrival, source.partition_keys
        )  # fmt: skip
        assert (spec.format, spec.delimiter, spec.header, spec.null_values) == (
            source.format.type, source.format.delimiter, source.format.header,
            source.format.null_values,
        )  # fmt: skip
        assert [(c.name, c.type, c.field) for c in spec.columns] == [
            (c.name, c.type, c.field) for c in source.columns
        ]
        assert (spec.event_column, spec.event_format, spec.event_time_zone) == (
            source.event_time.column, source.event_time.format, source.event_time.time_zone
        )  # fmt: skip


def test_arrival_partitions_hourly_across_the_year_end_and_daily() -> None:
    hourly = job.arrival_partitions("hourly", dt.date(2026, 12, 31), dt.date(2027, 1, 1))
    daily = job.arrival_partitions("daily", dt.date(2026, 12, 31), dt.date(2027, 1, 1))

    assert len(hourly) == 48
    assert (hourly[0], hourly[23], hourly[24]) == (
        ("2026", "12", "31", "00"), ("2026", "12", "31", "23"), ("2027", "01", "01", "00")
    )  # fmt: skip
    assert daily == [("2026", "12", "31"), ("2027", "01", "01")]
    assert job.partition_path("s3://b/raw/app/", ("year", "month", "day"), daily[1]) == (
        "s3://b/raw/app/year=2027/month=01/day=01"
    )


def test_the_sources_record_lists_the_raw_files_and_is_trusted_only_from_this_converter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = [job.RawFile("b.json.gz", 20, "s3://x/b"), job.RawFile("a.json.gz", 10, "s3://x/a")]
    source = job.decode_sources(ARGS[ARGS.index("--sources") + 1])[0]
    facts = job.PartitionFacts(["b.json.gz"], {"2026-11-20": 3}, 1, 2, {"b.json.gz": 2}, True)
    record = job.sources_record(files, source, "run2", facts)

    assert json.loads(record) == {
        "converter": job.CONVERTER_VERSION,
        "columns": [{"name": n, "type": t} for n, t in job.declared_columns(source)],
        "run_id": "run2",
        "files": [{"name": "a.json.gz", "size": 10}, {"name": "b.json.gz", "size": 20}],
        "new_files": ["b.json.gz"], "event_days": {"2026-11-20": 3},
        "unparsable_event_times": 1, "malformed_lines": 2, "malformed_files": {"b.json.gz": 2},
        "has_rows": True,
    }  # fmt: skip
    read = job.read_record(record)
    assert read is not None and read.files == {("a.json.gz", 10), ("b.json.gz", 20)}
    assert read.facts == facts
    # what run2 found new is new again to a retry of run2, not to another run
    assert read.baseline("run2") == {("a.json.gz", 10)}
    assert read.baseline("run3") == read.files
    assert job.read_record(None) is None
    assert job.read_record('{"converter": "2", "files": []}\n') is None  # the previous format
    monkeypatch.setattr(job, "CONVERTER_VERSION", "next")
    assert job.read_record(record) is None


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
        .getOrCreate()
    )
    yield session
    session.stop()


def traffic(sensor: str, timestamp: Any, speed: Any = 87, **fields: Any) -> str:
    record = {
        "uniqueId": sensor, "recordTimestamp": timestamp, "currentSpeed": speed,
        "previousSpeed": 90, "bezettingsgraad": 12, "trafficIntensityClass2": 10,
        "trafficIntensityClass3": 1, "trafficIntensityClass4": 0, "trafficIntensityClass5": 2,
        "segment": "E40 Gent-Brussel km 12.3", **fields,
    }  # fmt: skip
    return json.dumps(record)


class Lake:
    """A raw bucket and an ODS root in a temporary directory."""

    def __init__(self, root: Path, declaration: dict[str, Any] = DECLARATION) -> None:
        self.raw, self.ods = root / "raw", root / "ods"
        self.declaration = declaration

    def partition(self, prefix: str, arrival: str) -> Path:
        """'YYYY-MM-DDTHH' (hourly) or 'YYYY-MM-DD' (daily) under a raw prefix."""
        hourly = "T" in arrival
        at = dt.datetime.strptime(arrival, "%Y-%m-%dT%H" if hourly else "%Y-%m-%d")
        folder = f"year={at:%Y}/month={at:%m}/day={at:%d}" + (f"/hour={at:%H}" if hourly else "")
        directory = self.raw / prefix / folder
        directory.mkdir(parents=True, exist_ok=True)
        return directory

    def put(self, prefix: str, arrival: str, name: str, body: bytes) -> Path:
        path = self.partition(prefix, arrival) / name
        path.write_bytes(body)
        return path

    def put_lines(self, arrival: str, lines: list[str], name: str = "part-0.json.gz") -> None:
        self.put("raw/traffic", arrival, name, gzip.compress(("\n".join(lines) + "\n").encode()))

    def run(self, start: str, end: str, *extra: str, run_id: str = "run1") -> dict[str, Any]:
        """The ledger entries the run wrote, by source (what it returned is what it wrote)."""
        arguments = self.arguments(start, end, *extra, run_id=run_id)
        entries: dict[str, Any] = job.run(spark_session(), arguments)
        assert entries == self.entries(run_id)
        return entries

    def arguments(self, start: str, end: str, *extra: str, run_id: str = "run1") -> Any:
        argv = job_argv(self.declaration, str(self.raw), str(self.ods), start, end, run_id)
        return job.parse_arguments([*argv, "--JOB_NAME", "test", *extra])

    def entries(self, run_id: str) -> dict[str, Any]:
        """The ledger entries of a run in the lake, by source."""
        return {
            path.parents[2].name: json.loads(path.read_text())
            for path in sorted(self.ods.glob(f"*/_ledger/runs/{run_id}.json"))
        }

    def records(self, source: str) -> dict[str, Any]:
        """Every partition's `_SOURCES`, by partition folder."""
        root = self.ods / source
        return {
            str(path.parent.relative_to(root)): json.loads(path.read_text())
            for path in sorted(root.rglob(job.SOURCES_FILE))
        }

    def rows(self, source: str) -> list[dict[str, Any]]:
        import pyarrow as pa
        import pyarrow.dataset as ds

        root = self.ods / source
        keys = [k for k in ("year", "month", "day", "hour") if list(root.rglob(f"{k}=*"))]
        # Partition values are strings, as the crawler declares them: '05', not 5.
        hive = ds.partitioning(pa.schema([(k, pa.string()) for k in keys]), flavor="hive")
        table = ds.dataset(root, format="parquet", partitioning=hive).to_table()
        # in column order: the first column (an id) sorts the rows
        return sorted(table.to_pylist(), key=lambda r: tuple(str(v) for v in r.values()))

    def partitions(self, source: str) -> set[str]:
        root = self.ods / source
        return {str(p.parent.relative_to(root)) for p in root.rglob("*.parquet")}


_SPARK: list[Any] = []


def spark_session() -> Any:
    return _SPARK[0]


@pytest.fixture
def lake(spark: Any, tmp_path: Path) -> Lake:
    _SPARK[:] = [spark]
    return Lake(tmp_path)


def only(declaration: dict[str, Any], *names: str) -> dict[str, Any]:
    chosen = copy.deepcopy(declaration)
    chosen["sources"] = [s for s in chosen["sources"] if s["name"] in names]
    return chosen


@pytest.mark.spark
def test_json_lines_by_arrival_hour_become_typed_parquet_and_a_ledger_entry(lake: Lake) -> None:
    lake.put_lines("2026-12-31T23", [traffic("1065", "2027-01-01T00:03:00+01:00")])
    lake.put_lines(
        "2027-01-01T05",
        [
            traffic("1066", "2027-01-01T06:00:00+01:00", speed=252),  # converted, not cleaned
            "{not json",
            '{"uniqueId": "1067", "currentSpeed": "fast"}',  # wrong type
            "[1, 2]",
            "",  # a blank line is no event, and not malformed either
            traffic("1067", "2027-01-01T06:01:00Z", bezettingsgraad=None),
        ],
    )
    lake.put_lines("2027-01-02T00", [traffic("1068", "2027-01-02T01:00:00+01:00")])  # outside

    entries = lake.run("2026-12-31", "2027-01-01")

    assert lake.partitions("traffic") == {
        "year=2026/month=12/day=31/hour=23",
        "year=2027/month=01/day=01/hour=05",
    }
    assert not list(lake.ods.rglob("_SUCCESS"))
    ods = str(lake.ods / "traffic")
    new = {"new_files": ["part-0.json.gz"], "unparsable_event_times": 0, "has_rows": True}
    assert entries["traffic"] == {
        "ledger": 1,
        "source": "traffic",
        "run_id": "run1",
        "ods_table": "traffic",
        "partition_keys": ["year", "month", "day", "hour"],
        "columns": [
            {"name": name, "type": kind} for name, kind in [
                ("sensor_id", "string"), ("record_timestamp", "string"), ("current_speed", "int"),
                ("previous_speed", "int"), ("occupancy", "int"), ("intensity_class2", "int"),
                ("intensity_class3", "int"), ("intensity_class4", "int"),
                ("intensity_class5", "int"), ("segment", "string"),
                ("record_timestamp_utc", "timestamp"),
            ]
        ],
        # all files are new; local (Brussels) days of 2026-12-31T23:03Z, 05:00Z and 06:01Z
        "partitions": [
            {"values": ["2026", "12", "31", "23"],
             "location": f"{ods}/year=2026/month=12/day=31/hour=23/",
             "event_days": {"2027-01-01": 1}, "malformed_lines": 0, "malformed_files": {}, **new},
            {"values": ["2027", "01", "01", "05"],
             "location": f"{ods}/year=2027/month=01/day=01/hour=05/",
             "event_days": {"2027-01-01": 2}, "malformed_lines": 3,
             "malformed_files": {"part-0.json.gz": 3}, **new},
        ],
        "event_days": {"2027-01-01": 3},
        "new_events": 3,
        "unparsable_event_times": 0,
        "malformed_lines": 3,
    }  # fmt: skip
    # each partition's record holds the same facts, with its files
    records = lake.records("traffic")
    assert records["year=2027/month=01/day=01/hour=05"]["malformed_files"] == {"part-0.json.gz": 3}
    assert [f["name"] for f in records["year=2026/month=12/day=31/hour=23"]["files"]] == [
        "part-0.json.gz"
    ]
    schema = spark_session().read.parquet(ods).schema
    assert [(f.name, f.dataType.simpleString()) for f in schema.fields][:11] == [
        (c["name"], c["type"]) for c in entries["traffic"]["columns"]
    ]
    first, *_ = lake.rows("traffic")
    assert first == {
        "sensor_id": "1065", "record_timestamp": "2027-01-01T00:03:00+01:00",
        "current_speed": 87, "previous_speed": 90, "occupancy": 12, "intensity_class2": 10,
        "intensity_class3": 1, "intensity_class4": 0, "intensity_class5": 2,
        "segment": "E40 Gent-Brussel km 12.3",
        # the typed event time: the UTC instant (a naive timestamp, the session is in UTC)
        "record_timestamp_utc": dt.datetime(2026, 12, 31, 23, 3),
        "year": "2026", "month": "12", "day": "31", "hour": "23",
    }  # fmt: skip
    assert {(r["sensor_id"], r["current_speed"], r["occupancy"]) for r in lake.rows("traffic")} >= {
        ("1066", 252, 12), ("1067", 87, None)
    }  # fmt: skip
    # the other declared source had no raw data: it wrote nothing, not even an entry
    assert set(entries) == {"traffic"}
    assert not (lake.ods / "app_activity").exists()


def activity_csv(rows: list[list[str]], header: list[str], delimiter: str = ",") -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return gzip.compress(text.getvalue().encode())


def parquet_file(table: Any) -> bytes:
    """A raw Parquet object's body: the pyarrow table, as a file."""
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


@pytest.mark.spark
def test_gzipped_csv_by_arrival_day_is_read_by_header_names(lake: Lake) -> None:
    # the file's columns in another order than declared: fields are found by name
    header = ["event_time", "user_id", "country", "action", "device", "app_version"]
    body = activity_csv(
        [
            ["2026-11-20T10:00:00+01:00", "u1", "BE", "open", "ios", "5.2.0"],
            ["2026-11-20T23:30:00-05:00", "u2", "US", "purchase", "android", "5.3.0"],
            ["2026-11-20T11:00:00+01:00", "u3"],  # too few fields: malformed
            ["", "u4", "", "tap", "", ""],  # empty values are NULL: well-formed, time unparsable
        ],
        header,
    )
    lake.put("raw/app_activity", "2026-11-20", "batch-1.csv.gz", body)
    lake.put("raw/app_activity", "2026-11-20", "a-empty.csv", b"")  # listed first, no header
    lake.put("raw/app_activity", "2026-11-21", "batch-2.csv.gz", activity_csv([], header))

    report = lake.run("2026-11-20", "2026-11-21")["app_activity"]

    assert lake.partitions("app_activity") == {"year=2026/month=11/day=20"}
    assert [p["has_rows"] for p in report["partitions"]] == [True, False]
    assert [p["values"] for p in report["partitions"]] == [
        ["2026", "11", "20"],
        ["2026", "11", "21"],
    ]
    assert [c["name"] for c in report["columns"]] == [
        "user_id", "action", "event_time", "device", "app_version", "country", "event_time_utc",
    ]  # fmt: skip
    # the typed event time: the UTC instant of each offset; NULL where unparsable
    assert [(r["user_id"], r["event_time_utc"]) for r in lake.rows("app_activity")] == [
        ("u1", dt.datetime(2026, 11, 20, 9, 0)),
        ("u2", dt.datetime(2026, 11, 21, 4, 30)),
        ("u4", None),
    ]
    # 2026-11-20T23:30-05:00 is 04:30 UTC on the 21st, 05:30 in Brussels
    assert report["event_days"] == {"2026-11-20": 1, "2026-11-21": 1}
    assert (report["new_events"], report["malformed_lines"], report["unparsable_event_times"]) == (
        3, 1, 1
    )  # fmt: skip
    assert report["partitions"][0]["malformed_files"] == {"batch-1.csv.gz": 1}
    assert [(r["user_id"], r["action"], r["country"], r["day"]) for r in lake.rows("app_activity")][
        :2
    ] == [("u1", "open", "BE", "20"), ("u2", "purchase", "US", "20")]


@pytest.mark.spark
def test_csv_files_before_and_after_a_new_column_are_converted_together(lake: Lake) -> None:
    # The app starts writing a column the declaration now has: the window (here one partition)
    # holds files with the old header and files with the new one, in another order too.
    declaration = only(DECLARATION, "app_activity")
    declaration["sources"][0]["columns"].append({"name": "os_version", "type": "string"})
    lake.declaration = declaration
    old = ["user_id", "action", "event_time", "device", "app_version", "country"]
    new = ["os_version", *old]
    lake.put(
        "raw/app_activity",
        "2026-11-20",
        "a-old.csv.gz",
        activity_csv([["u1", "open", "2026-11-20T10:00:00+01:00", "ios", "5.2.0", "BE"]], old),
    )
    lake.put(
        "raw/app_activity",
        "2026-11-20",
        "b-new.csv.gz",
        activity_csv(
            [["17.1", "u2", "tap", "2026-11-20T11:00:00+01:00", "ios", "5.3.0", "NL"]], new
        ),
    )
    lake.put("raw/app_activity", "2026-11-20", "c-old.csv", activity_csv([], old)[:0])  # empty
    lake.put(
        "raw/app_activity",
        "2026-11-20",
        "d-old.csv.gz",
        activity_csv([["u3", "view", "2026-11-20T12:00:00+01:00", "web", "5.2.0", "FR"]], old),
    )

    report = lake.run("2026-11-20", "2026-11-20")["app_activity"]

    assert (report["new_events"], report["malformed_lines"]) == (3, 0)
    assert report["columns"][-2:] == [
        {"name": "os_version", "type": "string"},
        {"name": "event_time_utc", "type": "timestamp"},
    ]
    assert [(r["user_id"], r["country"], r["os_version"]) for r in lake.rows("app_activity")] == [
        ("u1", "BE", None), ("u2", "NL", "17.1"), ("u3", "FR", None)
    ]  # fmt: skip


@pytest.mark.spark
def test_a_column_declared_after_the_files_were_converted_is_null_in_their_rows(
    lake: Lake,
) -> None:
    # given a partition converted before the column was declared
    lake.declaration = only(DECLARATION, "app_activity")
    old = ["user_id", "action", "event_time", "device", "app_version", "country"]
    lake.put(
        "raw/app_activity",
        "2026-11-21",
        "a-old.csv.gz",
        activity_csv([["u1", "open", "2026-11-21T10:00:00+01:00", "ios", "5.2.0", "BE"]], old),
    )
    lake.run("2026-11-21", "2026-11-21")
    # when the column is declared and the first file that has it arrives in that partition
    declared = copy.deepcopy(lake.declaration)
    declared["sources"][0]["columns"].append({"name": "os_version", "type": "string"})
    lake.declaration = declared
    lake.put(
        "raw/app_activity",
        "2026-11-21",
        "b-new.csv.gz",
        activity_csv(
            [["u2", "tap", "2026-11-21T11:00:00+01:00", "ios", "5.3.0", "NL", "17.1"]],
            [*old, "os_version"],
        ),
    )
    report = lake.run("2026-11-21", "2026-11-21", run_id="run2")["app_activity"]

    # then the partition is converted again with the column, NULL for the older file's rows,
    # and only the new file's events count as new
    assert (report["new_events"], report["event_days"]) == (1, {"2026-11-21": 1})
    assert [(r["user_id"], r["os_version"]) for r in lake.rows("app_activity")] == [
        ("u1", None), ("u2", "17.1")
    ]  # fmt: skip


def custom(declaration_source: dict[str, Any]) -> dict[str, Any]:
    return {"sources": [declaration_source]}


@pytest.mark.spark
def test_csv_without_header_maps_by_position_and_bad_values_are_malformed(lake: Lake) -> None:
    lake.declaration = custom(
        {
            "name": "meters", "raw_prefix": "raw/meters/", "arrival": "hourly",
            "format": {"type": "csv", "delimiter": ";", "header": False},
            "columns": [
                {"name": "meter", "type": "string"}, {"name": "reading", "type": "bigint"},
                {"name": "price", "type": "decimal(6,2)"}, {"name": "at", "type": "bigint"},
            ],
            "event_time": {"column": "at", "format": "epoch_seconds"},
        }
    )  # fmt: skip
    lines = [
        "m1;1200;0.35;1795734000",  # 2026-11-26T23:00:00Z = 00:00 on the 27th in Brussels
        "m2;lots;0.35;1795734000",  # not a bigint: malformed
        "m3;7;1234567.891;1795734000",  # does not fit decimal(6,2): malformed
        "m4;8;;1795733999",  # empty price is NULL; 22:59:59Z is the 26th locally
    ]
    lake.put("raw/meters", "2026-11-26T23", "m.csv", ("\n".join(lines) + "\n").encode())

    report = lake.run("2026-11-26", "2026-11-26")["meters"]

    assert [(r["meter"], r["reading"], r["price"]) for r in lake.rows("meters")] == [
        ("m1", 1200, Decimal("0.35")),
        ("m4", 8, None),
    ]
    assert report["columns"][1:3] == [
        {"name": "reading", "type": "bigint"}, {"name": "price", "type": "decimal(6,2)"}
    ]  # fmt: skip
    assert (report["new_events"], report["malformed_lines"]) == (2, 2)
    assert report["partitions"][0]["malformed_files"] == {"m.csv": 2}
    assert report["event_days"] == {"2026-11-26": 1, "2026-11-27": 1}


@pytest.mark.spark
def test_parquet_raw_files_are_converted_to_the_declared_types(lake: Lake) -> None:
    import pyarrow as pa

    lake.declaration = custom(
        {
            "name": "orders", "raw_prefix": "exports/orders/", "arrival": "daily",
            "format": {"type": "parquet"},
            "columns": [
                {"name": "order_id", "type": "string", "field": "OrderId"},
                {"name": "quantity", "type": "int", "field": "Qty"},
                {"name": "placed_ms", "type": "bigint", "field": "PlacedAt"},
            ],
            "event_time": {"column": "placed_ms", "format": "epoch_millis"},
        }
    )  # fmt: skip
    table = pa.table(
        {
            "OrderId": ["o1", "o2", "o3"],
            "Qty": pa.array([2, 3_000_000_000, None], pa.int64()),  # 3e9 does not fit an int
            "PlacedAt": pa.array([1795686400000, 1795686400000, None], pa.int64()),
            "Unused": ["x", "y", "z"],
        }
    )
    lake.put("exports/orders", "2026-11-26", "orders.parquet", parquet_file(table))

    report = lake.run("2026-11-26", "2026-11-26")["orders"]

    assert [(r["order_id"], r["quantity"]) for r in lake.rows("orders")] == [
        ("o1", 2), ("o3", None)
    ]  # fmt: skip
    assert report["columns"] == [
        {"name": "order_id", "type": "string"}, {"name": "quantity", "type": "int"},
        {"name": "placed_ms", "type": "bigint"}, {"name": "placed_ms_utc", "type": "timestamp"},
    ]  # fmt: skip
    # epoch times are instants: typed as they are
    assert [r["placed_ms_utc"] for r in lake.rows("orders")] == [
        dt.datetime(2026, 11, 26, 9, 46, 40), None
    ]  # fmt: skip
    # 1795686400000 ms = 2026-11-26T09:46:40Z; o3 has no time
    assert (report["event_days"], report["unparsable_event_times"]) == ({"2026-11-26": 1}, 1)


@pytest.mark.spark
@pytest.mark.parametrize("raw_format", ["json", "parquet"])
def test_a_raw_field_named_like_a_partition_key_keeps_its_own_value(
    lake: Lake, raw_format: str
) -> None:
    import pyarrow as pa

    lake.declaration = custom(
        {
            "name": "readings", "raw_prefix": "exports/readings/", "arrival": "hourly",
            "format": {"type": raw_format},
            "columns": [
                {"name": "reading_id", "type": "string", "field": "id"},
                {"name": "reading_hour", "type": "int", "field": "hour"},
                {"name": "taken_s", "type": "bigint", "field": "taken"},
            ],
            "event_time": {"column": "taken_s", "format": "epoch_seconds"},
        }
    )  # fmt: skip
    # the reading was taken at 07:00Z and arrived in the 05 hour's partition (clock skew)
    record = {"id": "r1", "hour": 7, "taken": 1795676400}
    if raw_format == "json":
        body = (json.dumps(record) + "\n").encode()
    else:
        body = parquet_file(pa.Table.from_pylist([record]))
    lake.put("exports/readings", "2026-11-26T05", f"part-0.{raw_format}", body)

    lake.run("2026-11-26", "2026-11-26")

    assert lake.rows("readings") == [
        {"reading_id": "r1", "reading_hour": 7, "taken_s": 1795676400,
         "taken_s_utc": dt.datetime(2026, 11, 26, 7, 0),
         "year": "2026", "month": "11", "day": "26", "hour": "05"},
    ]  # fmt: skip


@pytest.mark.spark
def test_a_rerun_converts_the_partitions_with_new_files_and_counts_only_those_files_events(
    lake: Lake,
) -> None:
    # given a converted window
    lake.declaration = only(DECLARATION, "traffic")
    lake.put_lines("2026-11-19T10", [traffic("1", "2026-11-19T11:00:00+01:00")])
    lake.put_lines("2026-11-20T10", [traffic("2", "2026-11-20T11:00:00+01:00")])
    lake.put_lines("2026-11-20T11", [traffic("3", "2026-11-20T12:00:00+01:00")])
    lake.run("2026-11-19", "2026-11-20")
    unchanged_file = next(
        (lake.ods / "traffic/year=2026/month=11/day=20/hour=11").glob("*.parquet")
    )
    # when hour 10 of the 20th receives a late delivery (a new object, as Firehose writes),
    # with an event of the 19th, and the window is run again
    lake.put_lines(
        "2026-11-20T10",
        [traffic("2", "2026-11-20T11:00:00+01:00"), traffic("4", "2026-11-19T23:59:00+01:00")],
        name="late-delivery.json.gz",
    )
    report = lake.run("2026-11-20", "2026-11-20", run_id="run2")["traffic"]

    # then only that hour is converted again, from all its files, and nothing is duplicated
    assert [p["values"] for p in report["partitions"]] == [["2026", "11", "20", "10"]]
    assert unchanged_file.exists()  # hour 11 was not rewritten
    assert [(r["sensor_id"], r["day"], r["hour"]) for r in lake.rows("traffic")] == [
        ("1", "19", "10"),  # outside the re-run's window: untouched
        ("2", "20", "10"),  # the first delivery's event
        ("2", "20", "10"),  # re-sent by the late delivery: both are raw events (DWD dedupes)
        ("3", "20", "11"),
        ("4", "20", "10"),
    ]
    # the events of the hour's NEW file only, by local day: the restatement's input
    assert (report["new_events"], report["event_days"]) == (2, {"2026-11-19": 1, "2026-11-20": 1})
    assert report["partitions"][0]["new_files"] == ["late-delivery.json.gz"]
    record = json.loads(
        (lake.ods / "traffic/year=2026/month=11/day=20/hour=10" / job.SOURCES_FILE).read_text()
    )
    assert [f["name"] for f in record["files"]] == ["late-delivery.json.gz", "part-0.json.gz"]


@pytest.mark.spark
def test_an_unchanged_window_converts_nothing_and_writes_no_entry_and_force_converts_again(
    lake: Lake,
) -> None:
    lake.declaration = only(DECLARATION, "traffic")
    lake.put_lines("2026-11-20T10", [traffic("2", "2026-11-20T11:00:00+01:00")])
    lake.put_lines("2026-11-20T11", [traffic("3", "2026-11-20T12:00:00+01:00")])
    first = lake.run("2026-11-20", "2026-11-20")["traffic"]

    again = lake.run("2026-11-20", "2026-11-20", run_id="run2")
    forced = lake.run("2026-11-20", "2026-11-20", "--force", "true", run_id="run3")["traffic"]

    assert (len(first["partitions"]), first["new_events"], first["event_days"]) == (
        2, 2, {"2026-11-20": 2}
    )  # fmt: skip
    assert again == {}
    # forced: rewritten, but the same files with the same converter are no new data
    assert (len(forced["partitions"]), forced["new_events"], forced["event_days"]) == (2, 0, {})
    assert [r["sensor_id"] for r in lake.rows("traffic")] == ["2", "3"]


@pytest.mark.spark
def test_a_partition_recorded_by_an_older_converter_is_converted_and_all_its_files_are_new(
    lake: Lake,
) -> None:
    lake.declaration = only(DECLARATION, "traffic")
    lake.put_lines("2026-11-20T10", [traffic("2", "2026-11-20T11:00:00+01:00")])
    lake.run("2026-11-20", "2026-11-20")
    record = lake.ods / "traffic/year=2026/month=11/day=20/hour=10" / job.SOURCES_FILE
    record.write_text("5d41402abc4b2a76b9719d911017c592\n")  # the previous converter's hash
    (record.parent / f".{job.SOURCES_FILE}.crc").unlink()  # local Hadoop's checksum of it

    report = lake.run("2026-11-20", "2026-11-20", run_id="run2")["traffic"]

    assert (len(report["partitions"]), report["event_days"]) == (1, {"2026-11-20": 1})


@pytest.mark.spark
def test_event_days_follow_the_pipelines_zone_across_the_dst_change(lake: Lake) -> None:
    # Brussels leaves CEST (UTC+2) for CET (UTC+1) at 2026-10-25 01:00 UTC
    lake.declaration = only(DECLARATION, "traffic")
    lake.put_lines(
        "2026-10-25T05",
        [
            traffic("1", "2026-10-24T21:59:00Z"),  # 23:59 CEST: the 24th
            traffic("2", "2026-10-24T22:00:00Z"),  # 00:00 CEST: the 25th
            traffic("3", "2026-10-25T02:30:00+02:00"),  # the first 02:30: the 25th
            traffic("4", "2026-10-25T02:30:00+01:00"),  # the second 02:30: the 25th
            traffic("5", "2026-10-25T22:59:00Z"),  # 23:59 CET: the 25th
            traffic("6", "2026-10-25T23:00:00Z"),  # 00:00 CET: the 26th
            traffic("7", "2026-10-25 23:30:00"),  # no offset: Brussels time (declared zone)
            traffic("8", "2026-10-25T07:00:00.123456+0100"),  # the 25th
            traffic("9", "yesterday"),  # well-formed event, time unparsable
            traffic("10", "2026-10-25T25:00:00Z"),  # not a time
            traffic("11", None),  # no time
            traffic("12", "2026-02-10T12:00:00Z"),  # months late: counted by the second pass
        ],
    )

    report = lake.run("2026-10-25", "2026-10-25")["traffic"]

    assert report["event_days"] == {
        "2026-02-10": 1, "2026-10-24": 1, "2026-10-25": 6, "2026-10-26": 1,
    }  # fmt: skip
    assert (report["new_events"], report["unparsable_event_times"]) == (12, 3)
    # the typed event time beside each raw one: its UTC instant (a time without offset in the
    # declared zone), NULL where unparsable; the SQL tests' fixtures derive it the same way
    typed = {r["sensor_id"]: r["record_timestamp_utc"] for r in lake.rows("traffic")}
    assert typed == {
        "1": dt.datetime(2026, 10, 24, 21, 59), "2": dt.datetime(2026, 10, 24, 22, 0),
        "3": dt.datetime(2026, 10, 25, 0, 30), "4": dt.datetime(2026, 10, 25, 1, 30),
        "5": dt.datetime(2026, 10, 25, 22, 59), "6": dt.datetime(2026, 10, 25, 23, 0),
        "7": dt.datetime(2026, 10, 25, 22, 30), "8": dt.datetime(2026, 10, 25, 6, 0, 0, 123456),
        "9": None, "10": None, "11": None, "12": dt.datetime(2026, 2, 10, 12, 0),
    }  # fmt: skip
    for row in lake.rows("traffic"):
        assert sql_instant(row["record_timestamp"], "Europe/Brussels") == typed[row["sensor_id"]]


@pytest.mark.spark
def test_an_hour_of_malformed_lines_only_has_no_ods_partition_and_no_event_days(
    lake: Lake,
) -> None:
    lake.declaration = only(DECLARATION, "traffic")
    lake.put_lines("2026-11-20T10", ["{not json", "[1, 2]"])
    lake.put_lines("2026-11-20T11", [traffic("3", "2026-11-20T12:00:00+01:00")])

    report = lake.run("2026-11-20", "2026-11-20")["traffic"]

    assert lake.partitions("traffic") == {"year=2026/month=11/day=20/hour=11"}
    assert (report["new_events"], report["malformed_lines"], report["event_days"]) == (
        1, 2, {"2026-11-20": 1}
    )  # fmt: skip
    # both hours were converted (and are recorded); the first has no rows to register
    assert [p["has_rows"] for p in report["partitions"]] == [False, True]


@pytest.mark.spark
def test_a_partition_whose_raw_files_are_gone_is_kept(lake: Lake) -> None:
    # given a converted hour whose raw files later expired
    lake.declaration = only(DECLARATION, "traffic")
    lake.put_lines("2026-11-20T10", [traffic("2", "2026-11-20T11:00:00+01:00")])
    lake.put_lines("2026-11-20T11", [traffic("3", "2026-11-20T12:00:00+01:00")])
    lake.run("2026-11-20", "2026-11-20")
    for expired in (lake.raw / "raw/traffic/year=2026/month=11/day=20/hour=11").iterdir():
        expired.unlink()

    # when the window is forced to convert again, then the ODS hour is not lost
    report = lake.run("2026-11-20", "2026-11-20", "--force", "true", run_id="run2")["traffic"]

    assert [p["values"][3] for p in report["partitions"]] == ["10"]
    assert [r["sensor_id"] for r in lake.rows("traffic")] == ["2", "3"]


@pytest.mark.spark
def test_a_window_without_any_raw_data_converts_and_writes_nothing(lake: Lake) -> None:
    # A source with no data yet (or none in the window) is no failure: the run says so.
    lake.put_lines("2026-11-20T10", [traffic("2", "2026-11-20T11:00:00+01:00")])
    lake.run("2026-11-20", "2026-11-20")

    assert lake.run("2026-11-22", "2026-11-23", run_id="run2") == {}

    assert lake.partitions("traffic") == {"year=2026/month=11/day=20/hour=10"}
    assert lake.entries("run2") == {}


@pytest.mark.spark
def test_an_unknown_time_zone_fails_before_anything_is_read(lake: Lake) -> None:
    lake.put_lines("2026-11-20T10", [traffic("2", "2026-11-20T11:00:00+01:00")])
    arguments = job.parse_arguments(replaced(ARGS, "--time_zone", "Europe/Gent"))

    with pytest.raises(job.JobArgumentError, match="--time_zone 'Europe/Gent' is not a time zone"):
        job.run(spark_session(), arguments)


# --- the ledger under failure: a retry of the same run converges ----------------------------


def crash_before_writing(monkeypatch: pytest.MonkeyPatch, where: str, nth: int = 1) -> list[str]:
    """The job dies as it is about to write the `nth` object whose path contains `where`
    (once: the retry writes it). Returns the crashed path, once it has."""
    original = job.HadoopFileSystem.write_text
    seen: list[str] = []
    crashed: list[str] = []

    def write_text(filesystem: Any, path: str, text: str) -> None:
        if where in path and not crashed:
            seen.append(path)
            if len(seen) == nth:
                crashed.append(path)
                raise RuntimeError(f"injected crash before writing {path}")
        original(filesystem, path, text)

    monkeypatch.setattr(job.HadoopFileSystem, "write_text", write_text)
    return crashed


def two_sources_of_new_data(lake: Lake) -> None:
    lake.put_lines("2026-11-20T10", [traffic("1", "2026-11-20T11:00:00+01:00")])
    lake.put_lines(
        "2026-11-20T11",
        [traffic("2", "2026-11-20T12:00:00+01:00"), traffic("3", "2026-11-19T12:00:00+01:00")],
    )
    lake.put_lines("2026-11-21T00", [traffic("4", "2026-11-21T01:30:00+01:00")])
    header = ["user_id", "action", "event_time", "device", "app_version", "country"]
    rows = [["u1", "open", "2026-11-20T10:00:00+01:00", "ios", "5.2.0", "BE"]]
    lake.put("raw/app_activity", "2026-11-20", "batch-1.csv.gz", activity_csv(rows, header))


def lake_state(lake: Lake) -> dict[str, Any]:
    """What a run leaves durably: the rows, the records and the ledger entries (paths made
    relative, so that two lakes compare)."""
    text = json.dumps(
        {
            "rows": {source: lake.rows(source) for source in ("traffic", "app_activity")},
            "records": {source: lake.records(source) for source in ("traffic", "app_activity")},
            "entries": lake.entries("run1"),
        },
        sort_keys=True,
        default=str,
    )
    return dict(json.loads(text.replace(str(lake.ods), "<ods>")))


@pytest.mark.spark
@pytest.mark.parametrize(
    ("where", "nth"),
    [
        ("traffic/_ledger", 1),  # after the source's ODS write, before its entry
        (f"traffic/year=2026/month=11/day=20/hour=10/{job.SOURCES_FILE}", 1),  # after its entry
        (f"traffic/year=2026/month=11/day=20/hour=11/{job.SOURCES_FILE}", 1),  # between records
        ("app_activity/_ledger", 1),  # after the first source, before the second one's entry
    ],
)
def test_a_retry_after_a_crash_ends_as_a_clean_run_with_every_partition_in_the_ledger(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, nth: int
) -> None:
    _SPARK[:] = [spark]
    clean = Lake(tmp_path / "clean")
    two_sources_of_new_data(clean)
    clean.run("2026-11-20", "2026-11-21")
    # given an attempt of the run that dies between two of its writes
    lake = Lake(tmp_path / "faulted")
    two_sources_of_new_data(lake)
    crashed = crash_before_writing(monkeypatch, where, nth)
    with pytest.raises(RuntimeError, match="injected crash"):
        job.run(spark_session(), lake.arguments("2026-11-20", "2026-11-21"))
    assert crashed

    # when the state machine retries the job with the same run id
    entries = lake.run("2026-11-20", "2026-11-21")

    # then the lake holds what a clean run leaves: every converted partition in its source's
    # entry with its event days, every record, every row, nothing twice
    assert lake_state(lake) == lake_state(clean)
    assert [p["values"][3] for p in entries["traffic"]["partitions"]] == ["10", "11", "00"]
    assert entries["traffic"]["event_days"] == {"2026-11-19": 1, "2026-11-20": 2, "2026-11-21": 1}


@pytest.mark.spark
def test_a_retry_counts_files_that_arrived_between_the_attempts_with_the_first_attempts(
    lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake.declaration = only(DECLARATION, "traffic")
    lake.put_lines("2026-11-20T10", [traffic("1", "2026-11-20T11:00:00+01:00")])
    lake.run("2026-11-20", "2026-11-20", run_id="run0")  # an earlier run's file
    lake.put_lines(
        "2026-11-20T10", [traffic("2", "2026-11-19T11:00:00+01:00")], name="part-1.json.gz"
    )
    lake.run("2026-11-20", "2026-11-20")  # run1's first attempt: recorded, then it dies later
    lake.put_lines(
        "2026-11-20T10", [traffic("3", "2026-11-18T11:00:00+01:00")], name="part-2.json.gz"
    )

    entry = lake.run("2026-11-20", "2026-11-20")["traffic"]  # the retry

    # both files new to run1 are counted, not the earlier run's
    assert entry["partitions"][0]["new_files"] == ["part-1.json.gz", "part-2.json.gz"]
    assert entry["event_days"] == {"2026-11-18": 1, "2026-11-19": 1}


# --- malformed lines, declared null values, a changed column type -----------------------------


NUMBERS = {
    "name": "flights", "raw_prefix": "raw/flights/", "arrival": "daily",
    "format": {"type": "csv"},
    "columns": [
        {"name": "flight", "type": "string"}, {"name": "dep_delay", "type": "int"},
        {"name": "air_time", "type": "double"}, {"name": "dep_time", "type": "string"},
    ],
    "event_time": {"column": "dep_time", "format": "iso8601", "time_zone": "UTC"},
}  # fmt: skip
FLIGHT_ROWS = [
    ["UA1545", "2", "227.0", "2013-01-01T05:17:00Z"],
    ["AA1141", "NA", "NA", "2013-01-01T05:42:00Z"],  # cancelled: NA for the numbers
    ["B6725", "", "183.5", "2013-01-01T05:44:00Z"],
    ["DL461", "late", "116", "2013-01-01T05:54:00Z"],  # not a number, whatever is declared
]


def flights_lake(lake: Lake, null_values: list[str] | None) -> None:
    source = copy.deepcopy(NUMBERS)
    if null_values is not None:
        source["format"]["null_values"] = null_values
    lake.declaration = custom(source)
    header = ["flight", "dep_delay", "air_time", "dep_time"]
    lake.put("raw/flights", "2013-01-01", "flights-1.csv.gz", activity_csv(FLIGHT_ROWS[:2], header))
    lake.put("raw/flights", "2013-01-01", "flights-2.csv.gz", activity_csv(FLIGHT_ROWS[2:], header))


@pytest.mark.spark
def test_declared_null_values_convert_to_null_and_other_bad_values_are_counted_per_file(
    lake: Lake,
) -> None:
    flights_lake(lake, ["NA", ""])

    entry = lake.run("2013-01-01", "2013-01-01")["flights"]

    assert [(r["flight"], r["dep_delay"], r["air_time"]) for r in lake.rows("flights")] == [
        ("AA1141", None, None), ("B6725", None, 183.5), ("UA1545", 2, 227.0)
    ]  # fmt: skip
    assert (entry["malformed_lines"], entry["new_events"]) == (1, 3)
    assert entry["partitions"][0]["malformed_files"] == {"flights-2.csv.gz": 1}


@pytest.mark.spark
def test_without_declared_null_values_na_numbers_are_malformed_and_counted(lake: Lake) -> None:
    flights_lake(lake, None)  # the default: only the empty value is NULL

    entry = lake.run("2013-01-01", "2013-01-01")["flights"]

    assert [r["flight"] for r in lake.rows("flights")] == ["B6725", "UA1545"]
    malformed = entry["partitions"][0]["malformed_files"]
    assert malformed == {"flights-1.csv.gz": 1, "flights-2.csv.gz": 1}
    assert entry["malformed_lines"] == 2


@pytest.mark.spark
def test_a_changed_column_type_converts_the_partitions_again_with_all_their_files_new(
    lake: Lake,
) -> None:
    # given a partition converted while a column was declared int
    flights_lake(lake, ["NA", ""])
    lake.run("2013-01-01", "2013-01-01")
    # when the declaration changes the column's type, and the same window runs again
    redeclared = copy.deepcopy(lake.declaration)
    redeclared["sources"][0]["columns"][1]["type"] = "double"
    lake.declaration = redeclared
    entry = lake.run("2013-01-01", "2013-01-01", run_id="run2")["flights"]

    # then the partition is written with the declared type, and its events count as new
    ods = str(lake.ods / "flights")
    schema = spark_session().read.parquet(ods).schema
    assert schema["dep_delay"].dataType.simpleString() == "double"
    assert entry["columns"][1] == {"name": "dep_delay", "type": "double"}
    assert entry["event_days"] == {"2013-01-01": 3}
    record = lake.records("flights")["year=2013/month=01/day=01"]
    assert (record["run_id"], record["columns"][1]["type"]) == ("run2", "double")
