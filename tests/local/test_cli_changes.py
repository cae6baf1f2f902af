"""`etl changes` and `etl run --changed` against a Glue catalogue on moto whose partitions
record what computed them (one model's by older SQL); the runtime is a fake of its shape."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from etl_lambdas.catalog import Catalog, load_catalog
from etl_lambdas.fingerprints import fingerprints
from etl_local import cli
from etl_local.runtime import RunResult
from etl_local.settings import LocalSettings

DAYS = [date(2025, 11, 27) + timedelta(days=n) for n in range(3)]
OLDER_SQL = "0123456789abcdef"


class ChangesRuntime:
    def __init__(self, glue: Any) -> None:
        self.settings = LocalSettings()
        self.glue = glue
        self.inputs: list[dict[str, Any]] = []

    def __call__(self, **_: Any) -> ChangesRuntime:
        return self

    def __enter__(self) -> ChangesRuntime:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def catalog(self) -> Catalog:
        return load_catalog()

    def client(self, service: str) -> Any:
        assert service == "glue"
        return self.glue

    def run(self, execution_input: dict[str, Any], on_event: Any = None) -> RunResult:
        self.inputs.append(execution_input)
        return RunResult("SUCCEEDED", None, None, "arn:exec")


def _publish(glue: Any, settings: LocalSettings, catalog: Catalog, stale: set[str]) -> None:
    """Every model's daily partitions of DAYS, each recording the SQL in sql/, except the
    `stale` models' (older SQL)."""
    current = fingerprints(catalog)
    for tier in ("dwd", "dws", "ads"):
        glue.create_database(DatabaseInput={"Name": settings.database(tier)})
    for model in catalog.models:
        keys = [{"Name": k, "Type": "string"} for k in model.partition_by]
        glue.create_table(
            DatabaseName=settings.database(model.tier),
            TableInput={"Name": model.name, "PartitionKeys": keys, "StorageDescriptor": {}},
        )
        hours = [f"{h:02d}" for h in range(24)] if model.granularity == "hour" else [""]
        computed_by = current[model.name].partition_parameters("20251130t040000z_0123abcd")
        if model.name in stale:
            computed_by = {**computed_by, "lakepipe.model_hash": OLDER_SQL}
        partitions = [
            {
                "Values": [v for v in (f"{d:%Y}", f"{d:%m}", f"{d:%d}", hour) if v],
                "StorageDescriptor": {},
                "Parameters": computed_by,
            }
            for d in DAYS
            for hour in hours
        ]
        for start in range(0, len(partitions), 100):
            glue.batch_create_partition(
                DatabaseName=settings.database(model.tier),
                TableName=model.name,
                PartitionInputList=partitions[start : start + 100],
            )


@pytest.fixture
def lake() -> Iterator[ChangesRuntime]:
    with mock_aws():
        runtime = ChangesRuntime(boto3.client("glue", region_name="eu-west-1"))
        yield runtime


def test_changes_lists_the_changed_model_and_its_downstream(
    lake: ChangesRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    _publish(lake.glue, lake.settings, load_catalog(), stale={"daily_active_sensors"})

    assert cli.main(["changes"], runtime_factory=lake) == 0
    out = capsys.readouterr().out
    rows = [
        [cell.strip() for cell in line.strip("│ ").split("│")]
        for line in out.splitlines()
        if line.startswith("│")
    ]
    assert rows == [
        [
            "daily_active_sensors",
            "dws",
            "2025-11-27..2025-11-29",
            "3",
            "its SQL or declaration changed",
        ],
        [
            "segment_congestion_daily",
            "ads",
            "2025-11-27..2025-11-29",
            "0",  # its partitions record today's fingerprints: only its input changed
            "reads daily_active_sensors, changed on these days",
        ],
    ]
    assert "Restate them: etl run --changed" in out

    assert cli.main(["changes", "--json", "--start", "2025-11-28"], runtime_factory=lake) == 0
    document = json.loads(capsys.readouterr().out)
    assert [c["model"] for c in document["changes"]] == [
        "daily_active_sensors",
        "segment_congestion_daily",
    ]
    assert document["changes"][0]["days"] == [
        {"start_date": "2025-11-28", "end_date": "2025-11-29"}
    ]
    assert document["restate_input"] == {
        "start_date": "2025-11-28",
        "end_date": "2025-11-29",
        "models": ["daily_active_sensors", "segment_congestion_daily"],
    }


def test_run_changed_starts_one_execution_of_those_models_over_their_days(
    lake: ChangesRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    _publish(lake.glue, lake.settings, load_catalog(), stale={"traffic_events"})

    code = cli.main(["run", "--changed", "--date", "2025-11-28"], runtime_factory=lake)

    assert code == 0
    assert lake.inputs == [
        {
            "start_date": "2025-11-28",
            "end_date": "2025-11-28",
            "models": [
                "traffic_events",
                "daily_active_sensors",
                "sensor_hourly",
                "segment_congestion_daily",
            ],
        }
    ]


def test_run_changed_with_nothing_changed_starts_nothing(
    lake: ChangesRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    _publish(lake.glue, lake.settings, load_catalog(), stale=set())

    assert cli.main(["run", "--changed"], runtime_factory=lake) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert cli.main(["run", "--changed", "--json"], runtime_factory=lake) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "NOTHING_TO_RESTATE"
    assert cli.main(["changes"], runtime_factory=lake) == 0
    assert "nothing to restate" in capsys.readouterr().out
    assert lake.inputs == []


def test_changes_with_the_dates_reversed_is_a_bad_argument(
    lake: ChangesRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as raised:
        cli.main(["changes", "--start", "2025-11-29", "--end", "2025-11-28"], runtime_factory=lake)
    assert raised.value.code == 2
    assert "--start 2025-11-29 is after --end 2025-11-28" in capsys.readouterr().err
