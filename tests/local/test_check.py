"""`etl check` (etl_local.check): the repository's declarations and models pass; each seeded
mistake in a copy of sql/ is one problem naming the user's file, line and column."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from etl_lambdas.catalog import default_sql_root
from etl_local.check import Problem, check, render_located


@pytest.fixture
def root(tmp_path: Path) -> Path:
    copy = tmp_path / "sql"
    shutil.copytree(default_sql_root(), copy)
    return copy


def edit(path: Path, old: str, new: str, count: int = 1) -> int:
    """Replace `old` (which must be there) and return the 1-based line it was on."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


def test_the_repositorys_declarations_models_and_tests_have_no_problem() -> None:
    assert [str(p) for p in check(default_sql_root())] == []


def test_a_wrong_column_type_in_sources_yaml_names_its_line_and_column(root: Path) -> None:
    path = root / "sources.yaml"
    line = edit(path, "{ name: current_speed, type: int,", "{ name: current_speed, type: integr,")

    problem = only(check(root))

    assert (problem.path, problem.line) == (path, line)
    assert path.read_text().splitlines()[line - 1][problem.col - 1 :].startswith("integr")
    assert problem.message.startswith(
        "source 'traffic': column 'current_speed': Athena has no column type 'integr'"
    )


def test_each_bad_source_is_a_problem_of_its_own(root: Path) -> None:
    path = root / "sources.yaml"
    first = edit(path, "arrival: hourly", "arrival: weekly")
    second = edit(path, '      delimiter: ","', '      delimiter: ";;"')

    problems = check(root)

    assert [(p.line, p.message.split(":")[0]) for p in problems] == [
        (first, "source 'traffic'"), (second, "source 'app_activity'")
    ]  # fmt: skip


def test_yaml_and_toml_syntax_errors_name_where_the_parser_stopped(root: Path) -> None:
    edit(root / "sources.yaml", "    arrival: hourly", "    arrival: [hourly")
    (problem,) = check(root)
    assert problem.path.name == "sources.yaml" and problem.message.startswith("not valid YAML")

    shutil.copy(default_sql_root() / "sources.yaml", root / "sources.yaml")
    line = edit(root / "models.toml", 'granularity = "hour"', 'granularity = "hour')
    (problem,) = check(root)
    assert (problem.path.name, problem.line) == ("models.toml", line)
    assert problem.message.startswith("not valid TOML")


@pytest.mark.parametrize(
    ("old", "new", "key", "message"),
    [
        ('tier = "dws"', 'tier = "dwx"', "tier", "tier 'dwx' must be one of"),
        (
            'sources = ["dwd.traffic_events"]',
            'sources = ["dwd.trafic_events"]',
            "sources",
            "source 'dwd.trafic_events' is not a declared model",
        ),
        (
            'keys = ["sensor_id", "hour_start"]',
            'keys = ["sensor_id", "hour_begin"]',
            "keys",
            "keys names 'hour_begin', which its SQL does not output",
        ),
    ],
)
def test_a_mistake_in_models_toml_names_the_key(
    root: Path, old: str, new: str, key: str, message: str
) -> None:
    path = root / "models.toml"
    line = edit(path, old, new)

    problem = only(check(root))

    assert (problem.path, problem.line) == (path, line)
    assert path.read_text().splitlines()[line - 1].lstrip().startswith(key)
    assert message in problem.message


def test_a_missing_comma_is_a_syntax_error_at_its_line_in_the_file(root: Path) -> None:
    path = root / "ads" / "segment_congestion_daily.sql"
    line = edit(path, "        count(*) AS events,\n", "        count(*) AS events\n")

    problem = only(check(root))

    assert (problem.path, problem.line, problem.col) == (path, line + 1, 9)
    assert problem.message.startswith(
        f"syntax error near 'count_if' (a missing comma at the end of line {line}?)"
    )
    assert "NOT_SUPPORTED" not in problem.message


def test_a_missing_comma_before_a_function_is_a_syntax_error_with_the_hint(root: Path) -> None:
    path = root / "dws" / "daily_active_sensors.sql"
    line = edit(path, "    sensor_id,\n    max_by", "    sensor_id\n    max_by")

    problem = only(check(root))

    assert (problem.path, problem.line) == (path, line + 1)
    assert f"(a missing comma at the end of line {line}?)" in problem.message


def test_a_missing_comma_that_makes_an_alias_is_suspect(root: Path) -> None:
    path = root / "dws" / "daily_active_sensors.sql"
    line = edit(path, "    year,\n    month,\n", "    year\n    month,\n")

    problems = check(root)

    assert any(
        (p.path, p.line, p.col) == (path, line + 1, 5) and p.message.startswith("missing comma?")
        for p in problems
    ), "\n".join(map(str, problems))


def test_positions_after_a_placeholder_are_the_files(root: Path) -> None:
    path = root / "dws" / "sensor_hourly.sql"
    # the unknown column comes after ${dwd_database}, whose value is shorter than its name
    line = edit(path, "WHERE ${event_day_partitions}", "WHERE ${event_day_partitions} AND nope = 1")

    problem = only(check(root))

    assert (problem.path, problem.line) == (path, line)
    text = path.read_text().splitlines()[line - 1]
    assert text[problem.col - 1 :].startswith("nope")
    assert problem.message == "unknown column 'nope'"


def test_an_unknown_table_and_an_unknown_column_suggest_the_close_name(root: Path) -> None:
    table_sql = root / "dws" / "daily_active_sensors.sql"
    table_line = edit(table_sql, "${dwd_database}.traffic_events", "${dwd_database}.trafic_events")
    column_sql = root / "dws" / "sensor_hourly.sql"
    column_line = edit(column_sql, "avg(current_speed)", "avg(curent_speed)")

    problems = check(root)

    assert [(p.path, p.line, p.message) for p in problems] == [
        (table_sql, table_line,
         "unknown table 'dwd.trafic_events' (did you mean dwd.traffic_events?)"),
        (column_sql, column_line, "unknown column 'curent_speed' (did you mean current_speed?)"),
    ]  # fmt: skip


def test_a_table_not_in_the_models_sources_and_an_unknown_placeholder(root: Path) -> None:
    path = root / "dws" / "sensor_hourly.sql"
    edit(path, "FROM ${dwd_database}.traffic_events", "FROM ${dwd_database}.app_events")
    line = edit(path, "-- dws.sensor_hourly", "-- ${dws_databse}.sensor_hourly")

    messages = [(p.line, p.message) for p in check(root)]

    assert (line, "unknown placeholder ${dws_databse}; known: ") == (
        messages[0][0], messages[0][1][: len("unknown placeholder ${dws_databse}; known: ")]
    )  # fmt: skip
    assert any("reads dwd.app_events, which is not in its sources" in m for _, m in messages)


def test_the_output_must_end_with_the_partition_columns_as_strings(root: Path) -> None:
    path = root / "dws" / "daily_active_sensors.sql"
    edit(path, "    year,\n    month,\n    day\n", "    year,\n    day,\n    month\n")

    problem = only(check(root))

    assert problem.path == path
    assert "must end with the partition columns year, month, day" in problem.message


def test_what_the_local_engine_refuses_is_a_problem_at_the_function(root: Path) -> None:
    path = root / "dws" / "sensor_hourly.sql"
    line = edit(
        path,
        "count_if(traffic_jam = 1) AS jam_minutes",
        "count_iff(traffic_jam = 1) AS jam_minutes",
    )

    problem = only(check(root))

    assert (problem.path, problem.line) == (path, line)
    assert problem.message.startswith("the local engine (DuckDB) cannot run it:")
    assert "count_iff" in problem.message


def test_a_model_tests_mistake_is_a_problem(root: Path) -> None:
    path = root / "dws" / "sensor_hourly.test.yaml"
    line = edit(path, "    date: 2026-10-25", "    date: 2026-10-32")

    problem = only(check(root))

    assert (problem.path, problem.line) == (path, line)
    assert "not a date" in problem.message


def test_a_selection_checks_those_models_and_what_they_read(root: Path) -> None:
    edit(root / "dws" / "daily_active_users.sql", "events.action,", "events.actoin,")

    assert check(root, ["sensor_hourly"]) == []
    assert len(check(root, ["app_version_adoption_daily"])) == 1


def test_placeholder_positions_map_back_through_the_rendering() -> None:
    original = "SELECT a\nFROM ${dwd_database}.t\nWHERE ${event_day_partitions} AND b = 1"
    rendered, unknown = render_located(
        original, {"dwd_database": "d", "event_day_partitions": "(year = '2026')"}
    )

    assert unknown == []
    for word in ("a", ".t", "b = 1"):
        offset = rendered.text.index(word)
        line, col = rendered.position(offset)
        assert original.splitlines()[line - 1][col - 1 :].startswith(word)
    # inside a placeholder's value: the placeholder
    line, col = rendered.position(rendered.text.index("2026"))
    assert re.match(r"\$\{event_day_partitions\}", original.splitlines()[line - 1][col - 1 :])
