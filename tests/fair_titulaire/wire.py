"""The HTTP layer: the standard library's `ThreadingHTTPServer` under `ssl`, demanding the ASP's certificate.

The TLS handshake runs on each connection's own thread. A body is read only when the API asks for it:
a client that sent `Expect: 100-continue` gets its `100 Continue` then, and not before; an answer given
without reading the whole body closes the connection, after a bounded lingering read.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

log = logging.getLogger(__name__)
READ_BYTES = 64 * 1024
LINGER_SECONDS = 2.0
LINGER_BYTES = 32 * 1024 * 1024


@dataclass
class Answer:
    """A response: status, body and headers (the content type among them)."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class Exchange:
    """One request as the API sees it: method, path, headers, the client certificate, the body on demand."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self.method = handler.command
        self.path = handler.path.split("?", 1)[0]
        self.headers = handler.headers
        self.peer_der: bytes | None = handler.connection.getpeercert(binary_form=True)  # type: ignore[attr-defined]
        self.consumed = False
        self._body: Iterator[bytes] | None = None

    def declared_length(self) -> int | None:
        value = self.headers.get("Content-Length")
        return int(value) if value is not None and value.strip().isdigit() else None

    def chunked(self) -> bool:
        return "chunked" in self.headers.get("Transfer-Encoding", "").lower()

    def chunks(self) -> Iterator[bytes]:
        """The body, as it arrives (one iterator per request: what is read stays read)."""
        if self._body is None:
            if self._expects_invitation():
                self._handler.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                self._handler.wfile.flush()
            self._body = self._read()
        return self._body

    def drain(self, limit: int) -> None:
        """Read and drop the rest of a body of at most `limit` bytes, so the answer can keep the connection;
        a client still waiting for an invitation (`Expect: 100-continue`) is never invited."""
        declared = self.declared_length()
        if (declared is not None and declared > limit) or (self._body is None and self._expects_invitation()):
            return
        read = 0
        for chunk in self.chunks():
            read += len(chunk)
            if read > limit:
                return

    def _expects_invitation(self) -> bool:
        return self.headers.get("Expect", "").lower() == "100-continue"

    def _read(self) -> Iterator[bytes]:
        yield from self._chunked() if self.chunked() else self._sized(self.declared_length() or 0)
        self.consumed = True

    def _sized(self, size: int) -> Iterator[bytes]:
        while size > 0:
            data = self._handler.rfile.read(min(size, READ_BYTES))
            if not data:
                raise ConnectionError("corps incomplet")
            size -= len(data)
            yield data

    def _chunked(self) -> Iterator[bytes]:
        rfile = self._handler.rfile
        while True:
            size = int(rfile.readline(1024).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return
            yield from self._sized(size)
            rfile.readline(1024)


class Handler(BaseHTTPRequestHandler):
    """Hands every request to the server's `api`; writes its answer."""

    protocol_version = "HTTP/1.1"
    timeout = 60
    server: FairServer

    def version_string(self) -> str:
        return "titulaire-equitable"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)

    def handle_expect_100(self) -> bool:
        return True  # `Exchange.chunks` invites the body only when the API means to read it

    def __getattr__(self, name: str) -> Any:
        """Every method (`do_TRACE`, `do_QUERY`…) reaches the API, which answers 405 where none is declared."""
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def _serve(self) -> None:
        exchange = Exchange(self)
        answer = self.server.api(exchange)
        has_body = exchange.consumed or (exchange.declared_length() in (None, 0) and not exchange.chunked())
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        if not has_body:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)
        self.wfile.flush()
        if not has_body:
            self._linger()

    def _linger(self) -> None:
        """Read what the client still sends for a moment, so that closing does not reset our answer."""
        self.connection.settimeout(LINGER_SECONDS)
        read = 0
        try:
            while read < LINGER_BYTES and (data := self.connection.recv(READ_BYTES)):
                read += len(data)
        except (OSError, ssl.SSLError):
            pass


class FairServer(ThreadingHTTPServer):
    """The server on 127.0.0.1 (a free port), TLS with client certificate verification."""

    daemon_threads = True

    def __init__(self, context: ssl.SSLContext, api: Callable[[Exchange], Answer]) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.context = context
        self.api = api
        self._thread = threading.Thread(target=self.serve_forever, name="titulaire-equitable", daemon=True)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server_address[1]}"

    def finish_request(self, request: Any, client_address: Any) -> None:
        """The handshake on this connection's thread: a refused certificate ends the connection alone."""
        request.settimeout(Handler.timeout)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as error:
            log.info("poignée de main TLS refusée : %s", error)
            return
        try:
            Handler(tls, client_address, self)
        finally:
            with contextlib.suppress(OSError):
                tls.shutdown(socket.SHUT_RDWR)
            tls.close()

    def start(self) -> FairServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(5)
