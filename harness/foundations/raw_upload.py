"""A deposit sent by hand (h11 over TLS) to see when the titulaire answers it: before, while or after its body.

httpx sends a whole body before it reads an answer and ignores `Expect: 100-continue`. To judge a refusal
made on the declared size alone (the 413 of an over-limit deposit), the body is sent in small pieces and the
connection is read between them: `sent_before_answer` is how many body bytes had left when the first answer
(a final one, or `100 Continue`) was readable. With `Expect: 100-continue`, nothing is sent before the
titulaire asks for it (or until `continue_wait_seconds` passed, as RFC 9110 §10.1.1 lets a client do).
"""

from __future__ import annotations

import select
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import h11

PIECE_BYTES = 16 * 1024
"""The body leaves in pieces this small: the answer is looked for between any two of them."""
CONTINUE_WAIT_SECONDS = 1.0
"""How long a client that sent `Expect: 100-continue` waits before sending the body anyway (curl's default)."""


@dataclass(frozen=True)
class EarlyAnswer:
    """The titulaire's final answer to a hand-sent deposit, and when it came."""

    status: int | None
    """None: no final answer (the connection closed or timed out first)."""
    headers: dict[str, str]
    body: bytes
    declared_bytes: int
    """The body's declared Content-Length."""
    sent_before_answer: int
    """Body bytes sent when the first answer (final or 100 Continue) was readable."""
    continued: bool
    """A `100 Continue` came before the final answer."""
    error: str | None = None

    @property
    def before_the_whole_body(self) -> bool:
        """The titulaire answered before the whole declared body was sent."""
        return self.sent_before_answer < self.declared_bytes


def upload(
    url: str,
    verify: ssl.SSLContext,
    path: str,
    headers: Mapping[str, str],
    body: Iterator[bytes],
    declared_bytes: int,
    *,
    expect_continue: bool,
    timeout_seconds: float,
) -> EarlyAnswer:
    """POST `body` (`declared_bytes` long) to `url` + `path`, watching for the answer between its pieces."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 443
    fields = [("Host", parts.netloc), *headers.items(), ("Content-Length", str(declared_bytes))]
    fields += [("Expect", "100-continue")] if expect_continue else []
    fields += [("Connection", "close")]
    with (
        socket.create_connection((host, port), timeout=timeout_seconds) as raw,
        verify.wrap_socket(raw, server_hostname=host) as tls,
    ):
        exchange = _Exchange(tls, declared_bytes)
        exchange.send(h11.Request(method="POST", target=path, headers=fields))
        if expect_continue:
            exchange.wait_for(lambda: exchange.continued, CONTINUE_WAIT_SECONDS)
        exchange.send_body(body)
        exchange.wait_for(lambda: exchange.complete, timeout_seconds)
        return exchange.answer()


class _Exchange:
    """One hand-sent request on one TLS connection; the answer is taken in without ever blocking on it."""

    def __init__(self, tls: ssl.SSLSocket, declared_bytes: int) -> None:
        self.tls = tls
        self.connection = h11.Connection(h11.CLIENT)
        self.declared_bytes = declared_bytes
        self.sent = 0
        self.sent_at_answer: int | None = None
        self.continued = False
        self.response: h11.Response | None = None
        self.body = b""
        self.complete = False
        """The final answer was read whole, or the connection ended."""
        self.error: str | None = None

    def send(self, event: h11.Event) -> bool:
        """Send `event`; False when the titulaire stopped reading (its answer will say why)."""
        try:
            self.tls.sendall(self.connection.send(event) or b"")
        except OSError as error:
            self.error = f"{type(error).__name__} : {error}"
            return False
        return True

    def send_body(self, pieces: Iterator[bytes]) -> None:
        """Send the body in pieces of `PIECE_BYTES` until it ends or the final answer has begun."""
        for piece in pieces:
            for start in range(0, len(piece), PIECE_BYTES):
                self.take_in(0.0)
                if self.response is not None or self.complete:
                    return
                chunk = piece[start : start + PIECE_BYTES]
                if not self.send(h11.Data(data=chunk)):
                    return
                self.sent += len(chunk)

    def wait_for(self, condition: Callable[[], bool], seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not (condition() or self.complete) and (left := deadline - time.monotonic()) > 0:
            self.take_in(left)

    def take_in(self, wait_seconds: float) -> None:
        """Whatever answer bytes arrived (waiting at most `wait_seconds` for some), fed to h11, then read."""
        if not self.tls.pending() and not select.select([self.tls], [], [], wait_seconds)[0]:
            return
        timeout = self.tls.gettimeout()
        self.tls.setblocking(False)
        try:
            while True:
                data = self.tls.recv(65536)
                self.connection.receive_data(data)
                if not data:
                    break
        except (ssl.SSLWantReadError, BlockingIOError):
            pass  # nothing more for now (or only TLS records of no data, such as session tickets)
        except OSError as error:
            self.error, self.complete = f"{type(error).__name__} : {error}", True
        finally:
            self.tls.settimeout(timeout)
        self._read_events()

    def _read_events(self) -> None:
        while not self.complete:
            try:
                event = self.connection.next_event()
            except h11.RemoteProtocolError as error:
                self.error, self.complete = f"réponse HTTP illisible : {error}", True
                return
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.InformationalResponse):
                self.continued = self.continued or event.status_code == 100
            elif isinstance(event, h11.Response):
                self.response, self.sent_at_answer = event, self.sent
            elif isinstance(event, h11.Data):
                self.body += bytes(event.data)
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                self.complete = True

    def answer(self) -> EarlyAnswer:
        sent = self.sent if self.sent_at_answer is None else self.sent_at_answer
        if self.response is None:
            return EarlyAnswer(None, {}, b"", self.declared_bytes, sent, self.continued, self.error)
        headers = {name.decode().lower(): value.decode("latin-1") for name, value in self.response.headers}
        status = self.response.status_code
        return EarlyAnswer(status, headers, self.body, self.declared_bytes, sent, self.continued, self.error)
