"""The freshness check: the due day, the partitions it expects, and the metric it sends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from etl_lambdas.catalog import Catalog
from etl_lambdas.errors import InvalidRunRequest
from etl_lambdas.freshness import due_day, expected_partitions
from tests.unit.conftest import FakeLambdaContext

BUCKET = "lake-dev-raw"
NAMESPACE = "lake-dev"


@pytest.mark.parametrize(
    ("now", "arrives_by", "due"),
    [
        # After the deadline, yesterday is due; before it, the day before.
        ("2026-11-21T02:00:00", "02:00", date(2026, 11, 20)),
        ("2026-11-21T01:59:59", "02:00", date(2026, 11, 19)),
        ("2026-11-21T23:59:00", "23:30", date(2026, 11, 20)),
        ("2026-03-01T00:00:00", "00:00", date(2026, 2, 28)),
        ("2028-03-01T00:30:00", "06:00", date(2028, 2, 28)),
        ("2027-01-01T07:00:00", "06:00", date(2026, 12, 31)),
    ],
)
def test_the_due_day_is_the_last_whose_deadline_passed(
    now: str, arrives_by: str, due: date
) -> None:
    assert due_day(datetime.fromisoformat(now).replace(tzinfo=UTC), arrives_by) == due


def test_an_hourly_source_expects_24_partitions_a_daily_one_one(catalog: Catalog) -> None:
    traffic, app = catalog.sources.get("traffic"), catalog.sources.get("app_activity")
    hours = expected_partitions(traffic, date(2026, 3, 29))

    # UTC arrival hours: a DST day in the pipeline's zone is still 24 of them.
    assert len(hours) == 24
    assert hours[0] == "raw/traffic/year=2026/month=03/day=29/hour=00/"
    assert hours[-1] == "raw/traffic/year=2026/month=03/day=29/hour=23/"
    assert expected_partitions(app, date(2026, 3, 29)) == [
        "raw/app_activity/year=2026/month=03/day=29/"
    ]


@pytest.fixture
def freshness(load_step: Any) -> Iterator[tuple[Any, Any, Any]]:
    with mock_aws():
        s3, cloudwatch = boto3.client("s3"), boto3.client("cloudwatch")
        s3.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        step = load_step(
            "freshness",
            RAW_BUCKET=BUCKET,
            METRICS_NAMESPACE=NAMESPACE,
            ARRIVAL_DEADLINES='{"traffic": "02:00", "app_activity": "06:00"}',
        )
        yield step, s3, cloudwatch


def _missing_metric(cloudwatch: Any, source: str, at: datetime) -> float:
    stats = cloudwatch.get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName="MissingArrivalPartitions",
        Dimensions=[{"Name": "Source", "Value": source}],
        StartTime=at.replace(minute=0, second=0),
        EndTime=at.replace(minute=59, second=59),
        Period=3600,
        Statistics=["Maximum"],
    )["Datapoints"]
    assert len(stats) == 1, stats
    return float(stats[0]["Maximum"])


def test_the_check_counts_each_sources_missing_partitions_of_its_due_day(
    freshness: tuple[Any, Any, Any],
) -> None:
    step, s3, cloudwatch = freshness
    # Traffic of 2026-11-20 arrived but for hours 05 and 23; app activity of the 19th did.
    for hour in range(24):
        if hour not in (5, 23):
            key = f"raw/traffic/year=2026/month=11/day=20/hour={hour:02d}/part-0.json.gz"
            s3.put_object(Bucket=BUCKET, Key=key, Body=b"{}")
    s3.put_object(Bucket=BUCKET, Key="raw/app_activity/year=2026/month=11/day=19/a.csv", Body=b"")
    at = datetime(2026, 11, 21, 3, 5, tzinfo=UTC)

    result = step.handler({"time": "2026-11-21T03:05:00Z"}, FakeLambdaContext())

    traffic, app = result["sources"]["traffic"], result["sources"]["app_activity"]
    assert traffic["day"] == "2026-11-20" and traffic["expected_partitions"] == 24
    assert traffic["missing_partitions"] == [
        "raw/traffic/year=2026/month=11/day=20/hour=05/",
        "raw/traffic/year=2026/month=11/day=20/hour=23/",
    ]
    # 03:05 is before app activity's 06:00: the 19th is its last due day, and it is there.
    assert app == {"day": "2026-11-19", "expected_partitions": 1, "missing_partitions": []}
    assert _missing_metric(cloudwatch, "traffic", at) == 2
    assert _missing_metric(cloudwatch, "app_activity", at) == 0


def test_a_source_without_any_file_misses_its_whole_day(freshness: tuple[Any, Any, Any]) -> None:
    step, _, _ = freshness
    result = step.handler({"time": "2026-11-21T07:00:00+00:00"}, FakeLambdaContext())

    assert len(result["sources"]["traffic"]["missing_partitions"]) == 24
    assert result["sources"]["app_activity"]["missing_partitions"] == [
        "raw/app_activity/year=2026/month=11/day=20/"
    ]


@pytest.mark.parametrize("time", ["yesterday", "2026-11-21T03:05:00"])
def test_a_time_that_is_not_utc_iso_8601_is_refused(
    freshness: tuple[Any, Any, Any], time: str
) -> None:
    step, _, _ = freshness
    with pytest.raises(InvalidRunRequest, match="time"):
        step.handler({"time": time}, FakeLambdaContext())
