"""TLS against a real loopback server with throw-away certificates (trustme)."""

import ssl
from pathlib import Path

import pytest
import trustme

from app.wats import TlsError, TransientError, WatsClient, explain_ssl_error, make_ssl_context

from .loopback import http_reply, serve

VERSION = http_reply(b'"2023.2.1.4"')


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "company-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def _server_context(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    return context


async def test_ca_bundle_verifies_the_server(ca, ca_file):
    async with (
        serve(VERSION, tls=_server_context(ca, "127.0.0.1")) as (port, seen),
        WatsClient(f"https://127.0.0.1:{port}", "t", verify=str(ca_file)) as client,
    ):
        assert await client.version() == "2023.2.1.4"
    assert seen.heads[0].startswith("GET /api/App/Version HTTP/1.1")


async def test_os_store_does_not_trust_an_unknown_ca(ca):
    async with (
        serve(VERSION, tls=_server_context(ca, "127.0.0.1")) as (port, _),
        WatsClient(f"https://127.0.0.1:{port}", "t") as client,
    ):
        with pytest.raises(TlsError) as info:
            await client.version()
    error = info.value
    assert not isinstance(error, TransientError)
    assert str(error).startswith(
        f"TLS problem with the WATS server at https://127.0.0.1:{port}/: the server's "
        "certificate is not trusted: "
    )
    assert error.status is None


async def test_insecure_skips_verification(ca):
    async with (
        serve(VERSION, tls=_server_context(ca, "127.0.0.1")) as (port, _),
        WatsClient(f"https://127.0.0.1:{port}", "t", verify=False) as client,
    ):
        assert await client.version() == "2023.2.1.4"


async def test_certificate_for_another_name_is_explained(ca, ca_file):
    async with (
        serve(VERSION, tls=_server_context(ca, "other.example.test")) as (port, _),
        WatsClient(f"https://127.0.0.1:{port}", "t", verify=str(ca_file)) as client,
    ):
        with pytest.raises(TlsError, match="issued for another address than the URL's"):
            await client.version()


async def test_https_to_a_plain_http_port_is_a_tls_error():
    async with (
        serve(http_reply(b"{}", "400 Bad Request"), greet_first=True) as (port, _),
        WatsClient(f"https://127.0.0.1:{port}", "t") as client,
    ):
        with pytest.raises(TlsError, match="the TLS handshake failed: "):
            await client.version()


def test_make_ssl_context_modes(ca_file, tmp_path):
    system = make_ssl_context(True)
    assert type(system).__module__.startswith("truststore")
    assert make_ssl_context(str(ca_file)).verify_mode == ssl.CERT_REQUIRED
    assert make_ssl_context(str(tmp_path)).verify_mode == ssl.CERT_REQUIRED  # a CA folder
    insecure = make_ssl_context(False)
    assert insecure.verify_mode == ssl.CERT_NONE
    assert insecure.check_hostname is False


def test_missing_or_bad_ca_bundle_is_refused_in_plain_words(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        make_ssl_context(str(tmp_path / "nope.pem"))
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    with pytest.raises(ValueError, match="holds no usable certificate"):
        make_ssl_context(str(junk))


def test_explain_ssl_error_names_the_likely_cause():
    unknown_ca = ssl.SSLCertVerificationError(1, "verify failed")
    unknown_ca.verify_message = "unable to get local issuer certificate"
    assert "install the company CA certificate" in explain_ssl_error(unknown_ca)
    wrong_port = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")
    wrong_port.reason = "WRONG_VERSION_NUMBER"
    assert explain_ssl_error(wrong_port) == (
        "the TLS handshake failed: wrong version number (the port does not speak TLS; if the "
        "server uses plain HTTP, use an http:// URL)"
    )
