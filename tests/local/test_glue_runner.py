"""The Glue job on local Spark, reading the lake's raw files in place and committing its
output into the object store, every S3 request of the run authorized first; a run that fails
leaves what it wrote, as on S3, and its retry converges."""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from etl_lambdas.catalog import default_sql_root
from etl_lambdas.sources import SOURCES_FILE, job_argument, read_document
from etl_local import glue_runner
from etl_local.glue_access import (
    HourState,
    S3Location,
    read_requests,
    window_hours,
    write_requests,
)
from etl_local.object_store import STAGING_DIR, ObjectStore

RAW_BUCKET, CURATED_BUCKET = "raw-bucket", "curated-bucket"
RAW = S3Location.parse(f"s3://{RAW_BUCKET}/raw/traffic/")
ODS = S3Location.parse(f"s3://{CURATED_BUCKET}/ods/traffic/")
ROLE = "arn:aws:iam::123456789012:role/glue-job"
DAY = "2026-09-07"
HOURS = ("year=2026/month=09/day=07/hour=03", "year=2026/month=09/day=07/hour=04")
TRAFFIC_ONLY = {
    "sources": [
        source
        for source in read_document(default_sql_root() / SOURCES_FILE)["sources"]
        if source["name"] == "traffic"
    ]
}
ENTRY = "ods/traffic/_ledger/runs/r1.json"
ARGUMENTS = {
    "--sources": job_argument(TRAFFIC_ONLY),
    "--raw_root": f"s3://{RAW_BUCKET}/",
    "--ods_root": f"s3://{CURATED_BUCKET}/ods/",
    "--run_id": "r1",
    "--time_zone": "Europe/Brussels",
    "--arrival_start_date": DAY,
    "--arrival_end_date": DAY,
}


class Denied(PermissionError):
    pass


class Recorder:
    """An authorizer that records each request and denies the actions it is told to."""

    def __init__(self, deny: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.requests: list[tuple[str, str, str, dict[str, str]]] = []
        self.deny = deny

    def __call__(
        self, principal: str, action: str, resource: str, context: Mapping[str, str]
    ) -> None:
        self.requests.append((principal, action, resource, dict(context)))
        if action in self.deny:
            raise Denied(f"{principal} may not {action} on {resource}")


def raw_body(hour: str, sensors: int) -> bytes:
    day = hour.split("/")[2].split("=")[1]
    hh = hour.split("=")[-1]
    lines = [
        json.dumps(
            {
                "uniqueId": str(1000 + n),
                "recordTimestamp": f"2026-09-{day}T{hh}:0{n}:00+00:00",
                "currentSpeed": 80 + n,
                "segment": "E40 Gent-Brussel",
            }
        )
        for n in range(sensors)
    ]
    return gzip.compress(("\n".join(lines) + "\n").encode())


@pytest.fixture
def lake(tmp_path: Path) -> ObjectStore:
    store = ObjectStore(tmp_path / "s3")
    for bucket in (RAW_BUCKET, CURATED_BUCKET):
        store.create_bucket(bucket, "123456789012", "eu-west-1")
    for hour in HOURS:
        store.put_bytes(RAW_BUCKET, f"raw/traffic/{hour}/part-0.json.gz", raw_body(hour, 3))
    return store


def states(store: ObjectStore) -> list[HourState]:
    return [
        HourState(
            hour,
            tuple(o.key for o in store.list_prefix(RAW_BUCKET, RAW.key(hour) + "/")),
            tuple(o.key for o in store.list_prefix(CURATED_BUCKET, ODS.key(hour) + "/")),
        )
        for hour in window_hours(date.fromisoformat(DAY), date.fromisoformat(DAY))
    ]


def as_tuples(requests: list[Any]) -> list[tuple[str, str, str, dict[str, str]]]:
    return [(ROLE, r.action, r.resource, dict(r.context)) for r in requests]


@pytest.mark.spark
def test_a_run_writes_its_hours_in_place_after_authorizing_its_requests(
    lake: ObjectStore, tmp_path: Path
) -> None:
    before = states(lake)
    recorder = Recorder()
    archive = tmp_path / "cache" / "spark-classes.jsa"
    job = glue_runner.LocalGlueJob(
        lake, spark_log=tmp_path / "spark.log", authorize=recorder, class_archive=archive
    )

    job.run(ARGUMENTS, principal=ROLE)
    # The first JVM left its class archive for the next ones.
    assert archive.is_file() and list(archive.parent.iterdir()) == [archive]

    written: dict[str, list[str]] = {}
    for hour in HOURS:
        keys = [o.key for o in lake.list_prefix(CURATED_BUCKET, ODS.key(hour) + "/")]
        assert ODS.key(f"{hour}/_SOURCES") in keys
        written[hour] = [k.rsplit("/", 1)[1] for k in keys if not k.endswith("/_SOURCES")]
        assert written[hour] and all(name.endswith(".parquet") for name in written[hour])
        for obj in lake.list_prefix(CURATED_BUCKET, ODS.key(hour) + "/"):
            # The object's body is the file Spark wrote, now at the key's own path.
            assert obj.path == lake.bucket_directory(CURATED_BUCKET) / obj.key
            assert obj.path.stat().st_size == obj.size
    assert recorder.requests == as_tuples(
        read_requests(RAW, ODS, before)
        + write_requests(ODS, written, before, ledger_entries=["r1.json"])
    )
    # The ledger entry names the partitions by their S3 locations.
    entry = json.loads(lake.get(CURATED_BUCKET, ENTRY).path.read_text())  # type: ignore[union-attr]
    assert sorted(p["location"] for p in entry["partitions"]) == [
        f"s3://{CURATED_BUCKET}/ods/traffic/{hour}/" for hour in HOURS
    ]
    assert list((lake.root / STAGING_DIR).iterdir()) == []

    # Nothing changed in the raw data: the next run reads and probes, and writes nothing.
    unchanged = {o.key: o.last_modified for o in lake.list_prefix(CURATED_BUCKET)}
    recorder.requests.clear()
    job.run({**ARGUMENTS, "--run_id": "r2"}, principal=ROLE)
    assert {o.key: o.last_modified for o in lake.list_prefix(CURATED_BUCKET)} == unchanged
    assert recorder.requests == as_tuples(read_requests(RAW, ODS, states(lake)))


def test_a_denied_read_fails_the_run_before_spark_starts(
    lake: ObjectStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(glue_runner, "spark_session", _must_not_start)
    job = glue_runner.LocalGlueJob(lake, authorize=Recorder(deny={"s3:GetObject"}))

    with pytest.raises(Denied):
        job.run(ARGUMENTS, principal=ROLE)
    assert lake.list_prefix(CURATED_BUCKET) == []


@pytest.mark.spark
def test_a_denied_write_commits_nothing(lake: ObjectStore, tmp_path: Path) -> None:
    job = glue_runner.LocalGlueJob(
        lake, spark_log=tmp_path / "spark.log", authorize=Recorder(deny={"s3:PutObject"})
    )

    with pytest.raises(Denied):
        job.run(ARGUMENTS, principal=ROLE)
    assert lake.list_prefix(CURATED_BUCKET) == []
    assert not (lake.bucket_directory(CURATED_BUCKET) / "ods").exists()
    assert list((lake.root / STAGING_DIR).iterdir()) == []


def _must_not_start(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("Spark was started although a read was denied")


@pytest.mark.spark
def test_a_run_that_dies_leaves_what_it_wrote_and_its_retry_converges(
    lake: ObjectStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a job run that dies after its ODS write and its ledger entry, before any record
    load = glue_runner._load_script

    def crashing(path: Path) -> Any:
        script = load(path)

        def record_partitions(*args: Any) -> None:
            raise RuntimeError("injected crash before the records")

        script.record_partitions = record_partitions
        return script

    monkeypatch.setattr(glue_runner, "_load_script", crashing)
    job = glue_runner.LocalGlueJob(lake, spark_log=tmp_path / "spark.log")
    with pytest.raises(RuntimeError, match="injected crash"):
        job.run(ARGUMENTS, principal=ROLE)

    # then, as on S3, the lake holds the partitions' data and the entry, and no record
    keys = {o.key for o in lake.list_prefix(CURATED_BUCKET)}
    assert ENTRY in keys
    assert all(any(k.startswith(ODS.key(h) + "/part-") for k in keys) for h in HOURS)
    assert not [k for k in keys if k.endswith("/_SOURCES")]
    assert list((lake.root / STAGING_DIR).iterdir()) == []

    # and the retry (same run id) converts them again and records them, the entry unchanged
    monkeypatch.setattr(glue_runner, "_load_script", load)
    first = json.loads(lake.get(CURATED_BUCKET, ENTRY).path.read_text())  # type: ignore[union-attr]
    job.run(ARGUMENTS, principal=ROLE)
    keys = {o.key for o in lake.list_prefix(CURATED_BUCKET)}
    assert {ODS.key(f"{h}/_SOURCES") for h in HOURS} <= keys
    assert json.loads(lake.get(CURATED_BUCKET, ENTRY).path.read_text()) == first  # type: ignore[union-attr]
