"""Our return receiver for a real titulaire platform: the mock ASP callback API, on the run's own port.

The platform reaches it at `callback.url` (directly on this machine, or through a proxy that forwards to
127.0.0.1): it presents a client certificate signed by `callback.client_ca` (default: its own CA), and
our server certificate is `callback.cert`, or one the run's CA signs for 127.0.0.1. Only our inspector,
with the recette team's certificate, reads what it received; its journal file is in `journal_dir`.
"""

from __future__ import annotations

import ssl
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

from harness.campaign.config import RunConfig
from harness.foundations.asp_client import CallbackInspector
from harness.foundations.servers import BackgroundServer
from harness.foundations.tls import CertificatePair, RunCertificates
from mocks.asp import JOURNAL_FILE, ReturnRecorder
from mocks.asp import create_app as create_callback_app

LOOPBACK_NAMES = ("127.0.0.1", "localhost")


class ReturnReceiver:
    """Started for a run against an external target; the inspector reads what it received."""

    def __init__(self, config: RunConfig, directory: Path, journal_dir: Path | None = None) -> None:
        """Certificates in `directory`; the journal of returns in `journal_dir` (default: `directory`)."""
        self.config = config
        self.certs = RunCertificates.create(directory)
        self.recorder = ReturnRecorder((journal_dir or directory) / JOURNAL_FILE)
        self._stack = ExitStack()
        self.server: BackgroundServer | None = None

    def start(self) -> ReturnReceiver:
        server = BackgroundServer(
            create_callback_app(self.recorder, inspectors={self.certs.recette_thumbprint()}),
            self._server_context(),
            "recepteur-retours",
            port=self._port(),
        )
        self.server = self._stack.enter_context(server)
        return self

    def stop(self) -> None:
        self._stack.close()

    def __enter__(self) -> ReturnReceiver:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def inspector(self, url: str | None = None) -> CallbackInspector:
        """Reads the receiver over loopback (or at `url`, e.g. `callback.url`), pinning its own certificate
        (whatever its CA and names)."""
        assert self.server is not None, "récepteur non démarré"
        context = self.certs.client_context(self.certs.recette_client)
        if self.config.callback_cert is not None:
            context.check_hostname = False  # reached on 127.0.0.1, not at its public name; the certificate is pinned
            context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
            context.load_verify_locations(cafile=self.config.callback_cert)
        return CallbackInspector(url or self.server.url, context)

    def _port(self) -> int:
        """The port of `callback.url` when it names this machine; else any (a proxy forwards to it)."""
        parts = urlsplit(self.config.callback_url)
        return (parts.port or 443) if parts.hostname in LOOPBACK_NAMES else 0

    def server_pair(self) -> CertificatePair:
        """The certificate the ASP side presents to the platform: `callback.cert`, else one of the run's CA."""
        config = self.config
        if config.callback_cert and config.callback_key:
            return CertificatePair(config.callback_cert, config.callback_key)
        return self.certs.server

    def _server_context(self) -> ssl.SSLContext:
        config = self.config
        pair = self.server_pair()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(pair.cert, pair.key)
        context.load_verify_locations(cafile=config.callback_client_ca or config.ca)
        context.load_verify_locations(cafile=self.certs.ca)  # our own inspector
        context.verify_mode = ssl.CERT_REQUIRED
        return context
