"""Homes of the e2e modules' runtimes: each new, all sharing one cache per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def e2e_home(tmp_path_factory: pytest.TempPathFactory, name: str = "etl-home") -> Path:
    """A new runtime home whose `cache/` is the test session's shared one (pytest-xdist's
    workers share their parent directory)."""
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "e2e-cache"
    shared.mkdir(exist_ok=True)
    home = tmp_path_factory.mktemp(name)
    (home / "cache").symlink_to(shared, target_is_directory=True)
    return home
