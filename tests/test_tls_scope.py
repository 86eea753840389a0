"""The ASGI TLS extension added to uvicorn's scopes: the application sees the peer's client certificate."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from harness.foundations.servers import BackgroundServer
from harness.foundations.tls import RunCertificates, certificate_subject, certificate_thumbprint
from harness.foundations.tls_scope import peer_certificate


async def echo(request: Request) -> Response:
    """The scope's TLS extension, and what `peer_certificate` reads from it."""
    extensions: dict[str, Any] = request.scope.get("extensions", {})
    return JSONResponse({"tls": extensions.get("tls"), "peer": peer_certificate(request.scope)})


async def echo_then_tamper(request: Request) -> Response:
    """Echo, then empty the chain in place: the next request must not see it."""
    response = await echo(request)
    request.scope["extensions"]["tls"]["client_cert_chain"].clear()
    return response


APP = Starlette(routes=[Route("/", echo), Route("/altere", echo_then_tamper)])


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> RunCertificates:
    return RunCertificates.create(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def server(certs: RunCertificates) -> Iterator[BackgroundServer]:
    with BackgroundServer(APP, certs.server_context(), "echo") as running:
        yield running


def test_the_scope_carries_the_client_certificate_of_the_connection(
    server: BackgroundServer, certs: RunCertificates
) -> None:
    for pair in (certs.asp_client, certs.titulaire_client):
        with httpx.Client(verify=certs.client_context(pair)) as http:
            seen = http.get(server.url).json()

        presented = pair.cert.read_bytes()
        tls = seen["tls"]
        assert len(tls["client_cert_chain"]) == 1
        assert certificate_thumbprint(tls["client_cert_chain"][0]) == certificate_thumbprint(presented)
        assert seen["peer"] == tls["client_cert_chain"][0]
        assert tls["client_cert_name"] == certificate_subject(presented)
        assert tls["tls_version"] == 0x0304
        assert tls["client_cert_error"] is None
        assert set(tls) == {
            "server_cert",
            "client_cert_chain",
            "client_cert_name",
            "client_cert_error",
            "tls_version",
            "cipher_suite",
        }


def test_each_request_of_a_connection_gets_its_own_extension(server: BackgroundServer, certs: RunCertificates) -> None:
    with httpx.Client(verify=certs.client_context(certs.asp_client)) as http:
        first = http.get(server.url + "/altere").json()["tls"]
        second = http.get(server.url).json()["tls"]

    assert second == first
    assert len(second["client_cert_chain"]) == 1


def test_no_tls_extension_on_a_plain_connection() -> None:
    with BackgroundServer(APP, None, "echo-clair") as plain:
        seen = httpx.get(plain.url).json()

    assert seen == {"tls": None, "peer": None}


def test_the_server_sends_no_banner(server: BackgroundServer, certs: RunCertificates) -> None:
    response = httpx.get(server.url, verify=certs.client_context(certs.asp_client))

    assert "server" not in response.headers
