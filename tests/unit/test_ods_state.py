"""Whether the ODS holds every raw file of a window (moto S3): the Glue job's own rule,
read from the `_SOURCES` record of each converted partition; and the begin step's use of it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from etl_lambdas.catalog import load_catalog
from etl_lambdas.ods_state import ods_state
from etl_lambdas.planning import DateRange
from etl_lambdas.sources import GLUE_CONVERTER_VERSION

RAW, CURATED = "lake-raw", "lake-curated"
SOURCES = load_catalog().sources
TRAFFIC, APP = SOURCES.get("traffic"), SOURCES.get("app_activity")
WINDOW = DateRange(date(2026, 11, 19), date(2026, 11, 21))


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-1")
        for bucket in (RAW, CURATED):
            client.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
            )
        yield client


def put_raw(s3: Any, folder: str, name: str, body: bytes = b"{}\n") -> None:
    s3.put_object(Bucket=RAW, Key=f"{folder}{name}", Body=body)


def convert(
    s3: Any, raw_folder: str, ods_folder: str, source: Any = TRAFFIC, **changed: Any
) -> None:
    """What the Glue job leaves in a partition it converted: the record of the raw files, the
    converter's version and the ODS columns (as Spark names their types)."""
    listed = s3.list_objects_v2(Bucket=RAW, Prefix=raw_folder).get("Contents", [])
    files = [{"name": o["Key"].rsplit("/", 1)[1], "size": o["Size"]} for o in listed]
    columns = [{"name": c.name, "type": c.type.replace(" ", "")} for c in source.ods_columns]
    record = {"converter": GLUE_CONVERTER_VERSION, "columns": columns, "files": files, **changed}
    s3.put_object(Bucket=CURATED, Key=f"{ods_folder}_SOURCES", Body=json.dumps(record).encode())


def state(s3: Any, sources: Any = (TRAFFIC, APP)) -> Any:
    return ods_state(s3, raw_bucket=RAW, curated_bucket=CURATED, sources=sources, arrival=WINDOW)


HOUR = "year=2026/month=11/day=20/hour=07/"
DAY = "year=2026/month=11/day=20/"


def test_current_when_every_partition_records_exactly_its_raw_files(s3: Any) -> None:
    put_raw(s3, f"raw/traffic/{HOUR}", "a.json.gz")
    put_raw(s3, f"raw/app_activity/{DAY}", "b.csv.gz", b"user_id\n")
    convert(s3, f"raw/traffic/{HOUR}", f"ods/traffic/{HOUR}")
    convert(s3, f"raw/app_activity/{DAY}", f"ods/app_activity/{DAY}", APP)
    put_raw(s3, f"raw/traffic/{HOUR}", "_hidden")  # the job skips `_` and `.` files too
    # outside the window: not looked at
    put_raw(s3, "raw/traffic/year=2026/month=11/day=23/hour=00/", "late.json.gz")

    found = state(s3)

    assert found.current
    assert found.as_dict() == {
        "current": True, "partitions_with_raw_data": 2, "stale_partitions": {}
    }  # fmt: skip


def test_a_raw_file_the_record_lacks_or_a_partition_without_record_is_stale(s3: Any) -> None:
    put_raw(s3, f"raw/traffic/{HOUR}", "a.json.gz")
    convert(s3, f"raw/traffic/{HOUR}", f"ods/traffic/{HOUR}")
    put_raw(s3, f"raw/traffic/{HOUR}", "b.json.gz")  # arrived after the conversion
    put_raw(s3, "raw/traffic/year=2026/month=11/day=21/hour=00/", "c.json.gz")  # never converted
    put_raw(s3, f"raw/app_activity/{DAY}", "d.csv.gz")
    convert(s3, f"raw/app_activity/{DAY}", f"ods/app_activity/{DAY}", APP)

    found = state(s3)

    assert not found.current
    assert found.stale == {
        "traffic": [HOUR, "year=2026/month=11/day=21/hour=00/"],
        "app_activity": [],
    }
    # only the sources asked about count
    assert state(s3, [APP]).current


def test_a_rewritten_file_of_another_size_is_stale(s3: Any) -> None:
    put_raw(s3, f"raw/traffic/{HOUR}", "a.json.gz")
    convert(s3, f"raw/traffic/{HOUR}", f"ods/traffic/{HOUR}")
    put_raw(s3, f"raw/traffic/{HOUR}", "a.json.gz", b'{"longer": 1}\n')

    assert state(s3, [TRAFFIC]).stale == {"traffic": [HOUR]}


def test_no_raw_data_at_all_is_not_current_the_glue_job_reports_it(s3: Any) -> None:
    found = state(s3)

    assert (found.current, found.partitions_with_raw_data) == (False, 0)


def test_a_partition_another_converter_or_other_columns_made_is_stale(s3: Any) -> None:
    put_raw(s3, f"{TRAFFIC.raw_prefix}{HOUR}", "a.json.gz")
    convert(s3, f"{TRAFFIC.raw_prefix}{HOUR}", f"{TRAFFIC.ods_prefix}{HOUR}")
    assert state(s3, [TRAFFIC]).current
    # an older job (before the typed event time) converted it
    convert(s3, f"{TRAFFIC.raw_prefix}{HOUR}", f"{TRAFFIC.ods_prefix}{HOUR}", converter="2")
    assert state(s3, [TRAFFIC]).stale == {"traffic": [HOUR]}
    # the source's declaration gained a column since
    columns = [{"name": c.name, "type": c.type} for c in TRAFFIC.ods_columns][:-1]
    convert(s3, f"{TRAFFIC.raw_prefix}{HOUR}", f"{TRAFFIC.ods_prefix}{HOUR}", columns=columns)
    assert state(s3, [TRAFFIC]).stale == {"traffic": [HOUR]}


def test_the_converter_version_is_the_glue_jobs() -> None:
    script = (Path(__file__).resolve().parents[2] / "glue" / "convert_raw.py").read_text("utf-8")
    (version,) = re.findall(r'^CONVERTER_VERSION = "([^"]+)"$', script, re.MULTILINE)
    assert version == GLUE_CONVERTER_VERSION
