"""Shared fixtures: no test may reach a real AWS account."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

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


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials for every test (moto's recommendation), so nothing can reach AWS."""
    for name, value in FAKE_AWS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield


def pytest_configure(config: pytest.Config) -> None:
    # Same at collection time, before fixtures run, for modules that build clients on import.
    for name, value in FAKE_AWS.items():
        os.environ.setdefault(name, value)
