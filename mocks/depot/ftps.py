"""The FTPS side of the deposit server (pyftpdlib with pyOpenSSL): explicit TLS (AUTH TLS), required on the
control channel and on the data channel (PROT P), and a client certificate signed by the run's CA.

It runs pyftpdlib's loop in a background thread, on a free port of 127.0.0.1; each user logs in with its
password into its space. Every transfer, rename and removal goes to the journal; armed faults refuse a
connection (421), cut a download or refuse an upload as a full disk would (452).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from OpenSSL import SSL
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import TLS_FTPHandler
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import FTPServer

from harness.foundations.tls import CertificatePair
from mocks.depot.faults import CUT_TRANSFER, DISK_FULL, REFUSED_CONNECTION, DepotFaults
from mocks.depot.journal import DOWNLOAD, REFUSED, REMOVE, RENAME, UPLOAD, Exchange, Journal

LOOPBACK = "127.0.0.1"
PROTOCOL = "FTPS"
PERMISSIONS = "elradfmw"
"""List, retrieve, store, rename, delete, make folders: what a titulaire does in its space."""
STOP_TIMEOUT_SECONDS = 15.0
LOOP_SECONDS = 0.1
_FTPD_LOG = logging.getLogger("pyftpdlib")
_FTPD_LOG.setLevel(logging.WARNING)  # each session's lines: the journal keeps what matters
_FTPD_LOG.addHandler(logging.NullHandler())  # a handler, or pyftpdlib's loop installs its own at INFO


def tls_context(ca: Path, server: CertificatePair) -> SSL.Context:
    """TLS ≥ 1.2, our certificate, and a mandatory client certificate signed by `ca` (both channels)."""
    context = SSL.Context(SSL.TLS_SERVER_METHOD)
    context.set_min_proto_version(SSL.TLS1_2_VERSION)
    context.use_certificate_chain_file(str(server.cert))
    context.use_privatekey_file(str(server.key))
    context.load_verify_locations(str(ca))
    context.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT, lambda *_: True)
    return context


class DepotFtpsServer:
    """The FTPS listener; `users` maps a user name to its password and its space's folder."""

    def __init__(
        self,
        context: SSL.Context,
        users: dict[str, tuple[str, Path]],
        journal: Journal,
        faults: DepotFaults,
        host: str = LOOPBACK,
        port: int = 0,
    ) -> None:
        authorizer = DummyAuthorizer()
        for user, (password, root) in users.items():
            authorizer.add_user(user, password, str(root), perm=PERMISSIONS)
        handler: type[_JournaledHandler] = type(
            "DepotFtpsHandler",
            (_JournaledHandler,),
            {"authorizer": authorizer, "ssl_context": context, "journal": journal, "faults": faults},
        )
        self._server = FTPServer((host, port), handler, ioloop=IOLoop())  # its own: two servers, two loops
        self.port: int = self._server.address[1]
        self._thread = threading.Thread(target=self._serve, name="depot-ftps", daemon=True)
        self._running = True

    def _serve(self) -> None:
        while self._running:  # pyftpdlib's own loop, one round at a time so that `stop` ends it
            self._server.ioloop.loop(LOOP_SECONDS, blocking=False)

    def start(self) -> DepotFtpsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._running = False
        self._thread.join(STOP_TIMEOUT_SECONDS)
        self._server.close_all()


class _JournaledHandler(TLS_FTPHandler):
    """pyftpdlib's FTPS handler, TLS required on both channels, journaled, with the armed faults applied."""

    tls_control_required = True
    tls_data_required = True
    banner = "Serveur de dépôt de l'ASP (recette)"
    journal: Journal
    faults: DepotFaults

    def _record(self, operation: str, path: str, **fields: Any) -> None:
        self.journal.record(Exchange(PROTOCOL, self.username or "", operation, self._virtual(path), **fields))

    def _virtual(self, path: str) -> str:
        return self.fs.fs2ftp(path) if self.fs is not None else path

    def handle(self) -> None:
        if self.faults.take(REFUSED_CONNECTION) is not None:
            self.respond("421 Service indisponible : connexion refusée.")
            self.close_when_done()
            return
        super().handle()

    def ftp_STOR(self, file: str, mode: str = "w") -> str | None:
        if self.faults.take(DISK_FULL) is not None:
            self._record(REFUSED, file, detail=DISK_FULL)
            self.respond("452 Espace disque insuffisant sur le serveur de dépôt.")
            return None
        return super().ftp_STOR(file, mode)

    def push_dtp_data(self, data: Any, isproducer: bool = False, file: Any = None, cmd: str | None = None) -> None:
        if cmd == "RETR" and (after := self.faults.take(CUT_TRANSFER)) is not None:
            data = _CutProducer(data, after, self)
        super().push_dtp_data(data, isproducer, file, cmd)

    def on_file_received(self, file: str) -> None:
        self._record(UPLOAD, file, octets=self.fs.getsize(file))

    def on_incomplete_file_received(self, file: str) -> None:
        self._record(UPLOAD, file, octets=self.fs.getsize(file), complet=False)

    def on_file_sent(self, file: str) -> None:
        self._record(DOWNLOAD, file, octets=self.fs.getsize(file))

    def on_incomplete_file_sent(self, file: str) -> None:
        self._record(DOWNLOAD, file, complet=False, detail=CUT_TRANSFER)

    def ftp_RNTO(self, path: str) -> tuple[str, str] | None:
        renamed = super().ftp_RNTO(path)
        if renamed:
            source, target = renamed
            self._record(RENAME, source, cible=self._virtual(target))
        return renamed

    def ftp_DELE(self, path: str) -> str | None:
        removed = super().ftp_DELE(path)
        if removed:
            self._record(REMOVE, removed)
        return removed


class _CutProducer:
    """A download's producer that drops the connection once `after` bytes have gone (transfer cut)."""

    def __init__(self, producer: Any, after: int, handler: _JournaledHandler) -> None:
        self._producer = producer
        self._left = after
        self._handler = handler

    def more(self) -> bytes:
        if self._left <= 0:
            self._handler.close()
            return b""
        data: bytes = self._producer.more()[: self._left]
        self._left -= len(data)
        return data
