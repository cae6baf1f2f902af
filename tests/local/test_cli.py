"""The `etl` CLI contract: argument validation, run's JSON document and exit codes, query
aliases and formats, generate. The runtime here is a recording fake of LocalRuntime's shape;
test_cli_e2e.py holds the same contract against the real runtime."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import pytest

from etl_lambdas.catalog import default_sql_root
from etl_local import cli, devloop_cli
from etl_local import console as render
from etl_local.runtime import ModelSummary, QueryError, QueryResult, RunResult, StateEvent
from etl_local.settings import LocalSettings


class FakeRuntime:
    """Records what the CLI asks for; answers with canned results of the real types."""

    def __init__(self, result: RunResult | None = None, raw_objects: int = 0) -> None:
        self.settings = LocalSettings()
        self.result = result or _result("SUCCEEDED")
        self.raw_objects = raw_objects
        self.inputs: list[dict[str, Any]] = []
        self.faults: tuple[Any, ...] = ()
        self.queries: list[str] = []
        self.query_result = QueryResult(["segment", "jam_share"], [("E40 x", 0.25), ("R0 y", None)])
        self.put: list[tuple[str, bytes]] = []

    def __call__(self, **kwargs: Any) -> FakeRuntime:
        self.faults = tuple(kwargs.get("faults", ()))
        return self

    def __enter__(self) -> FakeRuntime:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def run(self, execution_input: dict[str, Any], on_event: Any = None) -> RunResult:
        self.inputs.append(execution_input)
        for event in self.result.events:
            if on_event is not None:
                on_event(event)
        return self.result

    def query(self, sql: str) -> QueryResult:
        self.queries.append(sql)
        if "broken" in sql:
            raise QueryError("FAILED", "line 1:8: Column 'broken' cannot be\nresolved", "q-1")
        return self.query_result

    def raw_object_count(self, source: str | None = None) -> int:
        return self.raw_objects

    def put_raw_objects(self, items: Iterable[tuple[str, bytes]]) -> int:
        self.put.extend(items)
        return len(self.put)


def _result(status: str, error: str | None = None, cause: str | None = None) -> RunResult:
    start = datetime(2026, 3, 1, 8, tzinfo=UTC)
    events = [
        StateEvent("Plan", "Task", start, None, "ENTERED"),
        StateEvent("Plan", "Task", start, 0.2, "SUCCEEDED"),
        StateEvent("ConvertRaw", "Task", start, 3.0, "CAUGHT" if error else "SUCCEEDED", error),
    ]
    models = [
        ModelSummary("traffic_events", "dwd", "lakepipe_local_dwd.traffic_events", 10, 24, 99),
        ModelSummary("app_events", "dwd", "lakepipe_local_dwd.app_events", 0, 0, 0, "no rows"),
    ]
    output = {"register": {"Payload": {"intake": [INTAKE], "waiting_for_data": ["app_activity"]}}}
    return RunResult(status, error, cause, "arn:exec", events=events, models=models, output=output)


INTAKE = {
    "source": "traffic", "partitions_converted": 3, "new_events": 120, "malformed_lines": 2,
    "malformed_files": [{"partition": "s3://c/ods/traffic/year=2026/month=03/day=01/hour=05/",
                         "file": "part-0.json.gz", "lines": 2}],
    "malformed_files_not_named": 0, "unparsable_event_times": 0,
}  # fmt: skip


# Tomorrow in the pipeline's time zone is never over, whenever the test runs.
_TOMORROW = datetime.now(ZoneInfo("Europe/Brussels")).date() + timedelta(days=1)


def _never_started(**_: Any) -> Any:
    raise AssertionError("a bad argument must not start the runtime")


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["run", "--date", "2026-13-01"], "2026-13-01"),
        (["run", "--date", "2026-02-30"], "2026-02-30"),
        (["run", "--date", "20260301"], "20260301"),
        # Plan's own rules, applied before anything starts: a day not over yet, too long a range
        (["run", "--date", _TOMORROW.isoformat()], _TOMORROW.isoformat()),
        (["run", "--date", "2099-01-01"], "2099-01-01"),
        (["run", "--start", "2020-01-01", "--end", "2024-12-31"], "2020-01-01..2024-12-31"),
        (["run", "--fault", "nope"], "nope"),
        (["run", "--fault", "lambda-error:nostep:2"], "nostep"),
        (["run", "--fault", "athena-throttle:x"], "athena-throttle:x"),
        (["run", "--start", "2026-03-05", "--end", "2026-03-01"], "2026-03-05"),
        (["run", "--start", "2026-03-05"], "--start"),
        (["run", "--date", "2026-03-01", "--start", "2026-03-01", "--end", "2026-03-02"], "--date"),
        (["generate", "--sensors", "0"], "'0'"),
        (["generate", "--sensors", "many"], "many"),
        (["generate", "--seed", "x1"], "x1"),
        (["generate", "--start", "2026-04-02", "--end", "2026-04-01"], "2026-04-02"),
        (["query", "SELECT 1", "--format", "xml"], "xml"),
        (["run", "--date", "2026-03-01", "--select", "sensor_hourli"], "sensor_hourli"),
        (["run", "--date", "2026-03-01", "--select", "++sensor_hourly"], "++sensor_hourly"),
        (["run", "--date", "2026-03-01", "--model", "no_such_model"], "no_such_model"),
        # --env: only run, runs and query act on a deployed environment
        (["runs"], "--env"),
        (["--env", "prod", "generate"], "generate"),
        (["--env", "prod", "reset"], "reset"),
        (["--env", "prod", "run", "--fault", "crawler-failed"], "--fault"),
        (["--outputs", "x.json", "query", "SELECT 1"], "--outputs"),
        (["--env", "prod", "runs", "--limit", "0"], "'0'"),
        (["--env", "prod", "runs", "--status", "DONE"], "DONE"),
        (["frobnicate"], "frobnicate"),
        ([], "COMMAND"),
    ],
)
def test_bad_argument_is_one_line_naming_it_and_exit_2(
    argv: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv, runtime_factory=_never_started)
    assert exit_.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert named in lines[0]
    assert "Traceback" not in captured.err


def test_run_json_is_one_object_on_stdout(capfd: pytest.CaptureFixture[str]) -> None:
    runtime = FakeRuntime()
    code = cli.main(["run", "--date", "2026-03-01", "--json"], runtime_factory=runtime)
    out, err = capfd.readouterr()
    assert code == 0
    document = json.loads(out)
    assert out.count("\n") == 1
    assert document == {
        "status": "SUCCEEDED",
        "error": None,
        "cause": None,
        "caught_up": None,
        "missed": None,
        "models": [
            {
                "model": "traffic_events",
                "tier": "dwd",
                "table": "lakepipe_local_dwd.traffic_events",
                "rows_written": 10,
                "partitions_written": 24,
                "bytes_read": 99,
                "skipped": None,
            },
            {
                "model": "app_events",
                "tier": "dwd",
                "table": "lakepipe_local_dwd.app_events",
                "rows_written": 0,
                "partitions_written": 0,
                "bytes_read": 0,
                "skipped": "no rows",
            },
        ],
        # malformed lines per source, and the sources without data yet
        "sources": [INTAKE],
        "waiting_for_data": ["app_activity"],
        "schema_changes": [],
        "restated": [],
        "beyond_lookback": [],
        "future_events": [],
        "cost": None,
    }
    assert runtime.inputs == [{"date": "2026-03-01"}]
    assert "ConvertRaw" in err  # the execution view went to stderr


def test_run_failed_exits_1_with_error_and_cause(capfd: pytest.CaptureFixture[str]) -> None:
    runtime = FakeRuntime(_result("FAILED", "Athena.QueryFailed", "Column 'x' cannot be resolved"))
    code = cli.main(["run", "--date", "2026-03-01", "--json"], runtime_factory=runtime)
    document = json.loads(capfd.readouterr().out)
    assert code == 1
    assert document["status"] == "FAILED"
    assert document["error"] == "Athena.QueryFailed"
    assert "cannot be resolved" in document["cause"]


def test_run_prints_states_models_and_status(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Wide enough for the models table, whatever COLUMNS the test process inherited.
    monkeypatch.setenv("COLUMNS", "200")
    runtime = FakeRuntime(_result("FAILED", "Glue.Failed", "job failed"))
    code = cli.main(["run", "--date", "2026-03-01"], runtime_factory=runtime)
    out = capfd.readouterr().out
    assert code == 1
    for text in ("Plan", "ConvertRaw", "CAUGHT", "Glue.Failed: job failed", "traffic_events"):
        assert text in out
    assert out.count("Plan ") == 1  # the entered event is not a row of its own
    # a skipped model says why; each source what its conversion took in and dropped
    assert "Skipped app_events: no rows" in out
    assert "Source app_activity: no data yet" in out
    assert (
        "Source traffic: 120 new events in 3 partition(s), 2 malformed lines dropped in "
        "part-0.json.gz (2)"
    ) in out


def test_run_names_the_days_restated_for_late_data_and_those_too_old(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an execution whose Restate state restated one day and found one beyond the bound
    monkeypatch.setenv("COLUMNS", "200")
    restate = {
        "restated": [{"date": "2026-02-27", "events": {"traffic": 1200}}],
        "beyond_lookback": [{"date": "2026-02-10", "events": {"app_activity": 7}}],
    }
    result = _result("SUCCEEDED")
    runtime = FakeRuntime(
        RunResult(
            "SUCCEEDED",
            None,
            None,
            "arn:exec",
            models=result.models,
            output={"restate": {"Payload": restate}},
        )
    )
    # When it is run, as text and as JSON
    code = cli.main(["run", "--date", "2026-03-01"], runtime_factory=runtime)
    out = capfd.readouterr().out
    cli.main(["run", "--date", "2026-03-01", "--json"], runtime_factory=runtime)
    document = json.loads(capfd.readouterr().out)
    # Then both say which days were restated, why, and which were too old
    assert code == 0
    assert "Restated for late data: 2026-02-27 (1,200 new traffic events)" in out
    assert "not restated" in out and "2026-02-10 (7 new app_activity events)" in out
    assert document["restated"] == restate["restated"]
    assert document["beyond_lookback"] == restate["beyond_lookback"]


def test_run_verbose_adds_the_transition_log(capfd: pytest.CaptureFixture[str]) -> None:
    runtime = FakeRuntime(_result("SUCCEEDED"))
    assert cli.main(["run", "--date", "2026-03-01", "--verbose"], runtime_factory=runtime) == 0
    lines = capfd.readouterr().out.splitlines()
    # one line per finished state, with its type: "<after>  <state>  <type>  <status>  <took>"
    transitions = [line.split() for line in lines if line.split()[1:3] == ["ConvertRaw", "Task"]]
    assert transitions == [["0.0s", "ConvertRaw", "Task", "SUCCEEDED", "3.00s"]]


def test_run_selected_models_is_the_inputs_models_list() -> None:
    runtime = FakeRuntime()
    argv = ["run", "--date", "2026-03-01", "--model", "traffic_events", "--model", "traffic_events"]
    assert cli.main(argv, runtime_factory=runtime) == 0
    assert runtime.inputs == [{"date": "2026-03-01", "models": ["traffic_events"]}]


def test_run_prints_the_runs_cost(capsys: pytest.CaptureFixture[str]) -> None:
    result = _result("SUCCEEDED")
    cost = {
        "total_usd": 0.0042,
        "prices": "eu-west-1 list prices (etl_lambdas/prices.py)",
        "services": {"athena": {"usd": 0.001}, "glue_job": {"usd": 0.0032}},
    }
    runtime = FakeRuntime(RunResult(**{**result.__dict__, "output": {"cost": {"Payload": cost}}}))
    assert cli.main(["run", "--date", "2026-03-01"], runtime_factory=runtime) == 0
    out = capsys.readouterr().out
    assert "Cost: $0.0042 (athena $0.0010, glue_job $0.0032) at eu-west-1 list prices" in out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["--start", "2026-02-27", "--end", "2026-03-02"],
            {"start_date": "2026-02-27", "end_date": "2026-03-02"},
        ),
        (["--start", "2026-03-02", "--end", "2026-03-02"], {"date": "2026-03-02"}),
    ],
)
def test_run_range_is_one_backfill_execution(
    argv: list[str], expected: dict[str, str], capfd: pytest.CaptureFixture[str]
) -> None:
    runtime = FakeRuntime()
    assert cli.main(["run", *argv], runtime_factory=runtime) == 0
    assert runtime.inputs == [expected]


def test_run_passes_parsed_faults() -> None:
    runtime = FakeRuntime()
    argv = ["run", "--date", "2026-03-01", "--json", "--fault", "crawler-failed"]
    argv += ["--fault", "lambda-error:write:2"]
    cli.main(argv, runtime_factory=runtime)
    assert [(f.kind, f.step, f.count) for f in runtime.faults][1] == ("lambda-error", "write", 2)
    assert runtime.faults[0].kind == "crawler-failed"


def test_run_without_date_is_yesterday_in_the_pipeline_time_zone(
    capfd: pytest.CaptureFixture[str],
) -> None:
    runtime = FakeRuntime()
    cli.main(["run", "--json"], runtime_factory=runtime)
    assert runtime.inputs == [{"date": cli.yesterday("Europe/Brussels").isoformat()}]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # 23:30 UTC on 31 March is already 1 April in Brussels (CEST): yesterday is 31 March.
        (datetime(2026, 3, 31, 23, 30, tzinfo=UTC), date(2026, 3, 31)),
        (datetime(2026, 1, 1, 0, 30, tzinfo=UTC), date(2025, 12, 31)),
        (datetime(2025, 12, 31, 22, 59, tzinfo=UTC), date(2025, 12, 30)),
    ],
)
def test_yesterday(now: datetime, expected: date) -> None:
    assert cli.yesterday("Europe/Brussels", now) == expected


def _database(tier: str) -> str:
    return LocalSettings().database(tier)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "SELECT * FROM ads.segment_congestion_daily",
            "SELECT * FROM lakepipe_local_ads.segment_congestion_daily",
        ),
        (
            "SELECT e.sensor_id FROM DWD.traffic_events e JOIN dws.daily_active_sensors d "
            "ON e.sensor_id = d.sensor_id",
            "SELECT e.sensor_id FROM lakepipe_local_dwd.traffic_events AS e JOIN "
            "lakepipe_local_dws.daily_active_sensors AS d ON e.sensor_id = d.sensor_id",
        ),
        (
            "SELECT count(*) FROM (SELECT * FROM ods.traffic WHERE year = '2026')",
            "SELECT COUNT(*) FROM (SELECT * FROM lakepipe_local_ods.traffic WHERE year = '2026')",
        ),
    ],
)
def test_tier_aliases_are_rewritten(sql: str, expected: str) -> None:
    assert cli.resolve_tier_aliases(sql, _database) == expected


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM lakepipe_local_ads.segment_congestion_daily",
        "WITH ads AS (SELECT 1 AS x) SELECT x FROM ads",
        "SELECT * FROM awsdatacatalog.ads.t",
        "SELEKT nonsense FROM (",
    ],
)
def test_sql_without_a_tier_alias_is_unchanged(sql: str) -> None:
    assert cli.resolve_tier_aliases(sql, _database) == sql


def test_query_json_is_a_list_of_row_objects(capsys: pytest.CaptureFixture[str]) -> None:
    runtime = FakeRuntime()
    sql = "SELECT segment, jam_share FROM ads.segment_congestion_daily"
    assert cli.main(["query", sql, "--format", "json"], runtime_factory=runtime) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"segment": "E40 x", "jam_share": 0.25},
        {"segment": "R0 y", "jam_share": None},
    ]
    assert runtime.queries == [
        "SELECT segment, jam_share FROM lakepipe_local_ads.segment_congestion_daily"
    ]


def test_query_csv_and_table(capsys: pytest.CaptureFixture[str]) -> None:
    runtime = FakeRuntime()
    cli.main(["query", "SELECT 1", "--format", "csv"], runtime_factory=runtime)
    assert capsys.readouterr().out == "segment,jam_share\nE40 x,0.25\nR0 y,\n"
    cli.main(["query", "SELECT 1"], runtime_factory=runtime)
    table = capsys.readouterr().out
    assert "E40 x" in table and "NULL" in table and "2 rows" in table


def test_failed_query_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["query", "SELECT broken FROM ads.t"], runtime_factory=FakeRuntime())
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert captured.err == "etl query: line 1:8: Column 'broken' cannot be resolved\n"


def test_generate_if_absent_does_nothing_when_raw_data_exists() -> None:
    runtime = FakeRuntime(raw_objects=5)
    assert cli.main(["generate", "--if-absent"], runtime_factory=runtime) == 0
    assert runtime.put == []


def test_generate_writes_the_generated_objects() -> None:
    runtime = FakeRuntime()
    argv = ["generate", "--start", "2026-03-01", "--end", "2026-03-01", "--sensors", "2"]
    assert cli.main([*argv, "--seed", "3", "--if-absent"], runtime_factory=runtime) == 0
    from etl_local.generate import generate_events

    assert runtime.put == list(generate_events(date(2026, 3, 1), date(2026, 3, 1), 2, 3))


def test_generate_defaults_to_the_last_days_up_to_yesterday() -> None:
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert cli.generate_range(None, None, "Europe/Brussels", now) == (
        date(2026, 2, 26),
        date(2026, 2, 28),
    )


def test_readable_cause_unwraps_fail_state_and_lambda_payload() -> None:
    # given the cause of a model failure as the state machine reports it: the Fail state's
    # JSON, around the caught error, around the Lambda's error payload with its stack trace
    lambda_payload = {
        "errorType": "AuditFailed",
        "errorMessage": "check unique_keys failed:\n 3 duplicate rows",
        "stackTrace": ["Traceback ...", "  File x.py"],
    }
    caught = {"Error": "AuditFailed", "Cause": json.dumps(lambda_payload)}
    inner = {"failed_state": "Audit", "error": caught}
    outer = {"failed_state": "Tiers", "error": {"Error": "ModelFailed", "Cause": json.dumps(inner)}}

    # when it is rendered, then one line says where and what failed, without the trace
    assert render.readable_cause(json.dumps(outer)) == (
        "in Tiers: in Audit: AuditFailed: check unique_keys failed: 3 duplicate rows"
    )
    glue_run = {"Id": "jr_1", "JobRunState": "FAILED", "ErrorMessage": "NoRawDataError: none"}
    expected = "Glue job run FAILED: NoRawDataError: none"
    assert render.readable_cause(json.dumps(glue_run)) == expected
    assert render.readable_cause("plain text\n cause") == "plain text cause"
    assert render.readable_cause(None) == ""


# -- the `etl` command's exit ---------------------------------------------------------------


class _Exited(Exception):
    """Stands for os._exit in a test: the process must go on."""


def test_the_etl_command_runs_the_exit_functions_then_ends_with_mains_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[object] = []

    def exit_now(code: int) -> NoReturn:
        calls.append(code)
        raise _Exited

    monkeypatch.setattr(cli, "main", lambda: 3)
    monkeypatch.setattr(cli, "_threads_still_running", lambda: False)
    monkeypatch.setattr(cli.atexit, "_run_exitfuncs", lambda: calls.append("exit functions"))
    monkeypatch.setattr(cli.os, "_exit", exit_now)
    with pytest.raises(_Exited):
        cli.command()
    assert calls == ["exit functions", 3]


def test_a_thread_still_running_gets_the_ordinary_exit_which_waits_for_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def never(code: int) -> NoReturn:
        raise AssertionError("os._exit would kill the running thread")

    release = threading.Event()
    worker = threading.Thread(target=release.wait, args=(30,))
    worker.start()
    monkeypatch.setattr(cli, "main", lambda: 4)
    monkeypatch.setattr(cli.os, "_exit", never)
    try:
        assert cli._threads_still_running()
        with pytest.raises(SystemExit) as exited:
            cli.command()
        assert exited.value.code == 4
    finally:
        release.set()
        worker.join()


def test_run_select_passes_the_selectors_in_the_execution_input() -> None:
    runtime = FakeRuntime()
    argv = ["run", "--date", "2026-03-01", "--select", "traffic_events+", "-s", "app_events"]
    assert cli.main(argv, runtime_factory=runtime) == 0
    assert runtime.inputs == [{"date": "2026-03-01", "select": ["traffic_events+", "app_events"]}]


def test_run_refuses_a_project_with_a_mistake_before_starting_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "sql"
    shutil.copytree(default_sql_root(), root)
    model = root / "dws" / "sensor_hourly.sql"
    model.write_text(model.read_text().replace("avg(current_speed)", "avg(curent_speed)"))
    monkeypatch.setattr(devloop_cli, "sql_root", lambda: root)

    code = cli.main(["run", "--date", "2026-03-01"], runtime_factory=_never_started)

    assert code == 2
    (line,) = capfd.readouterr().err.splitlines()
    assert line.startswith(f"etl run: {model}:17:9: unknown column 'curent_speed'")


def test_generate_writes_only_the_sample_sources_it_knows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "sql"
    shutil.copytree(default_sql_root(), root)
    with (root / "sources.yaml").open("a") as declaration:
        declaration.write(FLIGHTS)
    monkeypatch.setattr(devloop_cli, "sql_root", lambda: root)
    runtime = FakeRuntime()

    argv = ["generate", "--start", "2026-03-01", "--end", "2026-03-01", "--sensors", "2"]
    assert cli.main(argv, runtime_factory=runtime) == 0

    assert runtime.put and not any(key.startswith("raw/flights/") for key, _ in runtime.put)
    assert "flights: not a sample source, left alone" in capfd.readouterr().out


FLIGHTS = """
  - name: flights
    raw_prefix: raw/flights/
    arrival: daily
    format: { type: csv }
    columns:
      - { name: flight, type: string }
      - { name: dep_time, type: string }
    event_time: { column: dep_time, format: iso8601, time_zone: UTC }
"""


def test_check_and_test_pass_on_the_repository(capfd: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check"], runtime_factory=_never_started) == 0
    assert capfd.readouterr().out == ""
    assert cli.main(["test", "--select", "+sensor_hourly"], runtime_factory=_never_started) == 0
    out = capfd.readouterr().out.splitlines()
    assert out and all(line.startswith("PASS ") for line in out)
    assert {line.split()[1].split("::")[0] for line in out} == {
        "dwd.traffic_events", "dws.sensor_hourly"
    }  # fmt: skip
