"""activities/outbound_guard.py over real sockets: the pinned connection and what is refused."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from activities.outbound_guard import pinned_request, refusal

NAME = "images.test"


def _certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for NAME only (its own CA): (certificate, key) files."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAME)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(NAME)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path, list[str]]]:
    """An https server on 127.0.0.1 with NAME's certificate: (port, CA file, Host headers)."""
    cert_file, key_file = _certificate(tmp_path_factory.mktemp("tls"))
    hosts: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hosts.append(self.headers["Host"])
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], cert_file, hosts
    finally:
        server.shutdown()
        server.server_close()


async def test_a_pinned_request_connects_to_the_address_and_verifies_the_name(
    tls_server: tuple[int, Path, list[str]],
) -> None:
    """What the guard sends: the checked address in the URL, the name in Host and TLS (SNI and
    the certificate check), so the address cannot change between check and connect and the
    certificate still has to be the image host's."""
    port, ca_file, hosts = tls_server
    transport = httpx.AsyncHTTPTransport(verify=ssl.create_default_context(cafile=str(ca_file)))
    loopback = ipaddress.ip_address("127.0.0.1")
    request = httpx.Request("GET", f"https://{NAME}:{port}/a.jpg")
    response = await transport.handle_async_request(pinned_request(request, NAME, loopback))
    await response.aread()
    assert response.status_code == 200
    assert hosts == [f"{NAME}:{port}"]

    impostor = httpx.Request("GET", f"https://other.test:{port}/a.jpg")
    with pytest.raises(httpx.ConnectError, match=r"CERTIFICATE_VERIFY_FAILED|certificate"):
        await transport.handle_async_request(pinned_request(impostor, "other.test", loopback))
    await transport.aclose()


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.251", False),
        ("240.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fd00::1", False),
        ("::ffff:10.0.0.1", False),
        ("2002:a00:1::1", False),
        ("64:ff9b::7f00:1", False),
    ],
)
def test_only_global_unicast_addresses_are_public(address: str, public: bool) -> None:
    assert (refusal(ipaddress.ip_address(address)) is None) is public
