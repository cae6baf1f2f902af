"""A model whose SQL is broken fails the run with Athena's error, and publishes nothing."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from etl_lambdas.catalog import default_sql_root
from etl_local.runtime import LocalRuntime
from tests.e2e.homes import e2e_home
from tests.e2e.sample import FIRST_DAY, dataset

pytestmark = pytest.mark.e2e

DAY = "2025-11-27"


@pytest.fixture(scope="module")
def broken_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    sql_root = tmp_path_factory.mktemp("sql") / "sql"
    shutil.copytree(default_sql_root(), sql_root)
    # Valid Athena SQL that names a column the DWD table does not have: Athena fails it.
    (sql_root / "dws" / "sensor_hourly.sql").write_text(
        "SELECT sensor_id, no_such_column, year, month, day, hour\n"
        "FROM ${dwd_database}.traffic_events\n"
        "WHERE year = substr('${start_date}', 1, 4)\n",
        encoding="utf-8",
    )
    home = e2e_home(tmp_path_factory)
    with LocalRuntime(home=home, sql_root=sql_root) as started:
        started.put_raw_objects(dataset(FIRST_DAY, FIRST_DAY))
        yield started


def test_broken_model_fails_with_athenas_error(broken_runtime: LocalRuntime) -> None:
    result = broken_runtime.run({"date": DAY})

    assert result.status == "FAILED"
    assert result.cause is not None
    assert "sensor_hourly" in result.cause
    assert "no_such_column" in result.cause
    assert any("FAILED" in str(n["subject"]) for n in result.notifications)
    glue = broken_runtime.client("glue")
    tables = glue.get_tables(DatabaseName=broken_runtime.settings.database("dws"))["TableList"]
    assert "sensor_hourly" not in {t["Name"] for t in tables}
