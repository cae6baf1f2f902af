"""Glue job: the raw traffic events of an arrival window -> the ODS table's Parquet partitions.

Reads the gzipped JSON lines under `<raw_path>/year=YYYY/month=MM/day=DD/hour=HH/` for every UTC
arrival hour of `--arrival_start_date`..`--arrival_end_date` that exists, converts them to the
ODS columns (typed, snake_case; values converted, not cleaned: cleaning is DWD's job), keeps the
arrival partition from the path and writes Parquet (snappy) partitioned by year/month/day/hour
under `--ods_path`. Lines that are not a JSON object of the expected types are dropped and counted.

Incremental per arrival hour: each converted ODS hour keeps a `_SOURCES` file (ignored by
Athena and the crawler, as every `_` file) with the fingerprint of the raw files it was made
from: their names and sizes (Firehose never rewrites an object; a new delivery is a new
name) and CONVERTER_VERSION. An hour whose raw files have not changed since is skipped, so a
daily run converts the hours that gained data (yesterday's and today's), not the whole
three-day window. An hour without raw files is left as it is (raw data may have expired).

Re-running a window replaces exactly the hours it converts: each such ODS hour directory is
deleted first (so no stale file survives), then written with dynamic partition overwrite,
which leaves every other partition alone; its `_SOURCES` is written last, so an interrupted
run converts the hour again next time. `--force true` converts every hour of the window.

Plain SparkSession API (no awsglue), so the same script runs on AWS Glue and on local Spark. Paths
are Hadoop paths: s3:// on Glue, local directories locally. Arguments follow Glue's convention:

    convert_raw.py --raw_path s3://raw/raw/traffic/ --ods_path s3://curated/ods/traffic/ \
        --arrival_start_date 2026-11-19 --arrival_end_date 2026-11-21

Glue adds its own arguments (--JOB_NAME, --JOB_RUN_ID, --TempDir, ...): they are ignored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pyspark.sql import Column, DataFrame, Observation, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

logger = logging.getLogger("convert_raw")

REQUIRED_ARGUMENTS = ("raw_path", "ods_path", "arrival_start_date", "arrival_end_date")
# Part of every hour's fingerprint: bump it when the conversion changes, and the next runs
# convert their windows again instead of keeping what the previous version wrote.
CONVERTER_VERSION = "1"
SOURCES_FILE = "_SOURCES"
PARTITION_COLUMNS = ("year", "month", "day", "hour")
# A window is at most a backfill plus its two margin days; more is a typo, not a run.
MAX_WINDOW_DAYS = 400

CORRUPT = "_corrupt_record"
# The raw event, as the sensors' feed names it (docs/contracts.md, "Raw events").
RAW_SCHEMA = T.StructType(
    [
        T.StructField("uniqueId", T.StringType()),
        T.StructField("recordTimestamp", T.StringType()),
        T.StructField("currentSpeed", T.IntegerType()),
        T.StructField("previousSpeed", T.IntegerType()),
        T.StructField("bezettingsgraad", T.IntegerType()),
        T.StructField("trafficIntensityClass2", T.IntegerType()),
        T.StructField("trafficIntensityClass3", T.IntegerType()),
        T.StructField("trafficIntensityClass4", T.IntegerType()),
        T.StructField("trafficIntensityClass5", T.IntegerType()),
        T.StructField("segment", T.StringType()),
        T.StructField(CORRUPT, T.StringType()),
    ]
)
# ODS column <- raw field, in the ODS table's column order.
ODS_FIELDS = (
    ("sensor_id", "uniqueId"),
    ("record_timestamp", "recordTimestamp"),
    ("current_speed", "currentSpeed"),
    ("previous_speed", "previousSpeed"),
    ("occupancy", "bezettingsgraad"),
    ("intensity_class2", "trafficIntensityClass2"),
    ("intensity_class3", "trafficIntensityClass3"),
    ("intensity_class4", "trafficIntensityClass4"),
    ("intensity_class5", "trafficIntensityClass5"),
    ("segment", "segment"),
)
ODS_COLUMNS = tuple(name for name, _ in ODS_FIELDS) + PARTITION_COLUMNS
_ARRIVAL_PATH = r"/year=(\d{4})/month=(\d{2})/day=(\d{2})/hour=(\d{2})/"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class JobArgumentError(ValueError):
    """A job argument is missing or invalid; nothing has been read or written."""


class NoRawDataError(RuntimeError):
    """No raw arrival hour of the window exists; nothing has been deleted."""


@dataclass(frozen=True)
class JobArguments:
    raw_path: str
    ods_path: str
    arrival_start_date: dt.date
    arrival_end_date: dt.date
    force: bool = False


def parse_arguments(argv: Sequence[str]) -> JobArguments:
    """Glue's `--name value` pairs (also `--name=value`); unknown names are ignored.

    A `--name` followed by another `--option` (or nothing) is a flag with an empty value, as
    some of Glue's own arguments are.
    """
    values: dict[str, str] = {}
    index = 0
    while index < len(argv):
        token = argv[index]
        index += 1
        if not token.startswith("--"):
            continue
        name, separator, value = token[2:].partition("=")
        if not separator and index < len(argv) and not argv[index].startswith("--"):
            value = argv[index]
            index += 1
        values[name] = value
    missing = [name for name in REQUIRED_ARGUMENTS if not values.get(name)]
    if missing:
        raise JobArgumentError(f"missing job argument(s): {', '.join('--' + m for m in missing)}")
    start = _date(values["arrival_start_date"], "arrival_start_date")
    end = _date(values["arrival_end_date"], "arrival_end_date")
    if end < start:
        raise JobArgumentError(
            f"--arrival_end_date {end.isoformat()} is before --arrival_start_date "
            f"{start.isoformat()}"
        )
    if (end - start).days + 1 > MAX_WINDOW_DAYS:
        raise JobArgumentError(
            f"arrival window {start.isoformat()}..{end.isoformat()} is longer than "
            f"{MAX_WINDOW_DAYS} days"
        )
    force = values.get("force", "false").lower()
    if force not in ("true", "false"):
        raise JobArgumentError(f"--force {values['force']!r} must be true or false")
    return JobArguments(
        raw_path=values["raw_path"].rstrip("/"),
        ods_path=values["ods_path"].rstrip("/"),
        arrival_start_date=start,
        arrival_end_date=end,
        force=force == "true",
    )


def _date(text: str, name: str) -> dt.date:
    # date.fromisoformat alone also accepts '20261120' and week dates; the contract is YYYY-MM-DD.
    try:
        if not _DATE.match(text):
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise JobArgumentError(f"--{name} {text!r} is not a date YYYY-MM-DD") from None


def arrival_hours(start: dt.date, end: dt.date) -> list[tuple[str, str, str, str]]:
    """Every UTC arrival hour of the window, as zero-padded (year, month, day, hour)."""
    hours: list[tuple[str, str, str, str]] = []
    day = start
    while day <= end:
        hours.extend((f"{day:%Y}", f"{day:%m}", f"{day:%d}", f"{hour:02d}") for hour in range(24))
        day += dt.timedelta(days=1)
    return hours


def partition_paths(root: str, start: dt.date, end: dt.date) -> list[str]:
    """The window's partition directories under root (raw or ODS: the layouts match)."""
    return [hour_path(root, hour) for hour in arrival_hours(start, end)]


def hour_path(root: str, hour: tuple[str, str, str, str]) -> str:
    year, month, day, hour_of_day = hour
    return f"{root.rstrip('/')}/year={year}/month={month}/day={day}/hour={hour_of_day}"


def sources_fingerprint(files: Sequence[tuple[str, int]]) -> str:
    """What an ODS hour was made from: the raw files' names and sizes, and the converter."""
    digest = hashlib.sha256(f"converter={CONVERTER_VERSION}\n".encode())
    for name, size in sorted(files):
        digest.update(f"{name}\t{size}\n".encode())
    return digest.hexdigest()


def convert(lines: DataFrame) -> DataFrame:
    """Raw lines -> ODS rows plus a `malformed` flag.

    `lines` has `value` (one JSON line) and `path` (the file it came from). Blank lines are not
    events and are left out. A line that is not a JSON object matching RAW_SCHEMA is flagged
    malformed, with its fields NULL. The arrival partition comes from the file's path.
    """
    parsed = lines.where(F.trim(F.col("value")) != "").select(
        F.from_json(
            F.col("value"),
            RAW_SCHEMA,
            {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT},
        ).alias("event"),
        F.col("path"),
    )
    malformed: Column = F.col("event").isNull() | F.col(f"event.{CORRUPT}").isNotNull()
    return parsed.select(
        *(F.col(f"event.{raw}").alias(name) for name, raw in ODS_FIELDS),
        *(
            F.regexp_extract(F.col("path"), _ARRIVAL_PATH, group).alias(column)
            for group, column in enumerate(PARTITION_COLUMNS, start=1)
        ),
        malformed.alias("malformed"),
    )


def ods_rows(converted: DataFrame) -> DataFrame:
    """The well-formed rows of `convert`'s output, in the ODS table's columns."""
    return converted.where(~F.col("malformed")).select(*ODS_COLUMNS)


class HadoopFileSystem:
    """Exists/delete on any Hadoop path (s3://, file://, plain local), through Spark's JVM."""

    def __init__(self, spark: SparkSession) -> None:
        self._jvm: Any = spark.sparkContext._jvm
        self._configuration: Any = spark.sparkContext._jsc.hadoopConfiguration()

    def _path(self, path: str) -> tuple[Any, Any]:
        hadoop_path = self._jvm.org.apache.hadoop.fs.Path(path)
        return hadoop_path.getFileSystem(self._configuration), hadoop_path

    def exists(self, path: str) -> bool:
        filesystem, hadoop_path = self._path(path)
        return bool(filesystem.exists(hadoop_path))

    def delete_tree(self, path: str) -> bool:
        filesystem, hadoop_path = self._path(path)
        return bool(filesystem.delete(hadoop_path, True))

    def data_files(self, directory: str) -> list[tuple[str, int]]:
        """(name, size) of the files directly in a directory; hidden `.`/`_` files left out."""
        filesystem, hadoop_path = self._path(directory)
        if not filesystem.exists(hadoop_path):
            return []
        files = []
        for status in filesystem.listStatus(hadoop_path):
            name = str(status.getPath().getName())
            if status.isFile() and not name.startswith((".", "_")):
                files.append((name, int(status.getLen())))
        return files

    def read_text(self, path: str) -> str | None:
        filesystem, hadoop_path = self._path(path)
        if not filesystem.exists(hadoop_path):
            return None
        stream = filesystem.open(hadoop_path)
        try:
            reader = self._jvm.java.io.BufferedReader(
                self._jvm.java.io.InputStreamReader(stream, "UTF-8")
            )
            return "\n".join(iter(reader.readLine, None))
        finally:
            stream.close()

    def write_text(self, path: str, text: str) -> None:
        filesystem, hadoop_path = self._path(path)
        stream = filesystem.create(hadoop_path, True)
        try:
            stream.write(bytearray(text.encode("utf-8")))
        finally:
            stream.close()


def hours_to_convert(
    filesystem: HadoopFileSystem, arguments: JobArguments
) -> tuple[list[tuple[str, str, str, str]], dict[tuple[str, str, str, str], str], int]:
    """The arrival hours whose raw files changed since converted, their fingerprints, and
    how many hours of the window have raw files at all."""
    stale: list[tuple[str, str, str, str]] = []
    fingerprints: dict[tuple[str, str, str, str], str] = {}
    present = 0
    for hour in arrival_hours(arguments.arrival_start_date, arguments.arrival_end_date):
        files = filesystem.data_files(hour_path(arguments.raw_path, hour))
        if not files:
            continue
        present += 1
        fingerprint = sources_fingerprint(files)
        recorded = filesystem.read_text(f"{hour_path(arguments.ods_path, hour)}/{SOURCES_FILE}")
        if arguments.force or recorded is None or recorded.strip() != fingerprint:
            stale.append(hour)
            fingerprints[hour] = fingerprint
    return stale, fingerprints, present


def run(spark: SparkSession, arguments: JobArguments) -> dict[str, int]:
    """Convert the window's changed hours; returns counts (hours, events, malformed lines)."""
    filesystem = HadoopFileSystem(spark)
    start, end = arguments.arrival_start_date, arguments.arrival_end_date
    stale, fingerprints, present = hours_to_convert(filesystem, arguments)
    if not present:
        raise NoRawDataError(
            f"no raw arrival hour under {arguments.raw_path} for "
            f"{start.isoformat()}..{end.isoformat()}"
        )
    by_flag: dict[bool, int] = {}
    if stale:
        by_flag = _convert_hours(spark, filesystem, arguments, stale)
        # Last: an hour is only taken as converted once its data is completely written.
        for hour in stale:
            filesystem.write_text(
                f"{hour_path(arguments.ods_path, hour)}/{SOURCES_FILE}", fingerprints[hour] + "\n"
            )
    summary = {
        "hours_with_raw_data": present,
        "hours_converted": len(stale),
        "hours_unchanged": present - len(stale),
        "events": by_flag.get(False, 0),
        "malformed_lines": by_flag.get(True, 0),
    }
    logger.info(
        "converted arrival window %s",
        json.dumps({"window": [start.isoformat(), end.isoformat()], **summary}),
    )
    return summary


def _convert_hours(
    spark: SparkSession,
    filesystem: HadoopFileSystem,
    arguments: JobArguments,
    hours: list[tuple[str, str, str, str]],
) -> dict[bool, int]:
    # No _SUCCESS marker in the table's location: the crawler would take it for data.
    spark.sparkContext._jsc.hadoopConfiguration().set(
        "mapreduce.fileoutputcommitter.marksuccessfuljobs", "false"
    )
    sources = [hour_path(arguments.raw_path, hour) for hour in hours]
    lines = spark.read.text(sources, recursiveFileLookup=True).select(
        F.col("value"), F.input_file_name().alias("path")
    )
    # Counted while written: one pass over the raw files, nothing cached.
    observation = Observation("convert_raw")
    converted = convert(lines).observe(
        observation,
        F.count(F.lit(1)).alias("lines"),
        F.sum(F.col("malformed").cast("long")).alias("malformed"),
    )
    for hour in hours:
        filesystem.delete_tree(hour_path(arguments.ods_path, hour))
    (
        ods_rows(converted)
        .write.mode("overwrite")
        .option("partitionOverwriteMode", "dynamic")
        .option("compression", "snappy")
        .partitionBy(*PARTITION_COLUMNS)
        .parquet(arguments.ods_path)
    )
    metrics = observation.get
    malformed = int(metrics.get("malformed") or 0)
    return {True: malformed, False: int(metrics.get("lines") or 0) - malformed}


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    spark = SparkSession.builder.appName("convert_raw").getOrCreate()
    run(spark, arguments)


if __name__ == "__main__":
    main()
