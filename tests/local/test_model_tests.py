"""The model unit tests' machinery (etl_local.model_tests) on a copy of sql/: a wrong
expectation fails showing the differing rows, a test file's mistakes are errors naming the
file and line, values take their column's type."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from etl_lambdas.catalog import default_sql_root, load_catalog
from etl_local.model_tests import LocalEngine, ModelTestError, Outcome, load_tests, run_tests

HOURLY = """\
tests:
  - name: {name}
    date: 2026-11-20
    given:
      dwd.traffic_events: |
        sensor_id,segment,event_time,current_speed,traffic_jam,year,month,day,hour
        A,E40,2026-11-20 07:00:00,30,1,2026,11,20,08
        A,E40,2026-11-20 07:01:00,40,0,2026,11,20,08
        B,R0,2026-11-20 07:30:00,100,0,2026,11,20,08
    expect: |
      sensor_id,events,avg_speed,jam_minutes,hour
{expect}
"""


@pytest.fixture
def sql_root(tmp_path: Path) -> Path:
    root = tmp_path / "sql"
    shutil.copytree(default_sql_root(), root)
    for test_file in root.glob("*/*.test.yaml"):
        test_file.unlink()
    return root


def outcomes(root: Path) -> list[Outcome | ModelTestError]:
    return list(run_tests(load_catalog(root)))


def write_hourly(root: Path, expect: str, name: str = "hourly") -> None:
    text = HOURLY.format(name=name, expect=expect)
    (root / "dws" / "sensor_hourly.test.yaml").write_text(text, encoding="utf-8")


def test_expected_rows_pass_in_any_order_on_the_columns_named(sql_root: Path) -> None:
    write_hourly(sql_root, "      B,1,100.0,0,08\n      A,2,35.0,1,08")

    (outcome,) = outcomes(sql_root)

    assert isinstance(outcome, Outcome)
    assert outcome.status == "pass", outcome.report()


def test_a_wrong_value_fails_with_the_expected_and_actual_rows_as_a_table(sql_root: Path) -> None:
    write_hourly(sql_root, "      A,2,36.0,1,08\n      B,1,100.0,0,08\n      C,1,1.0,0,08")

    (outcome,) = outcomes(sql_root)

    assert isinstance(outcome, Outcome)
    assert outcome.status == "fail"
    report = outcome.report().splitlines()
    assert report[0] == (
        "FAIL dws.sensor_hourly::hourly (sql/dws/sensor_hourly.test.yaml:2): 2 expected "
        "row(s) missing (-), 1 unexpected row(s) output (+), 1 as expected"
    ).replace("sql/dws", f"{sql_root}/dws")
    assert [line.split() for line in report[1:]] == [
        ["sensor_id", "events", "avg_speed", "jam_minutes", "hour"],
        ["+", "A", "2", "35.0", "1", "08"],
        ["-", "A", "2", "36.0", "1", "08"],
        ["-", "C", "1", "1.0", "0", "08"],
    ]


def test_a_missing_row_and_a_null_are_differences(sql_root: Path) -> None:
    write_hourly(sql_root, "      A,2,35.0,,08")

    (outcome,) = outcomes(sql_root)

    assert isinstance(outcome, Outcome) and outcome.status == "fail"
    assert "1 expected row(s) missing (-), 2 unexpected row(s)" in outcome.report()
    assert "NULL" in outcome.report()


def test_doubles_compare_within_a_relative_tolerance(sql_root: Path) -> None:
    write_hourly(sql_root, "      A,2,35.00000000001,1,08\n      B,1,100.0,0,08")

    (outcome,) = outcomes(sql_root)

    assert isinstance(outcome, Outcome) and outcome.status == "pass"


@pytest.mark.parametrize(
    ("expect", "message"),
    [
        ("      A,two,35.0,1,08", "expect, line 12: events 'two' is not a BIGINT"),
        ("      A,2,35.0,1", "expect: 4 values for 5 columns"),
    ],
)
def test_an_expected_value_that_is_not_of_its_columns_type_is_an_error(
    sql_root: Path, expect: str, message: str
) -> None:
    write_hourly(sql_root, expect)

    (outcome,) = outcomes(sql_root)

    assert message in str(outcome.message if isinstance(outcome, Outcome) else outcome)


def test_a_column_the_model_does_not_output_is_an_error(sql_root: Path) -> None:
    text = HOURLY.format(name="x", expect="      A,2,35.0,1,08").replace(
        "sensor_id,events,avg", "sensor,events,avg"
    )
    (sql_root / "dws" / "sensor_hourly.test.yaml").write_text(text, encoding="utf-8")

    (outcome,) = outcomes(sql_root)

    assert isinstance(outcome, Outcome) and outcome.status == "error"
    assert "expect names column 'sensor', which the model does not output" in outcome.message


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("tests:\n  - name: a\n    date: 2026-11-20\n    expect: [\n", 5, "not YAML"),
        ("tests: []\n", 1, "expected a 'tests:' list"),
        ("tests:\n  - name: a\n    date: 2026-11-31\n    expect: []\n", 3, "not a date"),
        ("tests:\n  - name: a\n    date: 2026-11-20\n", 2, "no 'expect'"),
        (
            "tests:\n  - name: a\n    date: 2026-11-20\n    given:\n      ods.traffic: []\n"
            "    expect: []\n",
            5,
            "given table 'ods.traffic' is not one the model reads (dwd.traffic_events)",
        ),
        ("tests:\n  - name: a\n    dates: 2026-11-20\n    expect: []\n", 3, "unknown field"),
        (
            "tests:\n  - name: a\n    date: 2026-11-20\n    expect: []\n"
            "  - name: a\n    date: 2026-11-21\n    expect: []\n",
            5,
            "test 'a' is named twice",
        ),
    ],
)
def test_a_mistake_in_a_test_file_is_one_error_naming_file_and_line(
    sql_root: Path, text: str, line: int, message: str
) -> None:
    path = sql_root / "dws" / "sensor_hourly.test.yaml"
    path.write_text(text, encoding="utf-8")

    _, errors = load_tests(load_catalog(sql_root))

    assert len(errors) == 1
    assert (errors[0].path, errors[0].line) == (path, line)
    assert message in errors[0].message


def test_a_given_value_is_converted_to_its_columns_type_or_names_its_row(sql_root: Path) -> None:
    write_hourly(sql_root, "      A,2,35.0,1,08")
    path = sql_root / "dws" / "sensor_hourly.test.yaml"
    path.write_text(path.read_text().replace(",40,0,", ",fast,0,"), encoding="utf-8")

    (outcome,) = outcomes(sql_root)

    assert isinstance(outcome, Outcome) and outcome.status == "error"
    assert outcome.message.startswith("given dwd.traffic_events, row at line 8: ")


def test_text_values_keep_their_leading_zeros_and_country_codes(sql_root: Path) -> None:
    # `08` and `NO` are text, not the number 8 or YAML's false
    (sql_root / "dwd" / "app_events.test.yaml").write_text(
        """tests:
  - name: norway
    date: 2026-11-20
    given:
      ods.app_activity:
        - {user_id: u1, action: open, event_time: "2026-11-20T08:00:00Z", country: NO,
           year: 2026, month: 11, day: 20}
    expect:
      - {user_id: u1, country: NO, month: 11, day: 20}
""",
        encoding="utf-8",
    )

    (outcome,) = outcomes(sql_root)

    assert isinstance(outcome, Outcome) and outcome.status == "pass", outcome.report()


def test_the_engine_runs_each_chunk_of_a_long_window_as_the_write_step_does(
    sql_root: Path,
) -> None:
    # an hourly model writes at most 4 days per CTAS: a 9-day window is 3 chunks
    (sql_root / "dws" / "sensor_hourly.test.yaml").write_text(
        """tests:
  - name: long
    start_date: 2026-11-01
    end_date: 2026-11-09
    given:
      dwd.traffic_events: |
        sensor_id,event_time,current_speed,year,month,day,hour
        A,2026-11-01 07:00:00,30,2026,11,01,08
        A,2026-11-05 07:00:00,30,2026,11,05,08
        A,2026-11-09 07:00:00,30,2026,11,09,08
    expect: |
      day,events
      01,1
      05,1
      09,1
""",
        encoding="utf-8",
    )
    catalog = load_catalog(sql_root)
    (test,), _ = load_tests(catalog)

    assert LocalEngine(catalog).run(test).status == "pass"
