"""go-plugin's AutoMTLS: a fresh server certificate, and TLS that only Terraform can speak.

Terraform (go-plugin) generates a client certificate on an ECDSA P-521 key for every plugin
it starts and passes it in PLUGIN_CLIENT_CERT. gRPC's own TLS (BoringSSL) does not offer the
P-521 signature algorithm, so Go's client finds no acceptable certificate to send and the
handshake fails. TLS is therefore terminated here with Python's `ssl` (OpenSSL), which
accepts it: a small proxy that requires and verifies exactly that client certificate,
negotiates HTTP/2 by ALPN as gRPC requires, and forwards the plaintext stream to the gRPC
server listening on a Unix socket in a private directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ssl
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_CHUNK = 1 << 16


@dataclass(frozen=True)
class ServerCertificate:
    certificate_pem: bytes
    private_key_pem: bytes
    certificate_der: bytes


def self_signed_certificate() -> ServerCertificate:
    """A certificate for "localhost", its own CA, as go-plugin's client expects."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, "localhost"),
         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "offline-aws-provider")]
    )  # fmt: skip
    now = datetime.datetime.now(datetime.UTC)
    usage = x509.KeyUsage(
        digital_signature=True, key_encipherment=True, key_agreement=True, key_cert_sign=True,
        content_commitment=False, data_encipherment=False, crl_sign=False,
        encipher_only=False, decipher_only=False,
    )  # fmt: skip
    extended_usage = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage(extended_usage), critical=False)
        .sign(key, hashes.SHA256())
    )
    return ServerCertificate(
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM),
        private_key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        certificate_der=certificate.public_bytes(serialization.Encoding.DER),
    )


def server_context(certificate: ServerCertificate, client_certificate_pem: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # as go-plugin's own servers require
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cadata=client_certificate_pem)
    context.set_alpn_protocols(["h2"])
    with tempfile.TemporaryDirectory() as directory:  # load_cert_chain reads files only
        certificate_file = Path(directory, "server.pem")
        certificate_file.write_bytes(certificate.certificate_pem + certificate.private_key_pem)
        context.load_cert_chain(certificate_file)
    return context


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(_CHUNK):
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


class TlsProxy:
    """TLS on 127.0.0.1:<port>, plaintext to a Unix socket, on a background event loop."""

    def __init__(self, context: ssl.SSLContext, backend_socket: Path) -> None:
        self._context = context
        self._backend = backend_socket
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self.port = 0

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        backend_reader, backend_writer = await asyncio.open_unix_connection(self._backend)
        await asyncio.gather(_pump(reader, backend_writer), _pump(backend_reader, writer))

    async def _listen(self) -> None:
        server = await asyncio.start_server(
            self._connection, "127.0.0.1", 0, ssl=self._context, ssl_handshake_timeout=30
        )
        self.port = server.sockets[0].getsockname()[1]
        self._started.set()
        async with server:
            await server.serve_forever()

    def start(self) -> int:
        thread = threading.Thread(target=self._run, name="tls-proxy", daemon=True)
        thread.start()
        self._started.wait()
        return self.port

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        with contextlib.suppress(asyncio.CancelledError):
            self._loop.run_until_complete(self._listen())
