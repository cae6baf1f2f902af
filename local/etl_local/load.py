"""`etl load <source> <path>...`: the user's own raw files into the local raw bucket, laid out
as the source declares (README, "Running locally").

Each file lands at `<raw_prefix><arrival partition>/<its name>`, as a delivery of that source
would: the arrival partition (UTC) is `--arrival` when given, else the `year=/month=/day=
[/hour=]` folders of its path when it has them (a copy of an S3 raw prefix), else the file's
modification time. Folders are read recursively; hidden files (`.x`, `_x`) are left out, as
the Glue job leaves them out.

Every file is checked against the declared format before anything is written: JSON lines
(its first record a JSON object holding declared fields), CSV (its header naming declared
fields in the declared delimiter, or as many fields as columns without a header) or Parquet
(its schema naming declared fields); `.gz` and `.bz2` are decompressed to check. A file
that does not match is one line naming it and the problem, and then nothing is loaded. A
file whose key already holds other bytes is a problem too (a delivery is never rewritten:
the Glue job tells files apart by name and size); the same bytes again are left as they are.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

from etl_lambdas.sources import Source

_ARRIVAL = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:T(\d{2}))?$")
_PARTITION_FOLDER = re.compile(r"^(year|month|day|hour)=(\d+)$")
# What the checks read of a file: enough for its first records, not the whole file.
_SAMPLE_BYTES = 1 << 20
_OPENERS: dict[str, Callable[[IO[bytes]], Any]] = {
    ".gz": lambda raw: gzip.GzipFile(fileobj=raw),
    ".bz2": lambda raw: bz2.BZ2File(raw),
}
# Compression codecs Hadoop would read by extension, which this loader cannot check.
_UNCHECKED = (".zst", ".lz4", ".snappy", ".deflate", ".zip", ".xz")


class LoadError(ValueError):
    """A bad argument to `etl load` (not a file's problem): one line."""


@dataclass(frozen=True)
class Arrival:
    """A UTC arrival hour (hourly sources) or day (daily sources)."""

    day: date
    hour: int | None

    @classmethod
    def parse(cls, text: str) -> Arrival:
        found = _ARRIVAL.match(text)
        try:
            if not found:
                raise ValueError
            hour = None if found[2] is None else int(found[2])
            if hour is not None and not 0 <= hour <= 23:
                raise ValueError
            return cls(date.fromisoformat(found[1]), hour)
        except ValueError:
            raise LoadError(
                f"--arrival {text!r} is not a UTC arrival day or hour (YYYY-MM-DD or YYYY-MM-DDTHH)"
            ) from None

    @classmethod
    def of(cls, moment: datetime) -> Arrival:
        utc = moment.astimezone(UTC)
        return cls(utc.date(), utc.hour)

    def folder(self, source: Source) -> str:
        folder = f"year={self.day:%Y}/month={self.day:%m}/day={self.day:%d}/"
        if source.arrival == "hourly":
            folder += f"hour={self.hour or 0:02d}/"
        return folder

    def label(self, source: Source) -> str:
        if source.arrival == "hourly":
            return f"{self.day.isoformat()}T{self.hour or 0:02d}"
        return self.day.isoformat()


@dataclass(frozen=True)
class Upload:
    path: Path
    key: str
    arrival: Arrival
    size: int


@dataclass(frozen=True)
class LoadPlan:
    uploads: tuple[Upload, ...]
    problems: tuple[str, ...]
    # files whose key already holds the same bytes (loaded before)
    already_loaded: int = 0


def files_under(paths: Sequence[Path]) -> tuple[list[tuple[Path, Path]], list[str]]:
    """(file, the folder it was found under) for every path; problems for missing paths."""
    found: list[tuple[Path, Path]] = []
    problems: list[str] = []
    for path in paths:
        if path.is_file():
            found.append((path, path.parent))
        elif path.is_dir():
            files = sorted(
                f
                for f in path.rglob("*")
                if f.is_file()
                and not any(part.startswith((".", "_")) for part in f.relative_to(path).parts)
            )
            if not files:
                problems.append(f"{path}: the folder holds no files")
            found.extend((f, path) for f in files)
        else:
            problems.append(f"{path}: no such file or folder")
    return found, problems


def arrival_of(file: Path, base: Path, source: Source) -> Arrival | None:
    """The arrival partition named by the `year=/month=/day=[/hour=]` folders of the file's
    path below where it was found, when it has them all."""
    values: dict[str, int] = {}
    for part in file.relative_to(base).parts[:-1]:
        found = _PARTITION_FOLDER.match(part)
        if found:
            values[found[1]] = int(found[2])
    if not all(key in values for key in source.partition_keys):
        return None
    try:
        day = date(values["year"], values["month"], values["day"])
    except ValueError:
        return None
    return Arrival(day, values.get("hour"))


def plan_load(
    source: Source,
    paths: Sequence[Path],
    arrival: Arrival | None,
    existing: Callable[[str], str | None],
) -> LoadPlan:
    """Where each file goes and what is wrong with any of them. `existing(key)` is the MD5
    (hex) of the object already at a key, None when there is none."""
    if arrival is not None and arrival.hour is not None and source.arrival == "daily":
        raise LoadError(f"source {source.name!r} arrives daily: --arrival takes a day (YYYY-MM-DD)")
    files, problems = files_under(paths)
    uploads: list[Upload] = []
    keys: dict[str, Path] = {}
    already = 0
    for file, base in files:
        problem = format_problem(file, source)
        if problem:
            problems.append(f"{file}: {problem}")
            continue
        when = arrival or arrival_of(file, base, source)
        if when is None:
            when = Arrival.of(datetime.fromtimestamp(file.stat().st_mtime, UTC))
        key = f"{source.raw_prefix}{when.folder(source)}{file.name}"
        if key in keys:
            problems.append(f"{file}: {keys[key]} goes to the same key {key}; rename one")
            continue
        keys[key] = file
        digest = existing(key)
        if digest is not None:
            if digest == md5_of(file):
                already += 1  # loaded before: the same delivery
                continue
            problems.append(
                f"{file}: {key} already holds another file of that name (a delivery is never "
                "rewritten); rename it or load it into another --arrival"
            )
            continue
        uploads.append(Upload(file, key, when, file.stat().st_size))
    return LoadPlan(tuple(uploads), tuple(problems), already)


def md5_of(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- format checks -----------------------------------------------------------------------------


def format_problem(path: Path, source: Source) -> str | None:
    """What keeps a file from being one of the source's raw files, or None."""
    suffix = path.suffix.lower()
    if suffix in _UNCHECKED:
        return f"{suffix} files cannot be checked here; load it uncompressed, .gz or .bz2"
    if path.stat().st_size == 0:
        return "the file is empty"
    kind = source.format.type
    try:
        if kind == "parquet":
            return _parquet_problem(path, source)
        with _open(path) as stream:
            sample = stream.read(_SAMPLE_BYTES)
    except (OSError, EOFError, ValueError) as error:
        return f"cannot be read as {suffix or 'plain'}: {' '.join(str(error).split())}"
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as error:
        # a sample may end inside a character; anything before that must decode
        if error.start < len(sample) - 4:
            return f"is not UTF-8 text (byte {error.start}): not a {kind} file"
        text = sample[: error.start].decode("utf-8")
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return "holds no lines"
    if kind == "json":
        return _json_problem(lines[0], source)
    return _csv_problem(lines[0], source)


def _open(path: Path) -> Any:
    opener = _OPENERS.get(path.suffix.lower())
    raw = path.open("rb")
    return opener(raw) if opener else raw


def _declared_fields(source: Source) -> list[str]:
    return [column.field for column in source.columns]


def _json_problem(first: str, source: Source) -> str | None:
    try:
        record = json.loads(first)
    except ValueError:
        return f"its first line is not JSON: {first[:60]!r} (the source is declared as JSON lines)"
    if not isinstance(record, dict):
        return "its first line is not a JSON object (JSON lines: one object per line)"
    if not set(record) & set(_declared_fields(source)):
        return _none_declared(list(record), source)
    return None


def _csv_problem(first: str, source: Source) -> str | None:
    delimiter = source.format.delimiter
    header = next(csv.reader([first], delimiter=delimiter))
    if not source.format.header:
        if len(header) != len(source.columns):
            return (
                f"its first line has {len(header)} fields; the source declares "
                f"{len(source.columns)} columns, read by position (delimiter {delimiter!r})"
            )
        return None
    if set(header) & set(_declared_fields(source)):
        return None
    others = [d for d in (",", ";", "\t", "|") if d != delimiter and d in first]
    hint = f"; it looks {others[0]!r}-delimited" if others else ""
    return _none_declared(header, source) + f" (delimiter {delimiter!r}{hint})"


def _parquet_problem(path: Path, source: Source) -> str | None:
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except Exception as error:  # pyarrow raises ArrowInvalid and others for a non-Parquet file
        return f"is not a Parquet file: {' '.join(str(error).split())[:120]}"
    if not set(schema.names) & set(_declared_fields(source)):
        return _none_declared(schema.names, source)
    return None


def _none_declared(found: Sequence[str], source: Source) -> str:
    shown = ", ".join(found[:6]) + (", ..." if len(found) > 6 else "")
    return (
        f"none of its fields ({shown}) is a field the source {source.name!r} declares "
        f"({', '.join(_declared_fields(source))})"
    )


def by_partition(uploads: Iterable[Upload], source: Source) -> dict[str, list[Upload]]:
    """The uploads grouped by arrival partition (its label), in time order."""
    partitions: dict[str, list[Upload]] = {}
    for upload in sorted(uploads, key=lambda u: (u.arrival.label(source), u.key)):
        partitions.setdefault(upload.arrival.label(source), []).append(upload)
    return partitions
