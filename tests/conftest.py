"""Shared fixtures: no test may reach a real AWS account."""

from __future__ import annotations

import copy
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from moto.core.config import default_user_config

# Same examples on every run: a property test that fails in CI fails again on a laptop.
# (HYPOTHESIS_PROFILE=explore searches new examples, e.g. before a release.)
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
}


@pytest.fixture(autouse=True, scope="session")
def terminal_size_of_a_pipe() -> Iterator[None]:
    """pytest-xdist's workers set COLUMNS=80 and LINES=24; outside them the CLI writes to a
    pipe at its own width. Every test (and every process a test starts) sees what a user's
    pipe or CI log sees."""
    saved = {name: os.environ.pop(name) for name in ("COLUMNS", "LINES") if name in os.environ}
    yield
    os.environ.update(saved)


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials for every test (moto's recommendation), so nothing can reach AWS."""
    for name, value in FAKE_AWS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield


@pytest.fixture(autouse=True)
def moto_configuration_left_as_found() -> Iterator[None]:
    """moto's configuration (/moto-api/config) is process-global: a test that leaves state
    machine execution on makes a later mock_aws() test in the same worker run its machines
    (a stopped execution then still reads RUNNING). Restore it, and fail the test that leaked."""
    before = copy.deepcopy(default_user_config)
    yield
    after = copy.deepcopy(default_user_config)
    if after != before:
        default_user_config.clear()
        default_user_config.update(before)
        pytest.fail(f"moto's process-global configuration changed: {before} -> {after}")


@pytest.fixture(autouse=True, scope="session")
def moto_serves_athena_rest() -> Iterator[None]:
    """moto (mock_aws or a server) answers the Athena REST paths today's botocore calls, as the
    runtime makes it (etl_local.moto_patches; its test says when moto no longer needs it)."""
    from etl_local.moto_patches import install_athena_rest_routes

    with install_athena_rest_routes():
        yield


def pytest_configure(config: pytest.Config) -> None:
    # Same at collection time, before fixtures run, for modules that build clients on import.
    for name, value in FAKE_AWS.items():
        os.environ.setdefault(name, value)


# The local runtime deploys from the local environment's plan: tests that start it (or read
# its settings) need build/plan-local.json as the repository's files plan it today.
_NEED_LOCAL_PLAN = ("tests/local/", "tests/e2e/", "tests/bench/", "tests/terraform/")
_REPOSITORY = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def local_plan(request: pytest.FixtureRequest) -> None:
    """Make build/plan-local.json (as `make run` does) when a collected test needs it and
    it is missing or older than what it is planned from."""
    from tools.terraform_plan import BUILD_DIR, is_fresh

    items = getattr(request.session, "items", [])
    if not any(
        str(Path(item.fspath).relative_to(_REPOSITORY)).startswith(_NEED_LOCAL_PLAN)
        for item in items
    ):
        return
    if not is_fresh(BUILD_DIR / "plan-local.json"):
        subprocess.run(["make", "-s", "build/plan-local.json"], cwd=_REPOSITORY, check=True)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop the session's Trino server (tests/oracle), once every worker is done."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        from trino_session import stop_session_server

        stop_session_server()
