"""The provider service's answers, called directly (tests/offline_provider/test_plugin_process.py
calls them over gRPC, tests/terraform through Terraform)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tfplugin_proto import tfplugin6_5_pb2 as proto

from tools.offline_aws_provider.codec import decode_msgpack, encode_msgpack
from tools.offline_aws_provider.environment import ProviderEnv
from tools.offline_aws_provider.schema import ProviderSchema
from tools.offline_aws_provider.service import CANNOT_APPLY, OfflineAwsProvider, ProviderError


def _read(type_name: str, config: dict[str, Any], env: ProviderEnv) -> dict[str, Any]:
    raise ProviderError(f"cannot read {type_name}", "in this test")


@pytest.fixture(scope="module")
def provider() -> OfflineAwsProvider:
    return OfflineAwsProvider(ProviderSchema.load(), _read, lambda *_: [], lambda *_: {})


def test_state_is_upgraded_by_passing_it_through(provider: OfflineAwsProvider) -> None:
    raw = {"name": "alerts", "arn": "arn:aws:sns:eu-west-1:123456789012:alerts"}
    response = provider.UpgradeResourceState(
        proto.UpgradeResourceState.Request(
            type_name="aws_sns_topic",
            version=0,
            raw_state=proto.RawState(json=json.dumps(raw).encode()),
        ),
        None,
    )
    state = decode_msgpack(
        response.upgraded_state.msgpack, provider.schema.resource_type("aws_sns_topic")
    )
    assert state["name"] == "alerts"
    assert state["arn"] == raw["arn"]
    assert state["policy"] is None


@pytest.mark.parametrize(
    ("method", "request_message"),
    [
        ("ReadResource", proto.ReadResource.Request(type_name="aws_sns_topic")),
        (
            "ImportResourceState",
            proto.ImportResourceState.Request(type_name="aws_sns_topic", id="x"),
        ),
        ("ApplyResourceChange", proto.ApplyResourceChange.Request(type_name="aws_sns_topic")),
    ],
)
def test_nothing_that_needs_aws_is_done(
    provider: OfflineAwsProvider, method: str, request_message: Any
) -> None:
    (diagnostic,) = getattr(provider, method)(request_message, None).diagnostics
    assert diagnostic.severity == proto.Diagnostic.ERROR
    assert diagnostic.summary == CANNOT_APPLY
    assert "aws_sns_topic" in diagnostic.detail


def test_a_data_source_error_is_a_diagnostic(provider: OfflineAwsProvider) -> None:
    provider.ConfigureProvider(
        proto.ConfigureProvider.Request(
            config=proto.DynamicValue(
                msgpack=encode_msgpack({"region": "eu-west-1"}, provider.schema.provider_type)
            )
        ),
        None,
    )
    object_type = provider.schema.data_source_type("aws_region")
    response = provider.ReadDataSource(
        proto.ReadDataSource.Request(
            type_name="aws_region",
            config=proto.DynamicValue(msgpack=encode_msgpack({}, object_type)),
        ),
        None,
    )
    (diagnostic,) = response.diagnostics
    assert (diagnostic.summary, diagnostic.detail) == ("cannot read aws_region", "in this test")


def test_a_provider_without_a_region_is_refused(
    provider: OfflineAwsProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    response = provider.ConfigureProvider(
        proto.ConfigureProvider.Request(
            config=proto.DynamicValue(msgpack=encode_msgpack({}, provider.schema.provider_type))
        ),
        None,
    )
    (diagnostic,) = response.diagnostics
    assert "region" in diagnostic.detail
