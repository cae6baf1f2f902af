"""No traceback for a user's mistake, anywhere in the CLI: every `etl` command, given a
project (a copy of sql/) or arguments with a seeded mistake, ends with a non-zero exit code
and one line naming the mistake, and nothing escapes `main` (which would print a traceback)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from etl_lambdas.catalog import default_sql_root, load_catalog
from etl_local import cli, devloop_cli
from tests.local.test_cli import FakeRuntime


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "sql"
    shutil.copytree(default_sql_root(), root)
    return root


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def wrong_column_type(root: Path) -> None:
    _replace(
        root / "sources.yaml", "type: int, field: currentSpeed", "type: integr, field: currentSpeed"
    )


def missing_comma(root: Path) -> None:
    _replace(root / "dws" / "sensor_hourly.sql", "count(*) AS events,", "count(*) AS events")


def broken_toml(root: Path) -> None:
    _replace(root / "models.toml", 'tier = "dws"', 'tier = "dws')


def broken_test_file(root: Path) -> None:
    _replace(root / "dws" / "sensor_hourly.test.yaml", "date: 2026-10-25", "date: 2026-10-32")


def untouched(root: Path) -> None:
    return None


def bad_file(tmp_path: Path) -> str:
    path = tmp_path / "not-json.json"
    path.write_text("sensor;speed\n1;2\n", encoding="utf-8")
    return str(path)


Case = tuple[Callable[[Path], None], Callable[[Path], list[str]], str]
_TALLY = re.compile(r"^(etl check: \d+ problem|etl test: \d+ passed|PASS )")
CASES: dict[str, Case] = {
    "check: a wrong column type": (
        wrong_column_type, lambda _: ["check"], "sources.yaml:33:38: source 'traffic'"),
    "check: a missing comma": (
        missing_comma, lambda _: ["check"], "sensor_hourly.sql:17:5: syntax error"),
    "test: a broken test file": (
        broken_test_file, lambda _: ["test"], "sensor_hourly.test.yaml:27: date '2026-10-32'"),
    "test: models.toml is not TOML": (broken_toml, lambda _: ["test"], "models.toml: "),
    "test: an unknown selector": (untouched, lambda _: ["test", "-s", "nope"], "no model 'nope'"),
    "run: a missing comma": (
        missing_comma, lambda _: ["run", "--date", "2026-03-01"], "sensor_hourly.sql:17:5"),
    "run: a wrong column type": (
        wrong_column_type, lambda _: ["run", "--date", "2026-03-01"], "sources.yaml:33:38"),
    "run: an unknown model": (
        untouched, lambda _: ["run", "--date", "2026-03-01", "-s", "nope+"], "no model 'nope'"),
    "load: an unknown source": (
        untouched, lambda tmp: ["load", "trafic", bad_file(tmp)], "unknown source 'trafic'"),
    "load: a file of another format": (
        untouched, lambda tmp: ["load", "traffic", bad_file(tmp)], "its first line is not JSON"),
    "load: a bad arrival": (
        untouched, lambda tmp: ["load", "traffic", bad_file(tmp), "--arrival", "2026-11-31"],
        "--arrival '2026-11-31'"),
    "generate: a wrong column type": (
        wrong_column_type, lambda _: ["generate"], "column 'current_speed': Athena has no"),
    "query: a column Athena cannot resolve": (
        untouched, lambda _: ["query", "SELECT broken FROM ads.x"], "cannot be resolved"),
    "run: a day not over yet": (untouched, lambda _: ["run", "--date", "2999-01-01"], "2999"),
}  # fmt: skip


class _S3:
    """What `etl load` asks of the raw bucket before it writes anything."""

    def head_object(self, **_: Any) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "404"}}, "HeadObject")

    def put_object(self, **_: Any) -> None:
        raise AssertionError("a file with a problem must not be loaded")


class _Runtime(FakeRuntime):
    def client(self, service: str) -> _S3:
        return _S3()


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_users_mistake_is_one_line_and_no_traceback(
    case: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    seed, argv, named = CASES[case]
    root = _copy(tmp_path)
    seed(root)
    monkeypatch.setattr(devloop_cli, "sql_root", lambda: root)
    load_catalog.cache_clear()

    try:
        code = cli.main(argv(tmp_path), runtime_factory=_Runtime())
    except SystemExit as exit_:  # argparse's own one-line errors
        code = exit_.code
    finally:
        load_catalog.cache_clear()

    captured = capfd.readouterr()
    output = captured.out + captured.err
    assert code not in (0, None)
    assert "Traceback" not in output
    naming = [line for line in output.splitlines() if named in line]
    assert len(naming) == 1, output
    # besides the tallies of check and test, and the tests that passed, nothing else
    others = [line for line in output.splitlines() if not _TALLY.match(line)]
    assert others == naming, output
