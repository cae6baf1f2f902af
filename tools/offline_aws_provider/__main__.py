"""`python -m tools.offline_aws_provider`: the plugin process Terraform starts."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import grpc

from tools.offline_aws_provider.environment import ProviderEnv
from tools.offline_aws_provider.handshake import HandshakeError, serve
from tools.offline_aws_provider.planning import PREDICTIONS_VARIABLE, PlannedValues
from tools.offline_aws_provider.schema import ProviderSchema
from tools.offline_aws_provider.service import (
    OfflineAwsProvider,
    ProviderError,
    ReadDataSource,
    ValidateDataSource,
    generic_handler,
)


def read_data_source(type_name: str, config: dict[str, Any], env: ProviderEnv) -> dict[str, Any]:
    from tools.offline_aws_provider import data_sources

    try:
        return data_sources.read(type_name, config, env)
    except data_sources.DataSourceError as error:
        raise ProviderError(error.summary, error.detail) from error


def validate_data_source(type_name: str, config: dict[str, Any]) -> list[ProviderError]:
    from tools.offline_aws_provider import data_sources

    return [
        ProviderError(error.summary, error.detail)
        for error in data_sources.validate(type_name, config)
    ]


def planned_values(type_name: str, config: dict[str, Any], env: ProviderEnv) -> dict[str, Any]:
    """The predicted computed attributes, unless the plan must be as unknown as a real one."""
    if os.environ.get(PREDICTIONS_VARIABLE) == "off":
        return {}
    from tools.offline_aws_provider import computed

    return computed.planned_values(type_name, config, env)


def main(
    read: ReadDataSource = read_data_source,
    validate: ValidateDataSource = validate_data_source,
    plan: PlannedValues = planned_values,
) -> int:
    # Terraform shows a plugin's stderr in its own log (TF_LOG); stdout is the handshake.
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    provider = OfflineAwsProvider(ProviderSchema.load(), read, validate, plan)

    def register(server: grpc.Server) -> None:
        server.add_generic_rpc_handlers((generic_handler(provider),))

    try:
        serve(register)
    except HandshakeError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
