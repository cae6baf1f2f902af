"""The S3 requests one run of the Glue job makes, as Spark's S3 filesystem makes them on Glue.

Locally the job's Spark reads the raw object files in place and writes its output into a
staging directory that is then committed to the bucket (etl_local.glue_runner), so no S3
request is ever sent. IAM must still judge the run as AWS would: this module lists, in one
place, the requests of a run, and the runner has the authorizer evaluate them before the
job reads anything (`read_requests`) and before its output is committed (`write_requests`).

The job's contract (docs/contracts.md, "Raw events and the ODS table", "The ledger"): for
each UTC arrival hour `year=YYYY/month=MM/day=DD/hour=HH` of its window it lists the raw
objects of the hour and reads the hour's `_SOURCES` in the output (absent until the hour is
first converted); an hour whose raw objects changed is read and its output folder replaced
(old objects deleted, new files written); then the source's ledger entry of the run is
written (`_ledger/runs/<run id>.json` under the output), then each such hour's `_SOURCES`.

How those operations become requests follows Hadoop's S3A connector, documented in the
hadoop-aws documentation ("Controlling the S3A Directory Marker Behavior") and in the cost
model its tests hold it to (org.apache.hadoop.fs.s3a.performance.OperationCost):
- getFileStatus(path) / exists(path): HEAD of the path's key (no trailing slash, "file
  probe"); when no object has that key, LIST of `<key>/` with max-keys 1 ("directory
  probe"): the path is a directory if anything is under it;
- listStatus(dir): LIST of `<key>/` with delimiter "/"; a recursive listing, without;
- open + read: GET of the object (HEAD and GET are both s3:GetObject);
- create(path, overwrite=true): the directory probe only (LIST `<key>/`), then PUT;
- delete(dir, recursive): getFileStatus, LIST of everything under `<key>/`, then a
  DeleteObjects request, authorized per key as s3:DeleteObject;
- writing under an output path probes the path itself and, up the tree, each parent
  "directory" key with a HEAD (a parent that is a file is an error).
Output files are written to their final keys: Glue's EMRFS S3-optimized commit protocol
commits dynamic partition overwrites without renames (Amazon EMR Release Guide, "Use the
EMRFS S3-optimized commit protocol").

Which hours the job converts is decided inside the job (its incremental check on
`_SOURCES`), after reading has begun; the read requests therefore include the GET of every
raw object of the window's hours, which the job may read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from etl_local.object_access import S3Request, split_s3_uri

# The job's record of what each output hour was made from.
SOURCES_FILE = "_SOURCES"


@dataclass(frozen=True)
class S3Location:
    """A job's path argument: a bucket and a key prefix without trailing slash."""

    bucket: str
    prefix: str

    @staticmethod
    def parse(uri: str) -> S3Location:
        bucket, prefix = split_s3_uri(uri)
        return S3Location(bucket, prefix.rstrip("/"))

    def key(self, relative: str = "") -> str:
        if not relative:
            return self.prefix
        return f"{self.prefix}/{relative}" if self.prefix else relative


@dataclass(frozen=True)
class HourState:
    """What the lake holds for one arrival hour of the window before the run."""

    hour: str  # the hour's relative folder, e.g. "year=2026/month=09/day=07/hour=03"
    raw_keys: tuple[str, ...]  # every raw object under the hour, in key order
    output_keys: tuple[str, ...]  # every output object under the hour (its _SOURCES included)

    @property
    def has_sources(self) -> bool:
        return any(key.rsplit("/", 1)[-1] == SOURCES_FILE for key in self.output_keys)


def window_hours(first: date, last: date) -> list[str]:
    """Every UTC arrival hour folder of the window, in order."""
    return window_partitions(first, last, "hourly")


def window_partitions(first: date, last: date, arrival: str) -> list[str]:
    """Every UTC arrival partition folder of the window, in order: hours for an hourly
    source, days for a daily one (sql/sources.yaml, `arrival`)."""
    folders: list[str] = []
    day = first
    while day <= last:
        folder = f"year={day:%Y}/month={day:%m}/day={day:%d}"
        if arrival == "hourly":
            folders.extend(f"{folder}/hour={hour:02d}" for hour in range(24))
        else:
            folders.append(folder)
        day += timedelta(days=1)
    return folders


def _file_status(bucket: str, key: str, *, exists_as_object: bool) -> list[S3Request]:
    """getFileStatus: the file probe, then the directory probe unless an object has the key."""
    requests = [S3Request.head_object(bucket, key)]
    if not exists_as_object:
        requests.append(S3Request.list_objects(bucket, key + "/", max_keys=1))
    return requests


def _parent_keys(key: str) -> list[str]:
    parts = key.split("/")
    return ["/".join(parts[:index]) for index in range(len(parts) - 1, 0, -1)]


def read_requests(
    raw: S3Location, output: S3Location, hours: Sequence[HourState]
) -> list[S3Request]:
    """Requests of the run before its output is written: probing the window, reading every
    hour's _SOURCES, listing and reading the raw objects, probing the output path."""
    requests: list[S3Request] = []
    for state in hours:
        hour_key = raw.key(state.hour)
        requests += _file_status(raw.bucket, hour_key, exists_as_object=False)
        if not state.raw_keys:
            continue  # nothing under the hour: the job skips it
        requests.append(S3Request.list_objects(raw.bucket, hour_key + "/", delimiter="/"))
        sources_key = output.key(f"{state.hour}/{SOURCES_FILE}")
        requests += _file_status(output.bucket, sources_key, exists_as_object=state.has_sources)
        if state.has_sources:
            requests.append(S3Request.get_object(output.bucket, sources_key))
    for state in hours:
        if state.raw_keys:
            hour_key = raw.key(state.hour)
            requests.append(S3Request.list_objects(raw.bucket, hour_key + "/"))
            requests += [S3Request.get_object(raw.bucket, key) for key in state.raw_keys]
    requests += _file_status(output.bucket, output.prefix, exists_as_object=False)
    requests += [S3Request.head_object(output.bucket, key) for key in _parent_keys(output.prefix)]
    return _unique(requests)


def write_requests(
    output: S3Location,
    converted: Mapping[str, Sequence[str]],
    hours: Sequence[HourState],
    ledger_entries: Sequence[str] = (),
) -> list[S3Request]:
    """Requests that replace the converted hours and write the ledger: `converted` maps an
    hour folder to the relative names of the files the job wrote into it (its _SOURCES
    excluded); `ledger_entries` are the names of the entries written under `_ledger/runs/`."""
    before = {state.hour: state.output_keys for state in hours}
    requests: list[S3Request] = []
    for name in ledger_entries:
        key = output.key(f"_ledger/runs/{name}")
        requests.append(S3Request.list_objects(output.bucket, key + "/", max_keys=1))
        requests.append(S3Request.put_object(output.bucket, key))
    for hour in sorted(converted):
        hour_key = output.key(hour)
        existing = before.get(hour, ())
        requests += _file_status(output.bucket, hour_key, exists_as_object=False)
        if existing:
            requests.append(S3Request.list_objects(output.bucket, hour_key + "/"))
            requests += [S3Request.delete_object(output.bucket, key) for key in existing]
        requests += [
            S3Request.put_object(output.bucket, f"{hour_key}/{name}")
            for name in sorted(converted[hour])
        ]
        sources_key = f"{hour_key}/{SOURCES_FILE}"
        requests.append(S3Request.list_objects(output.bucket, sources_key + "/", max_keys=1))
        requests.append(S3Request.put_object(output.bucket, sources_key))
    return _unique(requests)


def _unique(requests: Iterable[S3Request]) -> list[S3Request]:
    """The requests in order, each once (a repeated probe asks IAM the same question)."""
    seen: set[tuple[str, str, str, tuple[tuple[str, str], ...]]] = set()
    unique = []
    for request in requests:
        identity = (
            request.operation,
            request.action,
            request.resource,
            tuple(sorted(request.context.items())),
        )
        if identity not in seen:
            seen.add(identity)
            unique.append(request)
    return unique
