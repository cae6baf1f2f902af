"""The S3 requests of a Glue job run, as modelled for IAM (etl_local.glue_access)."""

from __future__ import annotations

from datetime import date

from etl_local.glue_access import HourState, S3Location, read_requests, window_hours, write_requests

RAW = S3Location.parse("s3://raw-bucket/raw/traffic/")
ODS = S3Location.parse("s3://curated-bucket/ods/traffic/")
H3 = "year=2026/month=09/day=07/hour=03"
H4 = "year=2026/month=09/day=07/hour=04"
H5 = "year=2026/month=09/day=07/hour=05"


def pairs(requests: list) -> list[tuple[str, str, str, dict[str, str]]]:
    return [(r.operation, r.action, r.resource, dict(r.context)) for r in requests]


def raw_arn(key: str) -> str:
    return f"arn:aws:s3:::raw-bucket/{key}"


def ods_arn(key: str) -> str:
    return f"arn:aws:s3:::curated-bucket/{key}"


def test_a_window_is_every_utc_arrival_hour_of_its_days() -> None:
    hours = window_hours(date(2026, 10, 24), date(2026, 10, 25))
    assert len(hours) == 48  # UTC: a DST change does not change the arrival layout
    assert hours[0] == "year=2026/month=10/day=24/hour=00"
    assert hours[-1] == "year=2026/month=10/day=25/hour=23"


def test_read_requests_probe_every_hour_and_read_what_the_job_may_read() -> None:
    hours = [
        # converted before: its _SOURCES exists
        HourState(
            H3,
            (f"raw/traffic/{H3}/a.gz",),
            (f"ods/traffic/{H3}/p.parquet", f"ods/traffic/{H3}/_SOURCES"),
        ),
        # new raw data, never converted
        HourState(H4, (f"raw/traffic/{H4}/b.gz", f"raw/traffic/{H4}/c.gz"), ()),
        # no raw data: probed, then skipped
        HourState(H5, (), ()),
    ]

    assert pairs(read_requests(RAW, ODS, hours)) == [
        # H3: is the raw hour a directory? list it; read its _SOURCES
        ("HeadObject", "s3:GetObject", raw_arn(f"raw/traffic/{H3}"), {}),
        ("ListObjectsV2", "s3:ListBucket", "arn:aws:s3:::raw-bucket",
         {"s3:prefix": f"raw/traffic/{H3}/", "s3:max-keys": "1"}),
        ("ListObjectsV2", "s3:ListBucket", "arn:aws:s3:::raw-bucket",
         {"s3:prefix": f"raw/traffic/{H3}/", "s3:delimiter": "/"}),
        ("HeadObject", "s3:GetObject", ods_arn(f"ods/traffic/{H3}/_SOURCES"), {}),
        ("GetObject", "s3:GetObject", ods_arn(f"ods/traffic/{H3}/_SOURCES"), {}),
        # H4: _SOURCES absent: the HEAD finds nothing, the directory probe neither
        ("HeadObject", "s3:GetObject", raw_arn(f"raw/traffic/{H4}"), {}),
        ("ListObjectsV2", "s3:ListBucket", "arn:aws:s3:::raw-bucket",
         {"s3:prefix": f"raw/traffic/{H4}/", "s3:max-keys": "1"}),
        ("ListObjectsV2", "s3:ListBucket", "arn:aws:s3:::raw-bucket",
         {"s3:prefix": f"raw/traffic/{H4}/", "s3:delimiter": "/"}),
        ("HeadObject", "s3:GetObject", ods_arn(f"ods/traffic/{H4}/_SOURCES"), {}),
        ("ListObjectsV2", "s3:ListBucket", "arn:aws:s3:::curated-bucket",
         {"s3:prefix": f"ods/traffic/{H4}/_SOURCES/", "s3:max-keys": "1"}),
        # H5: probed only
        ("HeadObject", "s3:GetObject", raw_arn(f"raw/traffic/{H5}"), {}),
        ("ListObjectsV2", "s3:ListBucket", "arn:aws:s3:::raw-bucket",
         {"s3:prefix": f"raw/traffic/{H5}/", "s3:max-keys": "1"}),
        # Spark lists and reads every raw object of the hours with data
        ("ListObjectsV2", "s3:ListBucket", "arn:aws:s3:::raw-bucket",
         {"s3:prefix": f"raw/traffic/{H3}/"}),
        ("GetObject", "s3:GetObject", raw_arn(f"raw/traffic/{H3}/a.gz"), {}),
        ("ListObjectsV2", "s3:ListBucket", "arn:aws:s3:::raw-bucket",
         {"s3:prefix": f"raw/traffic/{H4}/"}),
        ("GetObject", "s3:GetObject", raw_arn(f"raw/traffic/{H4}/b.gz"), {}),
        ("GetObject", "s3:GetObject", raw_arn(f"raw/traffic/{H4}/c.gz"), {}),
        # the output path: its own key without trailing slash, then its parent "directory"
        ("HeadObject", "s3:GetObject", ods_arn("ods/traffic"), {}),
        ("ListObjectsV2", "s3:ListBucket", "arn:aws:s3:::curated-bucket",
         {"s3:prefix": "ods/traffic/", "s3:max-keys": "1"}),
        ("HeadObject", "s3:GetObject", ods_arn("ods"), {}),
    ]  # fmt: skip


def test_write_requests_replace_exactly_the_converted_hours() -> None:
    hours = [
        HourState(H3, ("x",), (f"ods/traffic/{H3}/old.parquet", f"ods/traffic/{H3}/_SOURCES")),
        HourState(H4, ("y",), ()),
    ]

    requests = write_requests(ODS, {H3: ["new.parquet"], H4: []}, hours)

    assert pairs(requests) == [
        ("HeadObject", "s3:GetObject", ods_arn(f"ods/traffic/{H3}"), {}),
        ("ListObjectsV2", "s3:ListBucket", "arn:aws:s3:::curated-bucket",
         {"s3:prefix": f"ods/traffic/{H3}/", "s3:max-keys": "1"}),
        ("ListObjectsV2", "s3:ListBucket", "arn:aws:s3:::curated-bucket",
         {"s3:prefix": f"ods/traffic/{H3}/"}),
        ("DeleteObject", "s3:DeleteObject", ods_arn(f"ods/traffic/{H3}/old.parquet"), {}),
        ("DeleteObject", "s3:DeleteObject", ods_arn(f"ods/traffic/{H3}/_SOURCES"), {}),
        ("PutObject", "s3:PutObject", ods_arn(f"ods/traffic/{H3}/new.parquet"), {}),
        ("ListObjectsV2", "s3:ListBucket", "arn:aws:s3:::curated-bucket",
         {"s3:prefix": f"ods/traffic/{H3}/_SOURCES/", "s3:max-keys": "1"}),
        ("PutObject", "s3:PutObject", ods_arn(f"ods/traffic/{H3}/_SOURCES"), {}),
        # an hour converted to no rows (blank raw lines) still gets its _SOURCES
        ("HeadObject", "s3:GetObject", ods_arn(f"ods/traffic/{H4}"), {}),
        ("ListObjectsV2", "s3:ListBucket", "arn:aws:s3:::curated-bucket",
         {"s3:prefix": f"ods/traffic/{H4}/", "s3:max-keys": "1"}),
        ("ListObjectsV2", "s3:ListBucket", "arn:aws:s3:::curated-bucket",
         {"s3:prefix": f"ods/traffic/{H4}/_SOURCES/", "s3:max-keys": "1"}),
        ("PutObject", "s3:PutObject", ods_arn(f"ods/traffic/{H4}/_SOURCES"), {}),
    ]  # fmt: skip
