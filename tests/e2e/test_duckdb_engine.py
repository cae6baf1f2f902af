"""The local environment on Athena's DuckDB engine (local/terraform/local-duckdb.tfvars): it
plans a DuckDB workgroup, and a day runs end to end with the models as `make build` translated
them, executed untranslated on the DuckDB release Athena runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from etl_lambdas.catalog import TIERS
from etl_local.athena.duckdb_process import version
from etl_local.runtime import LocalRuntime
from etl_local.settings import LocalSettings
from tests.e2e.homes import e2e_home
from tests.e2e.sample import dataset
from tools.terraform_plan import BUILD_DIR, REPOSITORY_ROOT, env_var_file, is_fresh, plan_session

pytestmark = pytest.mark.e2e

ENV = "local-duckdb"
DAY = "2025-11-30"
# The day with the day before and after it (its rolling windows, its late arrivals): what the
# run reads, and less for the Glue job to convert than the whole sample week.
SAMPLE_DAYS = (date(2025, 11, 29), date(2025, 12, 1))
# requirements-duckdb.txt: the release Athena's DuckDB engine runs
ATHENA_DUCKDB = "2.0.1"


@pytest.fixture(scope="module")
def plan_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`make plan`'s build/plan-local-duckdb.json when up to date, else a new plan."""
    saved = BUILD_DIR / f"plan-{ENV}.json"
    if is_fresh(saved):
        return saved
    scratch = tmp_path_factory.mktemp("plan")
    with plan_session(REPOSITORY_ROOT, scratch) as session:
        session.plan(env_var_file(ENV), scratch / saved.name)
    return scratch / saved.name


def resources(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    modules = [plan["planned_values"]["root_module"]]
    while modules:
        module = modules.pop()
        yield from module.get("resources", [])
        modules.extend(module.get("child_modules", []))


def test_the_variant_plans_a_duckdb_workgroup_and_tells_the_write_step(plan_json: Path) -> None:
    plan = json.loads(plan_json.read_text(encoding="utf-8"))
    planned = list(resources(plan))

    (workgroup,) = [r for r in planned if r["type"] == "aws_athena_workgroup"]
    (configuration,) = workgroup["values"]["configuration"]
    assert configuration["engine_version"][0]["selected_engine_version"] == "DuckDB"
    functions = {
        r["values"]["function_name"]: r["values"]["environment"][0]["variables"]
        for r in planned
        if r["type"] == "aws_lambda_function"
    }
    assert functions["lakepipe-local-write"]["ATHENA_ENGINE_VERSION"] == "DuckDB"
    # the variant is local.tfvars with the engine changed, nothing else
    assert plan["variables"]["env"]["value"] == "local"


@pytest.fixture(scope="module")
def runtime(plan_json: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    home = e2e_home(tmp_path_factory, "etl-home-duckdb")
    with LocalRuntime(home=home, settings=LocalSettings(plan_path=plan_json)) as started:
        started.put_raw_objects(dataset(*SAMPLE_DAYS))
        yield started


def test_a_day_runs_end_to_end_on_athenas_duckdb_release(runtime: LocalRuntime) -> None:
    assert version() == ATHENA_DUCKDB

    result = runtime.run({"date": DAY})

    assert result.status == "SUCCEEDED", f"{result.error}: {result.cause}"
    assert {m.tier for m in result.models} == set(TIERS)
    assert all(m.rows_written > 0 and m.partitions_written > 0 for m in result.models)
    # the same day as tests/e2e/test_pipeline.py finds on engine version 3
    hours = runtime.query(
        "SELECT count(DISTINCT hour) AS hours, count(DISTINCT sensor_id) AS sensors "
        "FROM lakepipe_local_dwd.traffic_events WHERE year = '2025' AND month = '11' AND day = '30'"
    )
    assert hours.rows == [(24, 3)]
    # queries ran on the DuckDB workgroup, in DuckDB SQL: the translated models, the DuckDB CTAS
    athena = runtime.client("athena")
    ids = athena.list_query_executions(WorkGroup=runtime.settings.workgroup)["QueryExecutionIds"]
    executions = [athena.get_query_execution(QueryExecutionId=i)["QueryExecution"] for i in ids]
    ctas = [e for e in executions if e["Query"].startswith("CREATE TABLE")]
    assert ctas and all("table_type = 'HIVE'" in e["Query"] for e in ctas)
    dwd = [e["Query"] for e in ctas if ".traffic_events__" in e["Query"]]
    assert dwd and all("STRFTIME(" in query for query in dwd)  # date_format, translated
    assert {e["EngineVersion"]["EffectiveEngineVersion"] for e in executions} == {"DuckDB"}
    assert runtime.query("SELECT version() AS v").rows == [(f"v{ATHENA_DUCKDB}",)]
