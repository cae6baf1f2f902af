"""The provider as Terraform runs it: a process, a handshake line, gRPC (with mutual TLS).

Terraform itself drives it in tests/terraform; these tests speak the protocol directly, to
show each rule with its own failure.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from tfplugin_proto import tfplugin6_5_pb2 as proto

from tools.offline_aws_provider.codec import decode_msgpack, encode_msgpack
from tools.offline_aws_provider.handshake import MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE
from tools.offline_aws_provider.mutual_tls import self_signed_certificate
from tools.offline_aws_provider.schema import ProviderSchema
from tools.offline_aws_provider.service import CANNOT_APPLY
from tools.offline_aws_provider.values import UNKNOWN

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Plugin:
    process: subprocess.Popen[str]
    handshake: list[str]
    channel: grpc.Channel

    def call(self, method: str, request: Any, response_type: Any) -> Any:
        rpc = self.channel.unary_unary(
            f"/tfplugin6.Provider/{method}",
            request_serializer=type(request).SerializeToString,
            response_deserializer=response_type.FromString,
        )
        return rpc(request, timeout=30)

    def shutdown(self) -> int:
        rpc = self.channel.unary_unary("/plugin.GRPCController/Shutdown")
        rpc(b"", timeout=10)
        return self.process.wait(timeout=10)


def _start(extra_environment: dict[str, str]) -> subprocess.Popen[str]:
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY_ROOT), **extra_environment}
    return subprocess.Popen(
        [sys.executable, "-m", "tools.offline_aws_provider"],
        env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _plugin(client_pem: bytes | None, client_key_pem: bytes | None) -> Plugin:
    environment = {MAGIC_COOKIE_KEY: MAGIC_COOKIE_VALUE, "PLUGIN_PROTOCOL_VERSIONS": "5,6"}
    if client_pem:
        environment["PLUGIN_CLIENT_CERT"] = client_pem.decode()
    process = _start(environment)
    assert process.stdout is not None
    handshake = process.stdout.readline().strip().split("|")
    address = handshake[3]
    if client_pem and client_key_pem:
        der = base64.b64decode(handshake[5] + "=" * (-len(handshake[5]) % 4))
        server_pem = x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)
        credentials = grpc.ssl_channel_credentials(server_pem, client_key_pem, client_pem)
        channel = grpc.secure_channel(
            address, credentials, options=[("grpc.ssl_target_name_override", "localhost")]
        )
    else:
        channel = grpc.insecure_channel(address)
    return Plugin(process, handshake, channel)


@pytest.fixture(scope="module")
def plugin() -> Iterator[Plugin]:
    """With AutoMTLS, as Terraform starts it (a P-256 client key: gRPC's Python TLS has no
    P-521, which Terraform's own client uses; tests/terraform cover that one)."""
    client = self_signed_certificate()
    started = _plugin(client.certificate_pem, client.private_key_pem)
    yield started
    assert started.shutdown() == 0


def test_the_handshake_line_is_go_plugins(plugin: Plugin) -> None:
    core, protocol, network, address, wire, certificate = plugin.handshake
    assert (core, protocol, network, wire) == ("1", "6", "tcp", "grpc")
    assert address.startswith("127.0.0.1:")
    assert certificate and not certificate.endswith("=")  # base64 without padding


def test_the_schema_has_every_resource_type(plugin: Plugin) -> None:
    response = plugin.call(
        "GetProviderSchema", proto.GetProviderSchema.Request(), proto.GetProviderSchema.Response
    )
    schema = ProviderSchema.load()
    assert set(response.resource_schemas) == set(schema.document["resource_schemas"])
    assert set(response.data_source_schemas) == set(schema.document["data_source_schemas"])


def _dynamic(value: Any, cty_type: Any) -> proto.DynamicValue:
    return proto.DynamicValue(msgpack=encode_msgpack(value, cty_type))


def test_a_new_resource_is_planned_and_never_applied(plugin: Plugin) -> None:
    schema = ProviderSchema.load()
    provider_config = {"region": "eu-west-1"}
    configured = plugin.call(
        "ConfigureProvider",
        proto.ConfigureProvider.Request(config=_dynamic(provider_config, schema.provider_type)),
        proto.ConfigureProvider.Response,
    )
    assert list(configured.diagnostics) == []
    topic_type = schema.resource_type("aws_sns_topic")
    names = topic_type[1]
    config = dict.fromkeys(names) | {"name": "alerts"}
    planned = plugin.call(
        "PlanResourceChange",
        proto.PlanResourceChange.Request(
            type_name="aws_sns_topic",
            prior_state=_dynamic(None, topic_type),
            proposed_new_state=_dynamic(config, topic_type),
            config=_dynamic(config, topic_type),
        ),
        proto.PlanResourceChange.Response,
    )
    assert list(planned.diagnostics) == []
    state = decode_msgpack(planned.planned_state.msgpack, topic_type)
    assert state["name"] == "alerts"
    assert state["region"] == "eu-west-1"
    assert state["arn"] == "arn:aws:sns:eu-west-1:123456789012:alerts"
    assert state["id"] is UNKNOWN or state["id"] == state["arn"]

    applied = plugin.call(
        "ApplyResourceChange",
        proto.ApplyResourceChange.Request(type_name="aws_sns_topic",
                                          planned_state=planned.planned_state),
        proto.ApplyResourceChange.Response,
    )  # fmt: skip
    (diagnostic,) = applied.diagnostics
    assert diagnostic.severity == proto.Diagnostic.ERROR
    assert diagnostic.summary == CANNOT_APPLY


def test_without_the_client_certificate_nothing_is_served(plugin: Plugin) -> None:
    der = base64.b64decode(plugin.handshake[5] + "=" * (-len(plugin.handshake[5]) % 4))
    server_pem = x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)
    stranger = self_signed_certificate()
    credentials = grpc.ssl_channel_credentials(
        server_pem, stranger.private_key_pem, stranger.certificate_pem
    )
    channel = grpc.secure_channel(
        plugin.handshake[3], credentials, options=[("grpc.ssl_target_name_override", "localhost")]
    )
    rpc = channel.unary_unary(
        "/tfplugin6.Provider/GetMetadata",
        request_serializer=proto.GetMetadata.Request.SerializeToString,
        response_deserializer=proto.GetMetadata.Response.FromString,
    )
    with pytest.raises(grpc.RpcError) as failure:
        rpc(proto.GetMetadata.Request(), timeout=10)
    assert failure.value.code() == grpc.StatusCode.UNAVAILABLE


def test_run_by_hand_it_says_what_it_is_and_exits() -> None:
    process = _start({MAGIC_COOKIE_KEY: ""})
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 1
    assert "not meant to be executed directly" in stderr


def test_a_terraform_without_protocol_6_is_refused() -> None:
    process = _start({MAGIC_COOKIE_KEY: MAGIC_COOKIE_VALUE, "PLUGIN_PROTOCOL_VERSIONS": "4,5"})
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 1
    assert "speaks only 6" in stderr
