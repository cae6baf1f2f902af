"""Reading a step's configuration from its environment, once, at cold start.

Step modules call `read_environment` at import with the names their row of
`steps.STEPS` lists; nothing else in the package touches the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from etl_lambdas.errors import ConfigurationError


def read_environment(*names: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The values of `names`; all missing or empty ones are named in one ConfigurationError."""
    source = os.environ if environ is None else environ
    missing = sorted(name for name in names if not source.get(name, "").strip())
    if missing:
        raise ConfigurationError(f"missing environment variable(s): {', '.join(missing)}")
    return {name: source[name].strip() for name in names}


def positive_int(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigurationError(f"{name}={value!r} is not an integer") from None
    if number < 1:
        raise ConfigurationError(f"{name}={value!r} must be at least 1")
    return number


def time_zone(name: str, value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(f"{name}={value!r} is not an IANA time zone") from None
    return value
