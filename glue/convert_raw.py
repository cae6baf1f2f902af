"""Glue job: every declared source's raw files of an arrival window -> its ODS Parquet partitions.

The sources come from `--sources`: the declaration of sql/sources.yaml as base64 of its JSON
(Terraform: base64encode(jsonencode(yamldecode(...)))); etl_lambdas.sources validates the same
file. For each source, the job reads the raw files under `<raw_root><raw_prefix>year=YYYY/month=MM/
day=DD[/hour=HH]/` of every UTC arrival partition of `--arrival_start_date`..`--arrival_end_date`
that exists, in the declared format (JSON lines, CSV, Parquet; `.gz` and other compressions by
extension), converts them to the declared ODS columns (typed; values converted, not cleaned:
cleaning is DWD's job; a CSV value among the source's declared `null_values` is NULL), adds the
event time as a typed timestamp, `<event column>_utc` (the UTC instant, read with the declared
format and time zone), and writes Parquet (snappy) under `<ods_root><source>/`, partitioned like
the arrival. A line or row whose values do not convert to the declared types is malformed:
dropped, and counted per partition and raw file.

The ledger (docs/contracts.md, "The ledger"): what the job did is durable state, never a
hand-off that a retry could overwrite. Each converted ODS partition keeps a `_SOURCES` record
(ignored by Athena, excluded from the crawl): the raw files it was made from (names and sizes:
Firehose never rewrites an object, a new delivery is a new name), the converter's version and
the declared columns, the run that converted it, which of its files were new to that run, and
what they held (well-formed events by local event day in `--time_zone`, unparsable event times,
malformed lines per file). A partition whose raw files, converter and columns are the recorded
ones is skipped, so a daily run converts the partitions that gained data. Per source and run,
the ledger entry `<ods_root><source>/_ledger/runs/<run_id>.json` lists every partition the run
converted, with the same facts: the catalog step registers its partitions, the restatement
reads its event days, and they stay there until a successful run has published those days.

Each source's side effects are separate steps, in this order: its ODS partitions are replaced
(`write_ods`: each one's directory deleted, then written with dynamic partition overwrite, which
leaves every other partition alone), then its ledger entry is written (`write_ledger_entry`,
one object), then each partition's `_SOURCES` (`record_partitions`). A run that stops anywhere
loses nothing: a partition without its new record is converted again by the next attempt or
run; an entry is written before the records it covers, and a retry of the same run (same
`--run_id`) writes the entry again with every partition the run converted, those recorded by
an earlier attempt included. A source without raw data in the window writes nothing.

Plain SparkSession API (no awsglue), so the same script runs on AWS Glue 5.0 and on local Spark
3.5.4. Paths are Hadoop paths: s3:// on Glue, local directories locally. Arguments follow Glue's
convention (`--name value`):

    convert_raw.py --sources <base64> --raw_root s3://raw/ --ods_root s3://curated/ods/ \
        --time_zone Europe/Brussels --arrival_start_date 2026-11-19 \
        --arrival_end_date 2026-11-21 --run_id 20261121t030000z_ab12cd34

Without `--run_id`, the run id is Glue's own `--JOB_RUN_ID`. Glue's other arguments
(--JOB_NAME, --TempDir, ...) are ignored.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql import Column, DataFrame, Observation, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

logger = logging.getLogger("convert_raw")

# Part of every partition's _SOURCES record: bump it when the conversion changes, and the next
# runs convert their windows again (all their files then count as new).
CONVERTER_VERSION = "3"
SOURCES_FILE = "_SOURCES"
# Under each source's ODS folder: `_ledger/runs/<run_id>.json` (hidden from Athena and Spark by
# its leading underscore, excluded from the crawl).
LEDGER_FOLDER = "_ledger"
LEDGER_VERSION = 1
ARRIVAL_PARTITIONS = {
    "hourly": ("year", "month", "day", "hour"),
    "daily": ("year", "month", "day"),
}
FORMATS = ("json", "csv", "parquet")
EVENT_TIME_FORMATS = ("iso8601", "epoch_seconds", "epoch_millis")
# A window is at most a backfill plus its two margin days; more is a typo, not a run.
MAX_WINDOW_DAYS = 400

CORRUPT = "_corrupt_record"
MALFORMED = "_malformed"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO8601 = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?$"
_OFFSET = r"(Z|[+-]\d{2}(:?\d{2})?)$"
_SPARK_TYPES: dict[str, T.DataType] = {
    "boolean": T.BooleanType(),
    "tinyint": T.ByteType(),
    "smallint": T.ShortType(),
    "int": T.IntegerType(),
    "bigint": T.LongType(),
    "float": T.FloatType(),
    "double": T.DoubleType(),
    "string": T.StringType(),
    "date": T.DateType(),
    "timestamp": T.TimestampType(),
    "binary": T.BinaryType(),
}
_DECIMAL = re.compile(r"^decimal\((\d+),(\d+)\)$")
# The typed event time's column is the event-time column's name with this suffix
# (docs/contracts.md); etl_lambdas.sources refuses a declared column of that name.
EVENT_INSTANT_SUFFIX = "_utc"


class JobArgumentError(ValueError):
    """A job argument is missing or invalid; nothing has been read or written."""


# -- arguments and the declaration ---------------------------------------------------------


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: str
    field: str


@dataclass(frozen=True)
class SourceSpec:
    """One declared source, as far as the conversion needs it."""

    name: str
    raw_prefix: str
    arrival: str
    format: str
    columns: tuple[ColumnSpec, ...]
    event_column: str
    event_format: str
    event_time_zone: str | None = None
    delimiter: str = ","
    header: bool = True
    # CSV values read as NULL (the declaration's `null_values`; by default the empty value).
    null_values: tuple[str, ...] = ("",)

    @property
    def partition_keys(self) -> tuple[str, ...]:
        return ARRIVAL_PARTITIONS[self.arrival]


@dataclass(frozen=True)
class JobArguments:
    sources: tuple[SourceSpec, ...]
    raw_root: str
    ods_root: str
    time_zone: str
    arrival_start_date: dt.date
    arrival_end_date: dt.date
    run_id: str
    force: bool = False


def glue_options(argv: Sequence[str]) -> dict[str, str]:
    """Glue's `--name value` pairs (also `--name=value`). A `--name` followed by another
    `--option` (or nothing) is a flag with an empty value, as some of Glue's own are."""
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
    return values


def parse_arguments(argv: Sequence[str]) -> JobArguments:
    values = glue_options(argv)
    required = ("sources", "raw_root", "ods_root", "time_zone")
    missing = [f"--{name}" for name in (*required, "arrival_start_date", "arrival_end_date")]
    missing = [name for name in missing if not values.get(name[2:])]
    run_id = values.get("run_id") or values.get("JOB_RUN_ID", "")
    if not run_id:
        missing.append("--run_id")
    if missing:
        raise JobArgumentError(f"missing job argument(s): {', '.join(missing)}")
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
        sources=decode_sources(values["sources"]),
        raw_root=_folder(values["raw_root"]),
        ods_root=_folder(values["ods_root"]),
        time_zone=values["time_zone"],
        arrival_start_date=start,
        arrival_end_date=end,
        run_id=run_id,
        force=force == "true",
    )


def _folder(path: str) -> str:
    return path.rstrip("/") + "/"


def _date(text: str, name: str) -> dt.date:
    # date.fromisoformat alone also accepts '20261120' and week dates; the contract is YYYY-MM-DD.
    try:
        if not _DATE.match(text):
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise JobArgumentError(f"--{name} {text!r} is not a date YYYY-MM-DD") from None


def decode_sources(text: str) -> tuple[SourceSpec, ...]:
    """`--sources`: base64 of the declaration's JSON. etl_lambdas.sources validates the
    declaration in full (the Plan step loads it before this job runs); here a document that
    lacks what the conversion needs fails with a JobArgumentError naming it."""
    try:
        document = json.loads(base64.b64decode(text, validate=True))
        entries = document["sources"]
        if not isinstance(entries, list) or not entries:
            raise ValueError("'sources' must be a non-empty list")
        return tuple(_source_spec(entry) for entry in entries)
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise JobArgumentError(f"--sources is not base64 of a JSON declaration: {error}") from None
    except (KeyError, TypeError, ValueError) as error:
        raise JobArgumentError(f"--sources: invalid declaration: {error!r}") from None


def _source_spec(entry: Mapping[str, Any]) -> SourceSpec:
    # An optional field may be absent (YAML) or null (Terraform's optional() attributes).
    name = str(entry["name"])
    file_format = entry["format"]
    event_time = entry["event_time"]
    if entry["arrival"] not in ARRIVAL_PARTITIONS:
        raise ValueError(f"source {name!r}: arrival {entry['arrival']!r}")
    if file_format["type"] not in FORMATS:
        raise ValueError(f"source {name!r}: format {file_format['type']!r}")
    if event_time["format"] not in EVENT_TIME_FORMATS:
        raise ValueError(f"source {name!r}: event_time format {event_time['format']!r}")
    columns = tuple(
        ColumnSpec(
            str(c["name"]),
            str(c["type"]).lower().replace(" ", ""),
            str(c.get("field") or c["name"]),
        )
        for c in entry["columns"]
    )
    for column in columns:
        spark_type(column.type)
    if event_time["column"] not in {c.name for c in columns}:
        raise ValueError(f"source {name!r}: event_time column {event_time['column']!r}")
    return SourceSpec(
        name=name,
        raw_prefix=_folder(str(entry["raw_prefix"])),
        arrival=str(entry["arrival"]),
        format=str(file_format["type"]),
        columns=columns,
        event_column=str(event_time["column"]),
        event_format=str(event_time["format"]),
        event_time_zone=event_time.get("time_zone"),
        delimiter=str(file_format.get("delimiter") or ","),
        header=file_format.get("header") is not False,
        null_values=_null_values(name, file_format.get("null_values")),
    )


def _null_values(name: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ("",)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"source {name!r}: null_values {value!r} must be a list of strings")
    return tuple(value)


def spark_type(hive_type: str) -> T.DataType:
    if hive_type in _SPARK_TYPES:
        return _SPARK_TYPES[hive_type]
    decimal = _DECIMAL.match(hive_type)
    if decimal:
        return T.DecimalType(int(decimal.group(1)), int(decimal.group(2)))
    raise ValueError(f"column type {hive_type!r}")


# -- layout ----------------------------------------------------------------------------------


def arrival_partitions(arrival: str, start: dt.date, end: dt.date) -> list[tuple[str, ...]]:
    """Every UTC arrival partition of the window, as zero-padded partition values."""
    partitions: list[tuple[str, ...]] = []
    day = start
    while day <= end:
        date_values = (f"{day:%Y}", f"{day:%m}", f"{day:%d}")
        if arrival == "hourly":
            partitions.extend((*date_values, f"{hour:02d}") for hour in range(24))
        else:
            partitions.append(date_values)
        day += dt.timedelta(days=1)
    return partitions


def partition_path(root: str, keys: Sequence[str], values: Sequence[str]) -> str:
    """The partition directory under root (raw or ODS: the layouts match), no trailing '/'."""
    return root.rstrip("/") + "".join(f"/{k}={v}" for k, v in zip(keys, values, strict=True))


def raw_root_of(arguments: JobArguments, source: SourceSpec) -> str:
    return f"{arguments.raw_root}{source.raw_prefix}"


def ods_root_of(arguments: JobArguments, source: SourceSpec) -> str:
    return f"{arguments.ods_root}{source.name}/"


def ledger_entry_path(arguments: JobArguments, source: SourceSpec) -> str:
    """The source's ledger entry of this run (docs/contracts.md, "The ledger")."""
    return f"{ods_root_of(arguments, source)}{LEDGER_FOLDER}/runs/{arguments.run_id}.json"


# -- files -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RawFile:
    name: str
    size: int
    path: str


class HadoopFileSystem:
    """Exists/list/read/write/delete on any Hadoop path (s3://, file://, local), via Spark's JVM."""

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

    def data_files(self, directory: str) -> list[RawFile]:
        """The files directly in a directory, by name; hidden `.`/`_` files left out."""
        filesystem, hadoop_path = self._path(directory)
        if not filesystem.exists(hadoop_path):
            return []
        files = []
        for status in filesystem.listStatus(hadoop_path):
            name = str(status.getPath().getName())
            if status.isFile() and not name.startswith((".", "_")):
                files.append(RawFile(name, int(status.getLen()), str(status.getPath().toString())))
        return sorted(files, key=lambda f: f.name)

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

    def first_line(self, path: str) -> str | None:
        """A file's first line, decompressed by its extension (.gz, ...); None when empty."""
        filesystem, hadoop_path = self._path(path)
        stream = filesystem.open(hadoop_path)
        try:
            codec = self._jvm.org.apache.hadoop.io.compress.CompressionCodecFactory(
                self._configuration
            ).getCodec(hadoop_path)
            if codec is not None:
                stream = codec.createInputStream(stream)
            reader = self._jvm.java.io.BufferedReader(
                self._jvm.java.io.InputStreamReader(stream, "UTF-8")
            )
            line = reader.readLine()
            return None if line is None else str(line)
        finally:
            stream.close()

    def write_text(self, path: str, text: str) -> None:
        filesystem, hadoop_path = self._path(path)
        stream = filesystem.create(hadoop_path, True)
        try:
            stream.write(bytearray(text.encode("utf-8")))
        finally:
            stream.close()


@dataclass
class PartitionFacts:
    """What one conversion of a partition found in its NEW raw files: the part of its
    `_SOURCES` record and of the run's ledger entry that is the same in both."""

    new_files: list[str] = field(default_factory=list)
    event_days: dict[str, int] = field(default_factory=dict)
    unparsable_event_times: int = 0
    malformed_lines: int = 0
    malformed_files: dict[str, int] = field(default_factory=dict)
    has_rows: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "new_files": sorted(self.new_files),
            "event_days": dict(sorted(self.event_days.items())),
            "unparsable_event_times": self.unparsable_event_times,
            "malformed_lines": self.malformed_lines,
            "malformed_files": dict(sorted(self.malformed_files.items())),
            "has_rows": self.has_rows,
        }

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> PartitionFacts:
        return cls(
            new_files=[str(name) for name in record["new_files"]],
            event_days={str(day): int(count) for day, count in record["event_days"].items()},
            unparsable_event_times=int(record["unparsable_event_times"]),
            malformed_lines=int(record["malformed_lines"]),
            malformed_files={str(k): int(v) for k, v in record["malformed_files"].items()},
            has_rows=bool(record["has_rows"]),
        )


@dataclass(frozen=True)
class SourcesRecord:
    """A partition's `_SOURCES`, as far as this converter can trust it."""

    files: frozenset[tuple[str, int]]
    columns: tuple[tuple[str, str], ...]
    run_id: str
    facts: PartitionFacts

    def baseline(self, run_id: str) -> frozenset[tuple[str, int]]:
        """The files the partition held before `run_id` converted it: a retry of the run that
        wrote this record counts the files that run found new as new again."""
        if self.run_id != run_id:
            return self.files
        new = set(self.facts.new_files)
        return frozenset(f for f in self.files if f[0] not in new)


def declared_columns(source: SourceSpec) -> tuple[tuple[str, str], ...]:
    """The ODS columns as the job writes them (Hive types), the partition keys apart."""
    keys = set(source.partition_keys)
    return tuple(
        (f.name, f.dataType.simpleString()) for f in ods_schema(source).fields if f.name not in keys
    )


def sources_record(
    files: Iterable[RawFile], source: SourceSpec, run_id: str, facts: PartitionFacts
) -> str:
    """The `_SOURCES` of a converted partition: the converter, the declared columns, the raw
    files read, and what the converting run found in those of them that were new."""
    record = {
        "converter": CONVERTER_VERSION,
        "columns": [{"name": n, "type": t} for n, t in declared_columns(source)],
        "run_id": run_id,
        "files": [{"name": f.name, "size": f.size} for f in sorted(files, key=lambda f: f.name)],
        **facts.as_dict(),
    }
    return json.dumps(record, sort_keys=True) + "\n"


def read_record(text: str | None) -> SourcesRecord | None:
    """A `_SOURCES` this converter can trust; None when absent, of another converter version
    or of an older format (its partition is then converted again, all its files new)."""
    if text is None:
        return None
    try:
        record = json.loads(text)
        if record.get("converter") != CONVERTER_VERSION:
            return None
        return SourcesRecord(
            files=frozenset((str(f["name"]), int(f["size"])) for f in record["files"]),
            columns=tuple((str(c["name"]), str(c["type"])) for c in record["columns"]),
            run_id=str(record["run_id"]),
            facts=PartitionFacts.of(record),
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


@dataclass
class PartitionWork:
    """A partition to convert: all its raw files, and which of them are new."""

    values: tuple[str, ...]
    files: list[RawFile]
    new_files: list[RawFile]


@dataclass
class SourcePlan:
    source: SourceSpec
    partitions_with_raw_data: int = 0
    work: list[PartitionWork] = field(default_factory=list)
    # Partitions an earlier attempt of this run converted and recorded: part of its entry.
    recorded: dict[tuple[str, ...], PartitionFacts] = field(default_factory=dict)


def plan_source(
    filesystem: HadoopFileSystem, arguments: JobArguments, source: SourceSpec
) -> SourcePlan:
    """The source's arrival partitions whose raw files, converter or declared columns differ
    from their record; and those this run already converted (an earlier attempt)."""
    plan = SourcePlan(source)
    raw_root, ods_root = raw_root_of(arguments, source), ods_root_of(arguments, source)
    keys = source.partition_keys
    columns = declared_columns(source)
    start, end = arguments.arrival_start_date, arguments.arrival_end_date
    for values in arrival_partitions(source.arrival, start, end):
        files = filesystem.data_files(partition_path(raw_root, keys, values))
        if not files:
            continue
        plan.partitions_with_raw_data += 1
        record = read_record(
            filesystem.read_text(f"{partition_path(ods_root, keys, values)}/{SOURCES_FILE}")
        )
        current = {(f.name, f.size) for f in files}
        # Converted under other declared columns: converted again; when a column it has is
        # gone or has another type its values may read otherwise, and all its files are new.
        redeclared = record is not None and record.columns != columns
        if record is not None and redeclared and not set(record.columns) <= set(columns):
            record = None
        if record is not None and record.files == current and not (redeclared or arguments.force):
            if record.run_id == arguments.run_id:
                plan.recorded[values] = record.facts
            continue
        baseline = record.baseline(arguments.run_id) if record is not None else frozenset()
        new = [f for f in files if (f.name, f.size) not in baseline]
        plan.work.append(PartitionWork(values, files, new))
    return plan


# -- conversion ------------------------------------------------------------------------------


def _sql_name(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _quoted(name: str) -> Column:
    return F.col(_sql_name(name))


def read_raw(spark: SparkSession, source: SourceSpec, raw_root: str, files: list[str]) -> DataFrame:
    """The raw records of the files (all under raw_root, the source's raw prefix): one column
    per raw field (typed for JSON, as read otherwise), CORRUPT (the text of a record the reader
    could not parse) and the arrival partition's values, in `arrival_column(key)`s."""
    if source.format == "json":
        fields = list(dict.fromkeys((c.field, c.type) for c in source.columns))
        schema = T.StructType(
            [T.StructField(name, spark_type(kind)) for name, kind in fields]
            + [T.StructField(CORRUPT, T.StringType())]
        )
        # A line's only column is its text, so the partition keys cannot meet a field of the
        # same name: Spark's partition discovery reads their values off each file's path once
        # (as strings, as declared here: zero-padded as written), not per line.
        scanned = T.StructType(
            [T.StructField("value", T.StringType())]
            + [T.StructField(key, T.StringType()) for key in source.partition_keys]
        )
        lines = spark.read.schema(scanned).option("basePath", raw_root).text(files)
        # Blank lines are not events, and not malformed either.
        parsed = lines.where(F.trim(F.col("value")) != "").select(
            F.from_json(
                "value", schema, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT}
            ).alias("record"),
            *(F.col(key).alias(arrival_column(key)) for key in source.partition_keys),
        )
        return parsed.select(
            *(F.col("record")[name].alias(name) for name, _ in fields),
            # from_json gives NULL for a line that is not a JSON object at all
            F.when(F.col("record").isNull(), F.lit("<not an object>"))
            .otherwise(F.col("record")[CORRUPT])
            .alias(CORRUPT),
            *(arrival_column(key) for key in source.partition_keys),
        )
    if source.format == "csv":
        return _read_csv(spark, source, files)
    # Every file's footer, not the first one's: files of before and after a schema change
    # are read together.
    return (
        spark.read.option("mergeSchema", "true")
        .parquet(*files)
        .select("*", F.lit(None).cast("string").alias(CORRUPT), *_arrival_from_path(source))
    )


def arrival_column(key: str) -> str:
    """The column of a raw frame that holds an arrival partition key's value."""
    return f"_arrival_{key}"


def _arrival_from_path(source: SourceSpec) -> list[Column]:
    """The arrival partition's values matched in each record's file path: a CSV header or a
    Parquet schema may have a field named like a partition key, so Spark's partition
    discovery (which would let one shadow the other) is not used for them."""
    pattern = "/" + "/".join(f"{key}=([^/]+)" for key in source.partition_keys) + "/[^/]+$"
    return [
        F.regexp_extract(F.input_file_name(), pattern, group).alias(arrival_column(key))
        for group, key in enumerate(source.partition_keys, start=1)
    ]


# Spark reads a CSV value equal to its `nullValue` option (by default the empty value) as NULL;
# the declared null_values are applied by `convert` instead, so Spark's is set to a value no
# text file holds.
_NO_NULL_VALUE = "\u0000"


def _read_csv(spark: SparkSession, source: SourceSpec, files: list[str]) -> DataFrame:
    options = {
        "sep": source.delimiter,
        "header": str(source.header).lower(),
        "nullValue": _NO_NULL_VALUE,
    }
    groups: dict[tuple[str, ...], list[str]] = {}
    if source.header:
        # Fields are found by name in each file's own header: when a source gains, drops or
        # reorders columns, files of before and after the change lie in the same window (often
        # in the same partition). Files are read in groups of equal headers (Spark checks each
        # file against its group's header), then combined by name; a field a group lacks is
        # NULL in its rows. Files are grouped by their first line, and a group's names are
        # Spark's reading of its header (one small read per distinct first line). An empty
        # file has no header and no rows: it is left out.
        filesystem = HadoopFileSystem(spark)
        by_line: dict[str, list[str]] = {}
        for path in files:
            line = filesystem.first_line(path)
            if line is not None:
                by_line.setdefault(line, []).append(path)
        for chosen in by_line.values():
            names = tuple(spark.read.options(**options).csv(chosen[0]).columns)
            if names:
                groups.setdefault(names, []).extend(chosen)
    if not groups:
        groups = {tuple(c.field for c in source.columns): files}
    frames = []
    for names, chosen in groups.items():
        schema = T.StructType(
            [T.StructField(name, T.StringType()) for name in names]
            + [T.StructField(CORRUPT, T.StringType())]
        )
        frames.append(
            spark.read.csv(
                chosen,
                schema=schema,
                mode="PERMISSIVE",
                columnNameOfCorruptRecord=CORRUPT,
                enforceSchema=False,
                **options,
            ).select("*", *_arrival_from_path(source))
        )
    frame = frames[0]
    for other in frames[1:]:
        frame = frame.unionByName(other, allowMissingColumns=True)
    return frame


def convert(raw: DataFrame, source: SourceSpec) -> DataFrame:
    """Raw records -> the ODS columns, the arrival partition's keys and
    MALFORMED: the record could not be parsed, or a value does not convert to its type."""
    missing = [c.field for c in source.columns if c.field not in raw.columns]
    if missing:
        raise JobArgumentError(f"source {source.name!r}: the raw files have no field(s) {missing}")
    # JSON is parsed to the declared types; other formats are cast, and a value that does
    # not survive the cast makes the record malformed. A CSV value among the declared
    # null_values is NULL, whatever the column's type.
    read = {c.field: _read_value(source, c.field) for c in source.columns}
    converted = [
        _quoted(c.field)
        if source.format == "json"
        else F.expr(f"try_cast({read[c.field]} AS {c.type})")
        for c in source.columns
    ]
    lost = [
        F.expr(read[c.field]).isNotNull() & value.isNull()
        for c, value in zip(source.columns, converted, strict=True)
        if source.format != "json"
    ]
    malformed = F.col(CORRUPT).isNotNull()
    for lost_value in lost:
        malformed = malformed | lost_value
    return raw.select(
        *(value.alias(c.name) for c, value in zip(source.columns, converted, strict=True)),
        *(F.col(arrival_column(key)).alias(key) for key in source.partition_keys),
        malformed.alias(MALFORMED),
    )


def _read_value(source: SourceSpec, field_name: str) -> str:
    """A raw field as SQL: a CSV field whose text is a declared null value is NULL."""
    name = _sql_name(field_name)
    if source.format != "csv" or not source.null_values:
        return name
    markers = ", ".join(_sql_string(marker) for marker in source.null_values)
    return f"(CASE WHEN {name} IN ({markers}) THEN NULL ELSE {name} END)"


def _sql_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def event_instant_column(source: SourceSpec) -> str:
    """The ODS column holding the typed event time, beside the declared (raw) one."""
    return f"{source.event_column}{EVENT_INSTANT_SUFFIX}"


def ods_rows(converted: DataFrame, source: SourceSpec) -> DataFrame:
    """The well-formed rows of `convert`'s output, in the ODS table's columns: the declared
    ones, then the event time as a timestamp (the UTC instant, read with the declared format
    and zone; NULL when it cannot be parsed), then the partition keys. Models read the instant
    instead of parsing the raw value again with a zone they do not know."""
    declared = [c.name for c in source.columns]
    return converted.where(~F.col(MALFORMED)).select(
        *declared,
        event_instant(source).alias(event_instant_column(source)),
        *source.partition_keys,
    )


def event_instant(source: SourceSpec) -> Column:
    """The event time as a UTC instant (the session runs in UTC), NULL when unparsable."""
    value = F.col(source.event_column)
    if source.event_format == "epoch_seconds":
        return F.timestamp_seconds(value)
    if source.event_format == "epoch_millis":
        return F.timestamp_seconds(value / F.lit(1000))
    text = F.trim(value)
    parsed = F.try_to_timestamp(text)
    return (
        F.when(~text.rlike(_ISO8601), F.lit(None).cast("timestamp"))
        .when(text.rlike(_OFFSET), parsed)
        .otherwise(F.to_utc_timestamp(parsed, source.event_time_zone or "UTC"))
    )


def local_day(instant: Column, time_zone: str) -> Column:
    return F.to_date(F.from_utc_timestamp(instant, time_zone))


# -- a source's conversion -------------------------------------------------------------------


@dataclass
class SourceConversion:
    """What converting a source's planned partitions found, per partition."""

    facts: dict[tuple[str, ...], PartitionFacts] = field(default_factory=dict)
    malformed_lines: int = 0


def write_ods(
    spark: SparkSession, filesystem: HadoopFileSystem, arguments: JobArguments, plan: SourcePlan
) -> SourceConversion:
    """Side effect: the plan's ODS partitions replaced (each one's directory deleted, then
    written with dynamic partition overwrite); returns what the conversion counted."""
    source = plan.source
    conversion = SourceConversion({work.values: PartitionFacts() for work in plan.work})
    if not plan.work:
        return conversion
    files = [f.path for work in plan.work for f in work.files]
    raw = read_raw(spark, source, raw_root_of(arguments, source), files)
    observation = Observation(f"convert_{source.name}")
    # The files that hold malformed lines (usually none), counted per file afterwards: the
    # file's name is taken for a malformed line only (an observation cannot call
    # input_file_name itself: it is not deterministic).
    bad_file = F.when(F.col(MALFORMED), F.input_file_name()).alias("_malformed_file")
    converted = (
        convert(raw, source)
        .select("*", bad_file)
        .observe(
            observation,
            F.count_if(F.col(MALFORMED)).alias("malformed"),
            # as JSON text: py4j hands an array back as a Java object
            F.to_json(F.collect_set("_malformed_file")).alias("malformed_files"),
        )
    )
    ods_root = ods_root_of(arguments, source)
    for work in plan.work:
        filesystem.delete_tree(partition_path(ods_root, source.partition_keys, work.values))
    (
        ods_rows(converted, source)
        .write.mode("overwrite")
        .option("partitionOverwriteMode", "dynamic")
        .option("compression", "snappy")
        .partitionBy(*source.partition_keys)
        .parquet(ods_root)
    )
    metrics = observation.get
    conversion.malformed_lines = int(metrics["malformed"] or 0)
    for work in plan.work:
        directory = partition_path(ods_root, source.partition_keys, work.values)
        facts = conversion.facts[work.values]
        facts.new_files = [f.name for f in work.new_files]
        # no directory when none of the partition's records was well-formed
        facts.has_rows = filesystem.exists(directory)
    bad_files = json.loads(metrics["malformed_files"] or "[]")
    if bad_files:
        count_malformed(spark, arguments, plan, bad_files, conversion)
    count_new_events(spark, filesystem, arguments, plan, conversion)
    return conversion


def count_malformed(
    spark: SparkSession,
    arguments: JobArguments,
    plan: SourcePlan,
    files: list[str],
    conversion: SourceConversion,
) -> None:
    """The malformed lines of the files that hold some, per partition and file: those files
    are read again (a file of well-formed lines only, the usual case, never is)."""
    source = plan.source
    # These files alone may lack a field others of the run have: NULL in their rows.
    raw = _with_declared_fields(
        read_raw(spark, source, raw_root_of(arguments, source), files), source
    )
    rows = (
        _with_file(raw, source)
        .where(F.col(MALFORMED))
        .groupBy(*source.partition_keys, "_file")
        .count()
        .collect()
    )
    for row in rows:
        values = tuple(str(row[key]) for key in source.partition_keys)
        facts = conversion.facts.get(values)
        if facts is None:
            continue
        name = str(row["_file"]).rstrip("/").rsplit("/", 1)[-1]
        facts.malformed_files[name] = facts.malformed_files.get(name, 0) + int(row["count"])
        facts.malformed_lines += int(row["count"])


def count_new_events(
    spark: SparkSession,
    filesystem: HadoopFileSystem,
    arguments: JobArguments,
    plan: SourcePlan,
    conversion: SourceConversion,
) -> None:
    """The well-formed events of the plan's NEW raw files, per partition, by local day in
    --time_zone (events whose time cannot be parsed are counted apart), after the conversion.

    A converted partition whose raw files are all new holds exactly their events in its ODS
    Parquet, just written: only its event-time column is read back, and each distinct time is
    parsed once (parsing every event's time inside the conversion took a third of the job).
    The new files of a partition that also has older files are converted again, alone."""
    source = plan.source
    ods_root, keys = ods_root_of(arguments, source), list(source.partition_keys)
    written = [
        partition_path(ods_root, keys, work.values)
        for work in plan.work
        if work.new_files
        and len(work.new_files) == len(work.files)
        and conversion.facts[work.values].has_rows
    ]
    late_files = [
        f.path
        for work in plan.work
        if work.new_files and len(work.new_files) < len(work.files)
        for f in work.new_files
    ]
    columns = [source.event_column, *keys]
    times: list[DataFrame] = []
    if written:
        # basePath: the partition keys come from the directories, as declared (strings)
        reader = spark.read.schema(ods_schema(source)).option("basePath", ods_root)
        times.append(reader.parquet(*written).select(*columns))
    if late_files:
        # The new files alone may lack a field the others have: NULL in their rows.
        raw = _with_declared_fields(
            read_raw(spark, source, raw_root_of(arguments, source), late_files), source
        )
        times.append(ods_rows(convert(raw, source), source).select(*columns))
    if not times:
        return
    frame = times[0]
    for other in times[1:]:
        frame = frame.union(other)
    by_time = frame.groupBy(*columns).agg(F.count(F.lit(1)).alias("events"))
    # (named apart from the partition key `day`)
    day = local_day(event_instant(source), arguments.time_zone).alias("_event_day")
    rows = (
        by_time.select(day, *keys, "events")
        .groupBy("_event_day", *keys)
        .agg(F.sum("events").alias("events"))
        .collect()
    )
    for row in rows:
        facts = conversion.facts.get(tuple(str(row[key]) for key in keys))
        if facts is None:
            continue
        events = int(row["events"])
        if row["_event_day"] is None:
            facts.unparsable_event_times += events
        elif events:
            day_text = row["_event_day"].isoformat()
            facts.event_days[day_text] = facts.event_days.get(day_text, 0) + events


def _with_file(raw: DataFrame, source: SourceSpec) -> DataFrame:
    """`convert`'s output with the raw file each record came from, in `_file`."""
    converted = convert(raw, source)
    return converted.select("*", F.input_file_name().alias("_file"))


def _with_declared_fields(raw: DataFrame, source: SourceSpec) -> DataFrame:
    """The raw records with a NULL column for each declared field their files lack."""
    absent = [c.field for c in source.columns if c.field not in raw.columns]
    if not absent:
        return raw
    return raw.select("*", *(F.lit(None).cast("string").alias(field) for field in absent))


def ods_schema(source: SourceSpec) -> T.StructType:
    """The ODS table's columns as written (declared types, the typed event time, then the
    partition keys)."""
    fields = [T.StructField(c.name, spark_type(c.type)) for c in source.columns]
    fields.append(T.StructField(event_instant_column(source), T.TimestampType()))
    fields += [T.StructField(key, T.StringType()) for key in source.partition_keys]
    return T.StructType(fields)


# -- the ledger --------------------------------------------------------------------------------


def ledger_entry(
    arguments: JobArguments, plan: SourcePlan, conversion: SourceConversion
) -> dict[str, Any]:
    """The source's ledger entry of this run: every partition the run converted (in this
    attempt, or in an earlier one whose records are in place), with what it found."""
    source = plan.source
    keys = source.partition_keys
    ods_root = ods_root_of(arguments, source)
    facts = {**plan.recorded, **conversion.facts}
    partitions = [
        {
            "values": list(values),
            "location": partition_path(ods_root, keys, values) + "/",
            **facts[values].as_dict(),
        }
        for values in sorted(facts)
    ]
    event_days: dict[str, int] = {}
    for item in facts.values():
        for day, count in item.event_days.items():
            event_days[day] = event_days.get(day, 0) + count
    return {
        "ledger": LEDGER_VERSION,
        "source": source.name,
        "run_id": arguments.run_id,
        "ods_table": source.name,
        "partition_keys": list(keys),
        # What a crawler infers from the Parquet (Spark's simpleString is the Hive type).
        "columns": [{"name": n, "type": t} for n, t in declared_columns(source)],
        "partitions": partitions,
        "event_days": dict(sorted(event_days.items())),
        "new_events": sum(event_days.values())
        + sum(item.unparsable_event_times for item in facts.values()),
        "unparsable_event_times": sum(item.unparsable_event_times for item in facts.values()),
        "malformed_lines": sum(item.malformed_lines for item in facts.values()),
    }


def write_ledger_entry(
    filesystem: HadoopFileSystem, arguments: JobArguments, source: SourceSpec, entry: Any
) -> None:
    """Side effect: the source's ledger entry of this run (one object, replaced whole)."""
    filesystem.write_text(ledger_entry_path(arguments, source), json.dumps(entry, indent=2) + "\n")


def record_partitions(
    filesystem: HadoopFileSystem,
    arguments: JobArguments,
    plan: SourcePlan,
    conversion: SourceConversion,
) -> None:
    """Side effect: each converted partition's `_SOURCES`, last: a partition is taken as
    converted once its data and the ledger entry naming it are completely written."""
    source = plan.source
    ods_root = ods_root_of(arguments, source)
    for work in plan.work:
        record_path = partition_path(ods_root, source.partition_keys, work.values)
        filesystem.write_text(
            f"{record_path}/{SOURCES_FILE}",
            sources_record(work.files, source, arguments.run_id, conversion.facts[work.values]),
        )


# -- the run ---------------------------------------------------------------------------------


def check_time_zones(spark: SparkSession, arguments: JobArguments) -> None:
    """Every zone the run uses, checked with Java's zone rules (what Spark converts with)."""
    zone_id: Any = spark.sparkContext._jvm.java.time.ZoneId  # type: ignore[union-attr]
    zones = {"--time_zone": arguments.time_zone}
    for source in arguments.sources:
        if source.event_time_zone:
            zones[f"source {source.name!r}: event_time time_zone"] = source.event_time_zone
    for label, zone in zones.items():
        try:
            zone_id.of(zone)
        except Exception:  # py4j raises the Java exception wrapped
            raise JobArgumentError(f"{label} {zone!r} is not a time zone") from None


def run(spark: SparkSession, arguments: JobArguments) -> dict[str, dict[str, Any]]:
    """Convert every source's changed partitions; returns the ledger entries written, by
    source (a source without raw data in the window, or without any change, has none)."""
    # The event-time conversions assume it; Glue's default, set so that no setting changes it.
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    # No _SUCCESS marker in the tables' locations: the crawler would take it for data.
    spark.sparkContext._jsc.hadoopConfiguration().set(  # type: ignore[union-attr]
        "mapreduce.fileoutputcommitter.marksuccessfuljobs", "false"
    )
    check_time_zones(spark, arguments)
    filesystem = HadoopFileSystem(spark)
    entries = {}
    for source in arguments.sources:
        plan = plan_source(filesystem, arguments, source)
        conversion = write_ods(spark, filesystem, arguments, plan)
        _log_source(arguments, plan, conversion)
        if not plan.work and not plan.recorded:
            continue
        entry = ledger_entry(arguments, plan, conversion)
        write_ledger_entry(filesystem, arguments, source, entry)
        record_partitions(filesystem, arguments, plan, conversion)
        entries[source.name] = entry
    return entries


def _log_source(arguments: JobArguments, plan: SourcePlan, conversion: SourceConversion) -> None:
    summary = {
        "source": plan.source.name,
        "run_id": arguments.run_id,
        "window": [
            arguments.arrival_start_date.isoformat(),
            arguments.arrival_end_date.isoformat(),
        ],
        "partitions_with_raw_data": plan.partitions_with_raw_data,
        "partitions_converted": len(plan.work),
        "partitions_converted_before": len(plan.recorded),
        "malformed_lines": conversion.malformed_lines,
        "malformed_files": sorted(
            {name for facts in conversion.facts.values() for name in facts.malformed_files}
        ),
    }
    if not plan.partitions_with_raw_data:
        logger.info("no raw data for source %s", json.dumps(summary))
    elif conversion.malformed_lines:
        logger.warning("converted source with malformed lines %s", json.dumps(summary))
    else:
        logger.info("converted source %s", json.dumps(summary))


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    spark = SparkSession.builder.appName("convert_raw").getOrCreate()
    run(spark, arguments)


if __name__ == "__main__":
    main()
