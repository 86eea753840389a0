"""The ASGI TLS extension for uvicorn: the peer's client certificate, visible to the application.

uvicorn puts no TLS information in the ASGI scope. `TlsScopeProtocol` is its httptools protocol with the
extension of the ASGI spec added to every HTTP scope of a TLS connection (`scope["extensions"]["tls"]`):
`client_cert_chain` (PEM strings, the client certificate first), `client_cert_name` (RFC 4514),
`client_cert_error`, `tls_version` and `cipher_suite`, `server_cert`. Python's `ssl` gives the peer's own
certificate only (not the intermediates it sent), nor the server certificate or the cipher suite number:
those are reported as the spec allows (the leaf alone, None). Use it with `uvicorn.Config(http=TlsScopeProtocol)`.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

from cryptography import x509
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

TLS_VERSIONS = {"TLSv1": 0x0301, "TLSv1.1": 0x0302, "TLSv1.2": 0x0303, "TLSv1.3": 0x0304}
"""Protocol names of `SSLObject.version()` and their numbers on the wire, as the ASGI spec reports them."""


class TlsScopeProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with the ASGI TLS extension in every HTTP scope of a TLS connection."""

    _tls: dict[str, Any] | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._tls = tls_extension(transport.get_extra_info("ssl_object"))

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._tls is not None:
            extension = self._tls | {"client_cert_chain": list(self._tls["client_cert_chain"])}
            self.scope["extensions"] = {"tls": extension}


def tls_extension(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> dict[str, Any] | None:
    """The `tls` extension of a connection, or None when it is not TLS."""
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    return {
        "server_cert": None,
        "client_cert_chain": [ssl.DER_cert_to_PEM_cert(der)] if der else [],
        "client_cert_name": x509.load_der_x509_certificate(der).subject.rfc4514_string() if der else None,
        "client_cert_error": None,  # the server context verified the certificate, or the handshake failed
        "tls_version": TLS_VERSIONS.get(ssl_object.version() or ""),
        "cipher_suite": None,
    }


def peer_certificate(scope: Any) -> str | None:
    """The client certificate (PEM) of the connection carrying `scope`, or None."""
    tls = scope.get("extensions", {}).get("tls") or {}
    chain = tls.get("client_cert_chain") or []
    return chain[0] if chain else None
