"""The offline provider with stand-ins for the data sources and computed values (tests only)."""

from __future__ import annotations

from typing import Any

from tools.offline_aws_provider.__main__ import main, read_data_source, validate_data_source
from tools.offline_aws_provider.environment import ProviderEnv


def no_predictions(type_name: str, config: dict[str, Any], env: ProviderEnv) -> dict[str, Any]:
    return {}


if __name__ == "__main__":
    raise SystemExit(main(read_data_source, validate_data_source, no_predictions))
