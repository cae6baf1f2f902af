"""Glue job: the raw traffic events of an arrival window -> the ODS table's Parquet partitions.

Reads the gzipped JSON lines under `<raw_path>/year=YYYY/month=MM/day=DD/hour=HH/` for every UTC
arrival hour of `--arrival_start_date`..`--arrival_end_date` that exists, converts them to the
ODS columns (typed, snake_case; values converted, not cleaned: cleaning is DWD's job), keeps the
arrival partition from the path and writes Parquet (snappy) partitioned by year/month/day/hour
under `--ods_path`. Lines that are not a JSON object of the expected types are dropped and counted.

Re-running a window replaces exactly that window's partitions: every arrival-hour directory of
the window is deleted first (so an hour that is now empty keeps no stale files), then the new
partitions are written with dynamic partition overwrite, which leaves every other partition
alone.

Plain SparkSession API (no awsglue), so the same script runs on AWS Glue and on local Spark. Paths
are Hadoop paths: s3:// on Glue, local directories locally. Arguments follow Glue's convention:

    convert_raw.py --raw_path s3://raw/raw/traffic/ --ods_path s3://curated/ods/traffic/ \
        --arrival_start_date 2026-11-19 --arrival_end_date 2026-11-21

Glue adds its own arguments (--JOB_NAME, --JOB_RUN_ID, --TempDir, ...): they are ignored.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

logger = logging.getLogger("convert_raw")

REQUIRED_ARGUMENTS = ("raw_path", "ods_path", "arrival_start_date", "arrival_end_date")
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
    return JobArguments(
        raw_path=values["raw_path"].rstrip("/"),
        ods_path=values["ods_path"].rstrip("/"),
        arrival_start_date=start,
        arrival_end_date=end,
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
    return [
        f"{root.rstrip('/')}/year={y}/month={m}/day={d}/hour={h}"
        for y, m, d, h in arrival_hours(start, end)
    ]


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


def run(spark: SparkSession, arguments: JobArguments) -> dict[str, int]:
    """Convert the window; returns counts (hours read, events written, malformed lines)."""
    filesystem = HadoopFileSystem(spark)
    start, end = arguments.arrival_start_date, arguments.arrival_end_date
    sources = [p for p in partition_paths(arguments.raw_path, start, end) if filesystem.exists(p)]
    if not sources:
        raise NoRawDataError(
            f"no raw arrival hour under {arguments.raw_path} for "
            f"{start.isoformat()}..{end.isoformat()}"
        )
    # No _SUCCESS marker in the table's location: the crawler would take it for data.
    spark.sparkContext._jsc.hadoopConfiguration().set(
        "mapreduce.fileoutputcommitter.marksuccessfuljobs", "false"
    )
    lines = spark.read.text(sources, recursiveFileLookup=True).select(
        F.col("value"), F.input_file_name().alias("path")
    )
    # Persisted: counted and written from one read of the raw files.
    converted = convert(lines).persist()
    try:
        counts = converted.groupBy("malformed").count().collect()
        by_flag = {bool(row["malformed"]): int(row["count"]) for row in counts}
        deleted = sum(
            filesystem.delete_tree(p) for p in partition_paths(arguments.ods_path, start, end)
        )
        (
            ods_rows(converted)
            .write.mode("overwrite")
            .option("partitionOverwriteMode", "dynamic")
            .option("compression", "snappy")
            .partitionBy(*PARTITION_COLUMNS)
            .parquet(arguments.ods_path)
        )
    finally:
        converted.unpersist()
    summary = {
        "hours_read": len(sources),
        "events": by_flag.get(False, 0),
        "malformed_lines": by_flag.get(True, 0),
        "partitions_replaced": deleted,
    }
    logger.info(
        "converted arrival window %s",
        json.dumps({"window": [start.isoformat(), end.isoformat()], **summary}),
    )
    return summary


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    spark = SparkSession.builder.appName("convert_raw").getOrCreate()
    run(spark, arguments)


if __name__ == "__main__":
    main()
