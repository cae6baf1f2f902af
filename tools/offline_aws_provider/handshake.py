"""How Terraform starts a provider: go-plugin's handshake, over gRPC with mutual TLS.

Terraform runs the plugin executable with a magic cookie, the protocol versions it speaks and
(AutoMTLS) its own client certificate in the environment, then reads one line from the
plugin's stdout:

    1|6|tcp|127.0.0.1:<port>|grpc|<server certificate, DER, base64 without padding>

(core protocol 1, plugin protocol 6). With PLUGIN_CLIENT_CERT set the server must speak TLS
with a fresh self-signed certificate for "localhost" and accept only that client
certificate (see mutual_tls). go-plugin's controller service
(`plugin.GRPCController/Shutdown`) is how Terraform asks the plugin to exit; it has an empty
request and response, so it is served here
with raw bytes rather than generated stubs.
"""

from __future__ import annotations

import base64
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from concurrent import futures
from pathlib import Path
from typing import TextIO

import grpc

from tools.offline_aws_provider.mutual_tls import TlsProxy, self_signed_certificate, server_context

MAGIC_COOKIE_KEY = "TF_PLUGIN_MAGIC_COOKIE"
MAGIC_COOKIE_VALUE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"
CORE_PROTOCOL_VERSION = 1
PLUGIN_PROTOCOL_VERSION = 6
# Terraform accepts provider messages up to 256 MiB; the provider schema alone is over 1 MiB.
MAX_MESSAGE_BYTES = 256 << 20
_CONTROLLER_SHUTDOWN = "/plugin.GRPCController/Shutdown"


class HandshakeError(RuntimeError):
    """The plugin was not started by Terraform, or not for a protocol it speaks."""


def check_started_by_terraform(environ: Mapping[str, str]) -> None:
    if environ.get(MAGIC_COOKIE_KEY) != MAGIC_COOKIE_VALUE:
        raise HandshakeError(
            "This binary is a plugin (the offline stand-in for hashicorp/aws). It is not meant "
            "to be executed directly: Terraform runs it."
        )
    offered = environ.get("PLUGIN_PROTOCOL_VERSIONS", "")
    versions = {v.strip() for v in offered.split(",") if v.strip()}
    if versions and str(PLUGIN_PROTOCOL_VERSION) not in versions:
        raise HandshakeError(
            f"Terraform offers plugin protocol versions {offered}; this provider speaks only "
            f"{PLUGIN_PROTOCOL_VERSION} (Terraform 1.0 or later)"
        )


def _controller_handler(stop: threading.Event) -> grpc.GenericRpcHandler:
    def shutdown(request: bytes, context: grpc.ServicerContext) -> bytes:
        stop.set()
        return b""  # an empty plugin.Empty message

    handler = grpc.unary_unary_rpc_method_handler(
        shutdown, request_deserializer=None, response_serializer=None
    )
    return grpc.method_handlers_generic_handler("plugin.GRPCController", {"Shutdown": handler})


def serve(
    register: Callable[[grpc.Server], None],
    environ: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
) -> None:
    """Serve until Terraform asks the plugin to shut down."""
    environ = os.environ if environ is None else environ
    stdout = sys.stdout if stdout is None else stdout
    check_started_by_terraform(environ)
    stop = threading.Event()
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=4),
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ],
    )
    register(server)
    server.add_generic_rpc_handlers((_controller_handler(stop),))
    client_certificate = environ.get("PLUGIN_CLIENT_CERT", "")
    certificate_field = ""
    with tempfile.TemporaryDirectory(prefix="offline-aws-provider-") as private_directory:
        if client_certificate:
            backend = Path(private_directory, "grpc.sock")  # only this user can reach it
            server.add_insecure_port(f"unix:{backend}")
            server.start()
            certificate = self_signed_certificate()
            proxy = TlsProxy(server_context(certificate, client_certificate), backend)
            port = proxy.start()
            certificate_field = base64.b64encode(certificate.certificate_der).decode().rstrip("=")
        else:  # TF_DISABLE_PLUGIN_TLS: plaintext on the loopback interface
            port = server.add_insecure_port("127.0.0.1:0")
            server.start()
        stdout.write(
            f"{CORE_PROTOCOL_VERSION}|{PLUGIN_PROTOCOL_VERSION}|tcp|127.0.0.1:{port}|grpc|"
            f"{certificate_field}\n"
        )
        stdout.flush()
        stop.wait()
        server.stop(grace=0.5).wait()
