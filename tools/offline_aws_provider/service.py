"""The tfplugin6 Provider service: what Terraform asks the offline AWS provider, answered.

It validates and plans against the real schema, reads the data sources it can compute, and
refuses everything that would need AWS: applying, importing, refreshing real state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import grpc
from tfplugin_proto import tfplugin6_5_pb2 as proto

from tools.offline_aws_provider import codec
from tools.offline_aws_provider.environment import ProviderEnv, ProviderEnvError
from tools.offline_aws_provider.planning import PlannedValues, ProviderSettings, plan_new_resource
from tools.offline_aws_provider.schema import ProviderSchema

ReadDataSource = Callable[[str, dict[str, Any], ProviderEnv], dict[str, Any]]
ValidateDataSource = Callable[[str, dict[str, Any]], list["ProviderError"]]

CANNOT_APPLY = "The offline stand-in for hashicorp/aws cannot apply"
CANNOT_APPLY_DETAIL = (
    "This provider only validates and plans, against the real hashicorp/aws {version} schema, "
    "without any network access. It cannot {action}: run Terraform with the real "
    "hashicorp/aws provider (without the offline CLI configuration) to change AWS."
)
_log = logging.getLogger(__name__)


class ProviderError(Exception):
    """Becomes one error diagnostic."""

    def __init__(self, summary: str, detail: str = "") -> None:
        super().__init__(summary)
        self.summary = summary
        self.detail = detail


def error_diagnostic(summary: str, detail: str = "") -> proto.Diagnostic:
    return proto.Diagnostic(severity=proto.Diagnostic.ERROR, summary=summary, detail=detail)


class OfflineAwsProvider:
    """One provider instance (Terraform starts one process per configured provider)."""

    def __init__(
        self,
        schema: ProviderSchema,
        read_data_source: ReadDataSource,
        validate_data_source: ValidateDataSource,
        planned_values: PlannedValues,
    ) -> None:
        self.schema = schema
        self.read_data_source = read_data_source
        self.validate_data_source = validate_data_source
        self.planned_values = planned_values
        self.settings: ProviderSettings | None = None

    @property
    def _version(self) -> str:
        return str(self.schema.document.get("provider_version", ""))

    def _refuse(self, action: str) -> list[proto.Diagnostic]:
        detail = CANNOT_APPLY_DETAIL.format(version=self._version, action=action)
        return [error_diagnostic(CANNOT_APPLY, detail)]

    def _configured(self) -> ProviderSettings:
        if self.settings is None:
            raise ProviderError(
                "The provider is not configured", "ConfigureProvider was not called"
            )
        return self.settings

    # --- schema and validation -------------------------------------------------------------

    def GetMetadata(self, request: Any, context: Any) -> proto.GetMetadata.Response:
        document = self.schema.document
        return proto.GetMetadata.Response(
            server_capabilities=proto.ServerCapabilities(
                plan_destroy=True, get_provider_schema_optional=True
            ),
            resources=[
                proto.GetMetadata.ResourceMetadata(type_name=name)
                for name in document["resource_schemas"]
            ],
            data_sources=[
                proto.GetMetadata.DataSourceMetadata(type_name=name)
                for name in document["data_source_schemas"]
            ],
        )

    def GetProviderSchema(self, request: Any, context: Any) -> proto.GetProviderSchema.Response:
        return self.schema.get_provider_schema_response()

    def GetFunctions(self, request: Any, context: Any) -> proto.GetFunctions.Response:
        return proto.GetFunctions.Response()

    def ValidateProviderConfig(self, request: Any, context: Any) -> Any:
        return proto.ValidateProviderConfig.Response()

    def ValidateResourceConfig(self, request: Any, context: Any) -> Any:
        return proto.ValidateResourceConfig.Response()

    def ValidateDataResourceConfig(self, request: Any, context: Any) -> Any:
        """The data source's own validation of what is known before planning."""
        object_type = self.schema.data_source_type(request.type_name)
        config = codec.decode_msgpack(request.config.msgpack, object_type)
        errors = self.validate_data_source(request.type_name, config)
        return proto.ValidateDataResourceConfig.Response(
            diagnostics=[error_diagnostic(error.summary, error.detail) for error in errors]
        )

    def ConfigureProvider(self, request: Any, context: Any) -> proto.ConfigureProvider.Response:
        config = codec.decode_msgpack(request.config.msgpack, self.schema.provider_type) or {}
        try:
            env = ProviderEnv.from_config(config)
        except ProviderEnvError as error:
            return proto.ConfigureProvider.Response(
                diagnostics=[error_diagnostic("Invalid provider configuration", str(error))]
            )
        self.settings = ProviderSettings.from_config(config, env)
        return proto.ConfigureProvider.Response()

    def StopProvider(self, request: Any, context: Any) -> proto.StopProvider.Response:
        return proto.StopProvider.Response()

    # --- resources -------------------------------------------------------------------------

    def UpgradeResourceState(self, request: Any, context: Any) -> Any:
        """State written by this provider's schema needs no upgrade: decode and re-encode."""
        object_type = self.schema.resource_type(request.type_name)
        state = codec.decode_json(request.raw_state.json, object_type)
        return proto.UpgradeResourceState.Response(
            upgraded_state=proto.DynamicValue(msgpack=codec.encode_msgpack(state, object_type))
        )

    def PlanResourceChange(self, request: Any, context: Any) -> Any:
        type_name = request.type_name
        object_type = self.schema.resource_type(type_name)
        proposed = codec.decode_msgpack(request.proposed_new_state.msgpack, object_type)
        prior = codec.decode_msgpack(request.prior_state.msgpack, object_type)
        if proposed is None:  # destroy: nothing to plan
            return proto.PlanResourceChange.Response(planned_state=request.proposed_new_state)
        if prior is not None:
            return proto.PlanResourceChange.Response(
                diagnostics=self._refuse("refresh or update existing resources")
            )
        config = codec.decode_msgpack(request.config.msgpack, object_type)
        try:
            planned = plan_new_resource(
                type_name,
                self.schema.resource_block(type_name),
                proposed,
                config,
                self._configured(),
                self.planned_values,
            )
        except ProviderError as error:
            return proto.PlanResourceChange.Response(
                diagnostics=[error_diagnostic(error.summary, error.detail)]
            )
        return proto.PlanResourceChange.Response(
            planned_state=proto.DynamicValue(msgpack=codec.encode_msgpack(planned, object_type))
        )

    def ApplyResourceChange(self, request: Any, context: Any) -> Any:
        return proto.ApplyResourceChange.Response(
            diagnostics=self._refuse(f"create, update or delete {request.type_name}")
        )

    def ReadResource(self, request: Any, context: Any) -> Any:
        return proto.ReadResource.Response(
            diagnostics=self._refuse(f"read the existing {request.type_name} from AWS")
        )

    def ImportResourceState(self, request: Any, context: Any) -> Any:
        return proto.ImportResourceState.Response(
            diagnostics=self._refuse(f"import {request.type_name} {request.id!r} from AWS")
        )

    # --- data sources ----------------------------------------------------------------------

    def ReadDataSource(self, request: Any, context: Any) -> proto.ReadDataSource.Response:
        type_name = request.type_name
        object_type = self.schema.data_source_type(type_name)
        config = codec.decode_msgpack(request.config.msgpack, object_type)
        try:
            state = self.read_data_source(type_name, config, self._configured().env)
        except ProviderError as error:
            return proto.ReadDataSource.Response(
                diagnostics=[error_diagnostic(error.summary, error.detail)]
            )
        return proto.ReadDataSource.Response(
            state=proto.DynamicValue(msgpack=codec.encode_msgpack(state, object_type))
        )


_RPCS: dict[str, Any] = {
    "GetMetadata": proto.GetMetadata,
    "GetProviderSchema": proto.GetProviderSchema,
    "GetFunctions": proto.GetFunctions,
    "ValidateProviderConfig": proto.ValidateProviderConfig,
    "ValidateResourceConfig": proto.ValidateResourceConfig,
    "ValidateDataResourceConfig": proto.ValidateDataResourceConfig,
    "ConfigureProvider": proto.ConfigureProvider,
    "StopProvider": proto.StopProvider,
    "UpgradeResourceState": proto.UpgradeResourceState,
    "PlanResourceChange": proto.PlanResourceChange,
    "ApplyResourceChange": proto.ApplyResourceChange,
    "ReadResource": proto.ReadResource,
    "ImportResourceState": proto.ImportResourceState,
    "ReadDataSource": proto.ReadDataSource,
}


def _reporting_failures(name: str, method: Callable[[Any, Any], Any], response: Any) -> Any:
    """A bug here becomes an error diagnostic Terraform prints, with the exception."""

    def call(request: Any, context: Any) -> Any:
        try:
            return method(request, context)
        except Exception as error:
            _log.exception("%s failed", name)
            if "diagnostics" not in response.DESCRIPTOR.fields_by_name:
                raise
            summary = f"The offline AWS provider failed in {name}"
            return response(
                diagnostics=[error_diagnostic(summary, f"{type(error).__name__}: {error}")]
            )

    return call


def generic_handler(provider: OfflineAwsProvider) -> grpc.GenericRpcHandler:
    """The tfplugin6.Provider service; RPCs it does not list answer UNIMPLEMENTED."""
    handlers = {
        name: grpc.unary_unary_rpc_method_handler(
            _reporting_failures(name, getattr(provider, name), messages.Response),
            request_deserializer=messages.Request.FromString,
            response_serializer=messages.Response.SerializeToString,
        )
        for name, messages in _RPCS.items()
    }
    return grpc.method_handlers_generic_handler("tfplugin6.Provider", handlers)
