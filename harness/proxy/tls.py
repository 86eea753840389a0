"""Addon `tls`: mutual TLS on both sides of each leg.

Downstream, every client must present a certificate signed by the run's CA (the handshake fails without
one); upstream, the proxy presents the leg's own client identity, so that the server (and a token bound to
that certificate, RFC 8705) sees the identity it expects. mitmproxy's `tlsconfig` builds both connections;
this addon, listed after it, tightens them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from OpenSSL import SSL, crypto

from harness.proxy.settings import Leg, ProxySettings

if TYPE_CHECKING:
    from mitmproxy import connection, tls


class MutualTls:
    def __init__(self, settings: ProxySettings, leg_of: Callable[[connection.Client], Leg]) -> None:
        self.ca = str(settings.client_ca or settings.ca)
        self.leg_of = leg_of
        self._identities: dict[str, tuple[crypto.X509, crypto.PKey]] = {
            leg.name: _identity(leg) for leg in settings.legs
        }

    def tls_start_client(self, data: tls.TlsData) -> None:
        """Require a client certificate from the run's CA (`client_ca` when set)."""
        assert data.ssl_conn is not None
        data.ssl_conn.get_context().load_verify_locations(self.ca)
        data.ssl_conn.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT, _verified)

    def tls_start_server(self, data: tls.TlsData) -> None:
        """Present the leg's client certificate upstream."""
        assert data.ssl_conn is not None
        cert, key = self._identities[self.leg_of(data.context.client).name]
        data.ssl_conn.use_certificate(cert)
        data.ssl_conn.use_privatekey(key)


def _verified(_conn: SSL.Connection, _cert: crypto.X509, _errno: int, _depth: int, ok: int) -> bool:
    """OpenSSL's own verdict against the CA (expiry, signature, chain)."""
    return bool(ok)


def _identity(leg: Leg) -> tuple[crypto.X509, crypto.PKey]:
    cert = crypto.load_certificate(crypto.FILETYPE_PEM, leg.client.cert.read_bytes())
    key = crypto.load_privatekey(crypto.FILETYPE_PEM, leg.client.key.read_bytes())
    return cert, key
