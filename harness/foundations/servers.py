"""Run an ASGI application on uvicorn, in a background thread, on a free port of 127.0.0.1.

The server adds the ASGI TLS extension to each scope (the client certificate, see `tls_scope.py`), bounds
the request head (`HeaderLimits`), answers a request it cannot parse with problem+json, and sends no
`Server` header (no banner naming the library).
"""

from __future__ import annotations

import os
import random
import socket
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import ClassVar, Literal, Self

import uvicorn
from starlette.types import ASGIApp

from harness.foundations.problems import Problem
from harness.foundations.running import Running
from harness.foundations.tls_scope import TlsScopeProtocol

LOOPBACK = "127.0.0.1"
START_TIMEOUT_SECONDS = 15.0
DEFAULT_PORTS = range(20000, 32768)
"""Where `free_port` looks by default: below Linux's ephemeral range (32768-60999 by default), from which the
kernel gives ports to bind(0) and source ports to outgoing connections. A port chosen here for a later bind
cannot be taken meanwhile by a connection of the machine (the flake of issue 20's session: a proxy port chosen
free, then in use when mitmproxy bound it), only by another such choice."""
PORTS_VARIABLE = "RECETTE_PORTS"
"""`BAS-HAUT` (both included): the range `free_port` draws from instead, e.g. the ports a firewall opens, or one
slice per process choosing ports at once (the tests give each pytest-xdist worker its own)."""
PORT_TRIES = 50
RECENTLY_CHOSEN: deque[int] = deque(maxlen=256)
"""The ports this process chose last: not chosen again while their server may still be starting."""


@dataclass(frozen=True)
class HeaderLimits:
    """Bounds on a request's head (request line and headers); beyond either: 400 problem+json, connection closed."""

    head_bytes: int = 64 * 1024
    count: int = 100


class BoundedHttpProtocol(TlsScopeProtocol):
    """uvicorn's httptools protocol (with the TLS scope) that bounds the request head before buffering more
    of it, and answers what it cannot parse (a malformed request, both Content-Length and Transfer-Encoding…)
    with problem+json instead of uvicorn's text/plain.

    uvicorn has no public hook for either: `data_received`, `on_header` and `send_400_response` are the
    methods of its protocol class that `http=` lets a server replace.
    """

    limits: ClassVar[HeaderLimits] = HeaderLimits()
    _head_bytes = 0
    _in_head = True
    _refusal = "Requête HTTP mal formée."

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._in_head and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > self.limits.head_bytes:
                self._refusal = f"L'en-tête de la requête dépasse {self.limits.head_bytes} octets (limite)."
                self.send_400_response(self._refusal)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._head_bytes = True, 0

    def on_header(self, name: bytes, value: bytes) -> None:
        super().on_header(name, value)
        if len(self.headers) > self.limits.count:
            self._refusal = f"La requête compte plus de {self.limits.count} en-têtes (limite)."
            raise ValueError(self._refusal)  # httptools stops parsing; uvicorn then calls send_400_response

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def shutdown(self) -> None:
        """At the server's stop, an idle keep-alive connection is dropped at once. uvicorn closes it, and a
        TLS close waits for the client's close_notify, which an idle pooled client never sends: every stop
        then took the full graceful timeout (2 s) and printed « ERROR: Cancel 0 running task(s) »."""
        if self.cycle is None or self.cycle.response_complete:
            self.transport.abort()
        else:
            super().shutdown()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request it cannot parse: `msg` is its English text, ours is French."""
        response = Problem("requete-invalide", self._refusal).response()
        head = [b"HTTP/1.1 400 Bad Request", *(b": ".join(pair) for pair in response.raw_headers)]
        self.transport.write(b"\r\n".join([*head, b"connection: close", b"", response.body]))
        self.transport.close()


def bounded_protocol(limits: HeaderLimits) -> type[BoundedHttpProtocol]:
    """The protocol class for `uvicorn.Config(http=…)` with these limits."""
    return type("BoundedHttpProtocol", (BoundedHttpProtocol,), {"limits": limits})


def free_port(host: str = LOOPBACK) -> int:
    """A port of `host` free now, for a server that binds it later (another process, a configuration), or for
    a setting that must point at a closed port; never one this process chose lately."""
    ports = ports_chosen_for_later()
    for port in random.sample(ports, min(PORT_TRIES, len(ports))):
        if port in RECENTLY_CHOSEN:
            continue
        try:
            with free_socket(host, port):
                RECENTLY_CHOSEN.append(port)
                return port
        except OSError:  # in use
            continue
    raise OSError(f"aucun port libre sur {host} parmi {PORT_TRIES} essais dans {ports.start}-{ports.stop - 1}")


def ports_chosen_for_later() -> range:
    """`RECETTE_PORTS` when set, else `DEFAULT_PORTS`; a bad value is an OSError naming the variable."""
    text = os.environ.get(PORTS_VARIABLE, "")
    if not text:
        return DEFAULT_PORTS
    low, _, high = text.partition("-")
    if not (low.isdigit() and high.isdigit() and 1024 <= int(low) <= int(high) <= 65535):
        raise OSError(f"{PORTS_VARIABLE} invalide « {text} » : attendu BAS-HAUT, entre 1024 et 65535")
    return range(int(low), int(high) + 1)


def free_socket(host: str = LOOPBACK, port: int = 0) -> socket.socket:
    """A listening TCP socket bound to `port`, or to a port chosen by the kernel."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class BackgroundServer(Running):
    """A uvicorn server bound to 127.0.0.1 (or another loopback address, `host`), started and stopped from the
    calling thread.

    Use it as a context manager, or call `start()` and `stop()`.
    """

    def __init__(
        self,
        app: ASGIApp,
        ssl_context: ssl.SSLContext | None,
        name: str = "server",
        *,
        lifespan: Literal["on", "off"] = "on",
        port: int = 0,
        header_limits: HeaderLimits = HeaderLimits(),
        host: str = LOOPBACK,
    ) -> None:
        self.name = name
        self.host = host
        self._socket = free_socket(host, port)
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan=lifespan,
            http=bounded_protocol(header_limits),
            server_header=False,
            loop="uvloop",
            access_log=False,
            timeout_graceful_shutdown=2,
            ssl_context_factory=(lambda _config, _default: ssl_context) if ssl_context else None,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.scheme = "https" if ssl_context else "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def _run(self) -> None:
        self._server.run(sockets=[self._socket])

    def start(self) -> Self:
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=START_TIMEOUT_SECONDS)
        self._socket.close()
