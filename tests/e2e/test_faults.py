"""Each injected fault ends as the real ASL says: retried and SUCCEEDED, or FAILED with the
failure notification sent and the published tables unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from etl_lambdas.catalog import TIERS, load_catalog
from etl_lambdas.restatement import upstream_sources
from etl_local import glue_runner
from etl_local.faults import parse_fault
from etl_local.runtime import LocalRuntime, RunResult

pytestmark = pytest.mark.e2e

DAY = "2025-11-28"
FAILING_DAY = "2025-11-29"  # never published before the failing runs: nothing may appear
NO_DATA_DAY = "2025-06-10"  # far from the sample data, never published


def fingerprint(runtime: LocalRuntime) -> dict[str, list[tuple[str, ...]]]:
    """Each published table's partitions and their locations, from the Glue catalog."""
    glue = runtime.client("glue")
    tables = {}
    for tier in TIERS:
        database = runtime.settings.database(tier)
        for table in glue.get_tables(DatabaseName=database)["TableList"]:
            pages = glue.get_paginator("get_partitions").paginate(
                DatabaseName=database, TableName=table["Name"]
            )
            tables[f"{database}.{table['Name']}"] = sorted(
                (*p["Values"], p["StorageDescriptor"]["Location"])
                for page in pages
                for p in page["Partitions"]
            )
    return tables


@pytest.fixture(scope="module")
def published(runtime: LocalRuntime) -> dict[str, list[tuple[str, ...]]]:
    result = runtime.run({"date": DAY})
    assert result.status == "SUCCEEDED", f"{result.error}: {result.cause}"
    return fingerprint(runtime)


def traffic_tables(tables: dict[str, list[tuple[str, ...]]]) -> dict[str, list[tuple[str, ...]]]:
    """The published tables built from the traffic source."""
    catalog = load_catalog()
    return {
        name: partitions
        for name, partitions in tables.items()
        if "traffic" in upstream_sources(catalog, catalog.get(name.rsplit(".", 1)[1]))
    }


def failure_subjects(result: RunResult) -> list[str]:
    return [str(n["subject"]) for n in result.notifications if "FAILED" in str(n["subject"])]


@pytest.mark.parametrize("fault", ["athena-throttle:2", "lambda-error:write:1"])
def test_transient_faults_are_retried(
    runtime: LocalRuntime, published: dict[str, list[tuple[str, ...]]], fault: str
) -> None:
    result = runtime.run({"date": DAY}, faults=[parse_fault(fault)])

    assert result.status == "SUCCEEDED", f"{result.error}: {result.cause}"
    assert failure_subjects(result) == []


def test_lambda_error_is_retried_by_the_state_machine(
    runtime: LocalRuntime, published: dict[str, list[tuple[str, ...]]]
) -> None:
    begins_before = runtime.router.invocations.count("begin")

    result = runtime.run({"date": DAY}, faults=[parse_fault("lambda-error:begin:2")])

    assert result.status == "SUCCEEDED", f"{result.error}: {result.cause}"
    # two injected service errors, then the call that succeeds
    assert runtime.router.invocations.count("begin") - begins_before == 3


def test_a_failed_query_notifies_and_leaves_published_tables_unchanged(
    runtime: LocalRuntime, published: dict[str, list[tuple[str, ...]]]
) -> None:
    # given published tables (other tests in this module re-publish DAY, so look now)
    before = fingerprint(runtime)
    assert before, "the module's first run published nothing"

    # when a run fails
    result = runtime.run({"date": FAILING_DAY}, faults=[parse_fault("query-failed:traffic_events")])

    assert result.status == "FAILED"
    assert len(failure_subjects(result)) == 1
    assert result.cause and "QueriesState" in result.cause and "traffic_events" in result.cause
    # then it notified once, and nothing that reads the failed model's source was published
    # (a model of another source in the same tier may have published its own partitions)
    assert traffic_tables(fingerprint(runtime)) == traffic_tables(before)


def test_glue_job_failure_fails_the_run_with_the_jobs_error(
    runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a Glue job that fails on every attempt, for a day never published
    load = glue_runner._load_script

    def failing(path: Path) -> Any:
        script = load(path)

        def run(spark: Any, arguments: Any) -> None:
            raise RuntimeError("injected: the conversion fails")

        script.run = run
        return script

    monkeypatch.setattr(glue_runner, "_load_script", failing)
    before = fingerprint(runtime)

    # when it is run, the Glue job fails (and fails again on its one retry)
    result = runtime.run({"date": NO_DATA_DAY})

    # then the run fails with Glue's error, not a timeout, notifies once and publishes nothing
    assert result.status == "FAILED"
    assert result.cause and "States.TaskFailed" in result.cause
    assert "injected: the conversion fails" in result.cause
    assert len(failure_subjects(result)) == 1
    assert fingerprint(runtime) == before
