"""Reading a step's configuration from its environment, once, at cold start.

Handler modules call `step_environment("<step>")` at import: it reads exactly the variables
steps.yaml declares for the step; nothing else in the package touches the environment.
"""

from __future__ import annotations

import json
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


def step_environment(step: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Exactly the variables steps.yaml declares for `step`."""
    from etl_lambdas.steps import STEPS

    return read_environment(*STEPS[step].environment, environ=environ)


def positive_int(name: str, value: str) -> int:
    number = non_negative_int(name, value)
    if number < 1:
        raise ConfigurationError(f"{name}={value!r} must be at least 1")
    return number


def non_negative_int(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigurationError(f"{name}={value!r} is not an integer") from None
    if number < 0:
        raise ConfigurationError(f"{name}={value!r} must not be negative")
    return number


def time_zone(name: str, value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(f"{name}={value!r} is not an IANA time zone") from None
    return value


def string_map(name: str, value: str) -> dict[str, str]:
    """A JSON object of strings (e.g. source -> crawler name), validated."""
    try:
        decoded = json.loads(value)
    except ValueError:
        raise ConfigurationError(f"{name} is not JSON: {value!r}") from None
    if not isinstance(decoded, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in decoded.items()
    ):
        raise ConfigurationError(f"{name} must be a JSON object of non-empty strings: {value!r}")
    return decoded
