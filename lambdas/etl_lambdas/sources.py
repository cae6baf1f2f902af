"""The source declarations: which raw datasets the pipeline converts, and how.

`sql/sources.yaml` is the one place that says what a source is: where its raw files arrive
(a prefix in the raw bucket and the arrival partitioning under it), their format, the columns
of its ODS table with their Athena types and raw field names, and which column holds the event
time. Terraform reads the same file (`yamldecode`) for the crawlers, the Glue job's arguments
and the IAM prefixes; the Glue job receives it as JSON; this module reads and validates it, so
that a bad entry fails with one error naming the problem, before anything runs.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SOURCES_FILE = "sources.yaml"
T = TypeVar("T")
# Raw files arrive under <raw_prefix>year=YYYY/month=MM/day=DD[/hour=HH]/ by UTC arrival time;
# the ODS table is partitioned the same way.
ARRIVAL_PARTITIONS: dict[str, tuple[str, ...]] = {
    "hourly": ("year", "month", "day", "hour"),
    "daily": ("year", "month", "day"),
}
FORMATS = ("json", "csv", "parquet")
# Hive DDL types (what Glue tables and the crawler use) that Spark writes to Parquet as such:
# the ODS schema a crawler infers is then exactly the declared one.
SCALAR_TYPES = (
    *("boolean", "tinyint", "smallint", "int", "bigint", "float", "double"),
    *("string", "date", "timestamp", "binary"),
)
_DECIMAL = re.compile(r"^decimal\((\d+),\s*(\d+)\)$")
# Spellings Athena does not accept in a table's schema, and what to write instead.
_TYPE_HINTS = {
    "integer": "int (INTEGER is Athena's name in queries; tables use int)",
    "varchar": "string (the job writes Parquet strings, which a crawler reads as string)",
    "char": "string (the job writes Parquet strings, which a crawler reads as string)",
    "text": "string",
    "long": "bigint",
    "real": "float",
    "bool": "boolean",
    "datetime": "timestamp",
}
# The event-time formats, and the column types each can be read from.
EVENT_TIME_FORMATS: dict[str, tuple[str, ...]] = {
    # ISO-8601 date and time, 'T' or space between them, optional fraction, optional offset
    # ('Z', '+01:00', '+0100'); without an offset it is a wall-clock time in time_zone.
    "iso8601": ("string",),
    "epoch_seconds": ("int", "bigint", "double"),
    "epoch_millis": ("bigint", "double"),
}
# Short enough for the resources named after a source: its crawler's IAM role,
# "<project>-<env>-ods-<name>-crawler", must fit IAM's 64 characters.
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,29}$")
# The Glue job writes the event time, typed, beside the declared column: `<column>_utc`, a
# timestamp holding the UTC instant (glue/convert_raw.py writes the same name).
EVENT_INSTANT_SUFFIX = "_utc"
# The Glue job's converter version (glue/convert_raw.py, CONVERTER_VERSION; a test keeps the
# two equal): a partition that another version converted is converted again.
GLUE_CONVERTER_VERSION = "3"
EVENT_INSTANT_TYPE = "timestamp"
_COLUMN = re.compile(r"^[a-z_][a-z0-9_]{0,254}$")
_PREFIX_SEGMENT = re.compile(r"^[A-Za-z0-9._-]+$")
_SOURCE_FIELDS = {
    *("name", "description", "raw_prefix", "arrival", "format", "columns", "event_time"),
    "arrives_by",
}
# A UTC time of day, HH:MM (the freshness check's deadline, see Source.arrives_by).
_TIME_OF_DAY = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_FORMAT_FIELDS = {"type", "delimiter", "header", "null_values"}
# Declared null values: a few short markers ("NA", "", "\\N", "null"), not a list of data.
MAX_NULL_VALUES = 10
MAX_NULL_VALUE_LENGTH = 32
_COLUMN_FIELDS = {"name", "type", "field"}
_EVENT_TIME_FIELDS = {"column", "format", "time_zone"}


class SourceError(ValueError):
    """The source declaration (sources.yaml) is invalid; nothing has been changed.

    `at` is where in the document: the keys and list indexes down to the value at fault
    (e.g. `("sources", 0, "columns", 2, "type")`), so that `etl check` can name its line."""

    def __init__(self, message: str, at: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.at = at

    def within(self, *keys: str | int) -> SourceError:
        """The same error, located inside `keys`."""
        self.at = (*keys, *self.at)
        return self


@dataclass(frozen=True)
class Column:
    """An ODS column: its name and Athena (Hive DDL) type, and the raw field it comes from."""

    name: str
    type: str
    field: str


@dataclass(frozen=True)
class FileFormat:
    """How the raw files are written. Compression is read from the file name (`.gz`, ...)."""

    type: str
    delimiter: str = ","
    # CSV only: with a header, columns are matched to fields by name; without, by position.
    header: bool = True
    # CSV only: the values read as NULL, whatever the column's type (e.g. "NA" in a number
    # column); by default the empty value. JSON has null, Parquet types its values.
    null_values: tuple[str, ...] = ("",)


@dataclass(frozen=True)
class EventTime:
    column: str
    format: str
    # The zone of iso8601 times written without an offset; None for epoch formats.
    time_zone: str | None

    @property
    def instant_column(self) -> str:
        """The ODS column the Glue job writes beside `column`: the UTC instant, typed."""
        return f"{self.column}{EVENT_INSTANT_SUFFIX}"

    @property
    def zone(self) -> str:
        """The source's zone as models read it (`${<source>_time_zone}`): the declared one;
        UTC for epoch times, which are instants."""
        return self.time_zone or "UTC"


@dataclass(frozen=True)
class Source:
    name: str
    description: str
    raw_prefix: str
    arrival: str
    format: FileFormat
    columns: tuple[Column, ...]
    event_time: EventTime
    # "HH:MM" UTC: by then, every arrival partition of the day before holds a file, or the
    # source's freshness alarm fires (None: the deployment's raw_arrival_deadline; Terraform
    # gives the freshness check each source's deadline, docs/contracts.md "Metrics").
    arrives_by: str | None = None

    @property
    def partition_keys(self) -> tuple[str, ...]:
        """The arrival partition columns, of the raw layout and of the ODS table."""
        return ARRIVAL_PARTITIONS[self.arrival]

    @property
    def ods_prefix(self) -> str:
        """Where the Glue job writes the ODS table, in the curated bucket."""
        return f"ods/{self.name}/"

    @property
    def table(self) -> str:
        """The ODS table's name in the `<glue_prefix>_ods` database."""
        return self.name

    @property
    def ods_columns(self) -> tuple[Column, ...]:
        """The ODS table's data columns as the Glue job writes them: the declared ones, then
        the typed event time (the partition keys follow them)."""
        instant = self.event_time.instant_column
        return (*self.columns, Column(name=instant, type=EVENT_INSTANT_TYPE, field=instant))


@dataclass(frozen=True)
class Sources:
    path: Path | None
    sources: tuple[Source, ...]

    def __iter__(self) -> Iterator[Source]:
        return iter(self.sources)

    def names(self) -> list[str]:
        return [source.name for source in self.sources]

    def time_zone_placeholders(self) -> dict[str, str]:
        """`${<source>_time_zone}` for every source, the zone its event times were declared in
        (README, "Adding a model")."""
        return {f"{source.name}_time_zone": source.event_time.zone for source in self.sources}

    def get(self, name: str) -> Source:
        for source in self.sources:
            if source.name == name:
                return source
        raise SourceError(f"unknown source {name!r}; declared: {', '.join(self.names())}")


def read_document(path: Path) -> dict[str, Any]:
    """The declaration as YAML gives it (what Terraform's yamldecode gives too)."""
    import yaml  # the Glue job never imports this module; the Lambdas and the CLI do

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourceError(f"{path}: no such file") from None
    except yaml.YAMLError as error:
        raise SourceError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(document, dict):
        raise SourceError(f"{path}: expected a mapping with a 'sources' list")
    return document


def load_sources(path: Path) -> Sources:
    """Read and validate a declaration file; raises SourceError naming the first problem."""
    return parse_sources(read_document(path), path)


class JobArgument:
    """The Glue job's argument names (docs/contracts.md, "Glue job"), in Glue's `--name value`
    convention. The job's default arguments are set once with the job (Terraform's
    modules/glue_job; locally `default_job_arguments`); each run adds its arrival window, its
    run id, which names its ledger entries (`run_job_arguments`, the begin step). The job's
    script, glue/convert_raw.py, is deployed as one file and cannot import this module: it
    spells the names itself, and its tests give it arguments built here."""

    SOURCES = "--sources"
    RAW_ROOT = "--raw_root"
    ODS_ROOT = "--ods_root"
    TIME_ZONE = "--time_zone"
    ARRIVAL_START_DATE = "--arrival_start_date"
    ARRIVAL_END_DATE = "--arrival_end_date"
    RUN_ID = "--run_id"


def job_argument(document: Mapping[str, Any]) -> str:
    """The Glue job's `--sources` value: the declaration as base64 of its JSON form, so that
    the value holds no quotes, braces or newlines (Terraform: base64encode(jsonencode(...)))."""
    return base64.b64encode(json.dumps(document).encode("utf-8")).decode("ascii")


def default_job_arguments(
    document: Mapping[str, Any], *, raw_root: str, ods_root: str, time_zone: str
) -> dict[str, str]:
    """The job's own arguments (the job's configuration, the same for every run)."""
    return {
        JobArgument.SOURCES: job_argument(document),
        JobArgument.RAW_ROOT: raw_root,
        JobArgument.ODS_ROOT: ods_root,
        JobArgument.TIME_ZONE: time_zone,
    }


def run_job_arguments(
    *, arrival_start_date: str, arrival_end_date: str, run_id: str
) -> dict[str, str]:
    """What one run adds to the job's default arguments (Glue merges them over the defaults).
    The run id names the run's ledger entries: a retry of the job, with the same run id,
    writes the same ones."""
    return {
        JobArgument.ARRIVAL_START_DATE: arrival_start_date,
        JobArgument.ARRIVAL_END_DATE: arrival_end_date,
        JobArgument.RUN_ID: run_id,
    }


def _without_nulls(value: Any) -> Any:
    """Terraform gives an optional object attribute left out the value null, and jsonencode
    writes it ("Type Constraints: Optional Object Type Attributes", Terraform docs): the
    job's `--sources` then holds `"field": null` where the file has no `field`. A null is
    read as an absent attribute."""
    if isinstance(value, Mapping):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def parse_sources(document: Mapping[str, Any], path: Path | None = None) -> Sources:
    where = str(path) if path is not None else "sources"
    document = _without_nulls(document)
    unknown = set(document) - {"sources"}
    if unknown:
        raise SourceError(f"{where}: unknown top-level field(s) {sorted(unknown)}")
    entries = document.get("sources")
    if not isinstance(entries, list) or not entries:
        raise SourceError(f"{where}: 'sources' must be a non-empty list", ("sources",))
    sources = tuple(
        _located(("sources", index), _parse_source, entry, where)
        for index, entry in enumerate(entries)
    )
    _check_unique(sources, where)
    return Sources(path=path, sources=sources)


def _located(keys: tuple[str | int, ...], parse: Callable[..., T], *args: Any) -> T:
    """`parse(*args)`, its SourceError located inside `keys`."""
    try:
        return parse(*args)
    except SourceError as error:
        raise error.within(*keys) from None


def _parse_source(entry: object, where: str) -> Source:
    if not isinstance(entry, dict):
        raise SourceError(f"{where}: each source must be a mapping, got {entry!r}")
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise SourceError(f"{where}: source name {name!r} must match {_NAME.pattern}", ("name",))
    here = f"{where}: source {name!r}"
    _no_unknown(entry, _SOURCE_FIELDS, here)
    description = entry.get("description", "")
    if not isinstance(description, str):
        raise SourceError(f"{here}: description must be a string", ("description",))
    arrival = entry.get("arrival")
    if arrival not in ARRIVAL_PARTITIONS:
        raise SourceError(
            f"{here}: arrival {arrival!r} must be one of {list(ARRIVAL_PARTITIONS)}", ("arrival",)
        )
    columns = _located(
        ("columns",), _parse_columns, entry.get("columns"), ARRIVAL_PARTITIONS[arrival], here
    )
    file_format = _located(("format",), _parse_format, entry.get("format"), here)
    if not file_format.header and any(c.field != c.name for c in columns):
        field_at = next(n for n, c in enumerate(columns) if c.field != c.name)
        raise SourceError(
            f"{here}: a CSV without a header maps columns by position; remove 'field'",
            ("columns", field_at, "field"),
        )
    return Source(
        name=name,
        description=description,
        raw_prefix=_located(("raw_prefix",), _parse_prefix, entry.get("raw_prefix"), here),
        arrival=arrival,
        format=file_format,
        columns=columns,
        event_time=_located(
            ("event_time",), _parse_event_time, entry.get("event_time"), columns, here
        ),
        arrives_by=_located(
            ("arrives_by",), _parse_time_of_day, entry.get("arrives_by"), f"{here}: arrives_by"
        ),
    )


def _parse_time_of_day(value: object, here: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _TIME_OF_DAY.match(value):
        raise SourceError(f'{here} {value!r} must be a UTC time of day "HH:MM", e.g. "02:00"')
    return value


def _no_unknown(entry: Mapping[str, object], known: set[str], here: str) -> None:
    unknown = set(entry) - known
    if unknown:
        raise SourceError(f"{here}: unknown field(s) {sorted(unknown)}", (sorted(unknown)[0],))


def _parse_prefix(value: object, here: str) -> str:
    if not isinstance(value, str) or not value.endswith("/") or value.startswith("/"):
        raise SourceError(
            f"{here}: raw_prefix {value!r} must be a key prefix ending in '/', e.g. 'raw/name/'"
        )
    segments = value[:-1].split("/")
    bad = [s for s in segments if not _PREFIX_SEGMENT.match(s) or s in (".", "..")]
    if bad:
        raise SourceError(
            f"{here}: raw_prefix {value!r} has an invalid folder {bad[0]!r} (letters, digits, "
            "'.', '_', '-'; no '=': key=value folders are the arrival partitions under it)"
        )
    return value


def _parse_format(value: object, here: str) -> FileFormat:
    if not isinstance(value, dict):
        raise SourceError(f"{here}: format must be a mapping with a 'type'")
    _no_unknown(value, _FORMAT_FIELDS, f"{here}: format")
    kind = value.get("type")
    if kind not in FORMATS:
        raise SourceError(f"{here}: unknown format {kind!r}; one of {list(FORMATS)}", ("type",))
    if kind != "csv":
        extra = sorted(set(value) - {"type"})
        if extra:
            reason = " (JSON has null; Parquet types its values)" if "null_values" in extra else ""
            raise SourceError(
                f"{here}: format {kind!r} takes no {extra} (CSV only){reason}", (extra[0],)
            )
        return FileFormat(type=kind)
    delimiter = value.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '\r\n"':
        raise SourceError(
            f"{here}: CSV delimiter {delimiter!r} must be one character", ("delimiter",)
        )
    header = value.get("header", True)
    if not isinstance(header, bool):
        raise SourceError(f"{here}: CSV header {header!r} must be true or false", ("header",))
    null_values = _parse_null_values(value.get("null_values", [""]), delimiter, here)
    return FileFormat(type="csv", delimiter=delimiter, header=header, null_values=null_values)


def _parse_null_values(value: object, delimiter: str, here: str) -> tuple[str, ...]:
    """A short list of distinct strings, none holding the delimiter, a quote or a line break
    (no CSV field could then hold it unquoted)."""
    where = f"{here}: null_values {value!r}"
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise SourceError(f'{where} must be a list of strings, e.g. ["NA", ""]', ("null_values",))
    if len(value) > MAX_NULL_VALUES or len(set(value)) != len(value):
        raise SourceError(
            f"{where} must be at most {MAX_NULL_VALUES} distinct strings", ("null_values",)
        )
    for item in value:
        if len(item) > MAX_NULL_VALUE_LENGTH or any(
            c in item for c in (delimiter, '"', "\r", "\n")
        ):
            raise SourceError(
                f"{where}: {item!r} must be at most {MAX_NULL_VALUE_LENGTH} characters, without "
                "the delimiter, quotes or line breaks",
                ("null_values",),
            )
    return tuple(value)


def _parse_columns(value: object, partition_keys: tuple[str, ...], here: str) -> tuple[Column, ...]:
    if not isinstance(value, list) or not value:
        raise SourceError(f"{here}: columns must be a non-empty list")
    columns: list[Column] = []
    for index, item in enumerate(value):
        try:
            columns.append(_parse_column(item, columns, partition_keys, here))
        except SourceError as error:
            raise error.within(index) from None
    return tuple(columns)


def _parse_column(
    item: object, columns: list[Column], partition_keys: tuple[str, ...], here: str
) -> Column:
    if not isinstance(item, dict):
        raise SourceError(f"{here}: each column must be a mapping, got {item!r}")
    name = item.get("name")
    if not isinstance(name, str) or not _COLUMN.match(name):
        raise SourceError(f"{here}: column name {name!r} must match {_COLUMN.pattern}", ("name",))
    _no_unknown(item, _COLUMN_FIELDS, f"{here}: column {name!r}")
    if name in partition_keys:
        raise SourceError(
            f"{here}: column {name!r} is also an arrival partition key {list(partition_keys)}",
            ("name",),
        )
    if any(column.name == name for column in columns):
        raise SourceError(f"{here}: column {name!r} is declared twice", ("name",))
    field = item.get("field", name)
    if not isinstance(field, str) or not field:
        raise SourceError(f"{here}: column {name!r}: field {field!r} must be a string", ("field",))
    reader = next((column for column in columns if column.field == field), None)
    if reader is not None:
        raise SourceError(
            f"{here}: columns {reader.name!r} and {name!r} both read field {field!r}",
            ("field" if "field" in item else "name",),
        )
    column_type = _located(("type",), _athena_type, item.get("type"), f"{here}: column {name!r}")
    return Column(name=name, type=column_type, field=field)


def _athena_type(value: object, here: str) -> str:
    if not isinstance(value, str):
        raise SourceError(f"{here}: type {value!r} must be a string such as 'string' or 'int'")
    text = value.strip().lower()
    if text in SCALAR_TYPES:
        return text
    decimal = _DECIMAL.match(text)
    if decimal:
        precision, scale = int(decimal.group(1)), int(decimal.group(2))
        if not 1 <= precision <= 38 or scale > precision:
            raise SourceError(
                f"{here}: {value!r} needs 1 <= precision <= 38 and scale <= precision"
            )
        return f"decimal({precision},{scale})"
    hint = _TYPE_HINTS.get(text.partition("(")[0])
    if hint:
        raise SourceError(f"{here}: Athena tables have no type {value!r}; write {hint}")
    raise SourceError(
        f"{here}: Athena has no column type {value!r}; "
        f"one of {', '.join(SCALAR_TYPES)}, decimal(p,s)"
    )


def _parse_event_time(value: object, columns: tuple[Column, ...], here: str) -> EventTime:
    if not isinstance(value, dict):
        raise SourceError(f"{here}: event_time must be a mapping with column, format, time_zone")
    _no_unknown(value, _EVENT_TIME_FIELDS, f"{here}: event_time")
    name = value.get("column")
    column = next((c for c in columns if c.name == name), None)
    if column is None:
        raise SourceError(
            f"{here}: event_time column {name!r} is not one of the columns", ("column",)
        )
    instant = f"{column.name}{EVENT_INSTANT_SUFFIX}"
    if any(c.name == instant for c in columns):
        raise SourceError(
            f"{here}: column {instant!r} is the typed event time the Glue job writes beside "
            f"{column.name!r}; rename the declared one",
            ("column",),
        )
    time_format = value.get("format")
    if time_format not in EVENT_TIME_FORMATS:
        raise SourceError(
            f"{here}: event_time format {time_format!r} must be one of {list(EVENT_TIME_FORMATS)}",
            ("format",),
        )
    if column.type not in EVENT_TIME_FORMATS[time_format]:
        raise SourceError(
            f"{here}: event_time format {time_format!r} reads a column of type "
            f"{' or '.join(EVENT_TIME_FORMATS[time_format])}, not {column.type!r}",
            ("format",),
        )
    zone = value.get("time_zone")
    if time_format != "iso8601":
        if zone is not None:
            raise SourceError(
                f"{here}: {time_format} times are UTC instants; remove time_zone", ("time_zone",)
            )
        return EventTime(column=column.name, format=time_format, time_zone=None)
    if not isinstance(zone, str) or not _is_time_zone(zone):
        raise SourceError(
            f"{here}: event_time time_zone {zone!r} must be an IANA zone such as "
            "'Europe/Brussels' or 'UTC' (the zone of times written without an offset)",
            ("time_zone",),
        )
    return EventTime(column=column.name, format=time_format, time_zone=zone)


def _is_time_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _check_unique(sources: tuple[Source, ...], where: str) -> None:
    seen: dict[str, Source] = {}
    for index, source in enumerate(sources):
        if source.name in seen:
            raise SourceError(
                f"{where}: source {source.name!r} is declared twice", ("sources", index, "name")
            )
        for other in seen.values():
            if source.raw_prefix.startswith(other.raw_prefix) or other.raw_prefix.startswith(
                source.raw_prefix
            ):
                raise SourceError(
                    f"{where}: sources {other.name!r} and {source.name!r} have overlapping raw "
                    f"prefixes {other.raw_prefix!r} and {source.raw_prefix!r}: each raw file "
                    "must belong to one source",
                    ("sources", index, "raw_prefix"),
                )
        seen[source.name] = source
