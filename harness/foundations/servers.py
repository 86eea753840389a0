"""Run an ASGI application on uvicorn, in a background thread, on a free port of 127.0.0.1.

The server adds the ASGI TLS extension to each scope (the client certificate, see `tls_scope.py`) and
sends no `Server` header (no banner naming the library).
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from types import TracebackType
from typing import Literal

import uvicorn
from starlette.types import ASGIApp

from harness.foundations.tls_scope import TlsScopeProtocol

LOOPBACK = "127.0.0.1"
START_TIMEOUT_SECONDS = 15.0


def free_socket(host: str = LOOPBACK, port: int = 0) -> socket.socket:
    """A listening TCP socket bound to `port`, or to a port chosen by the kernel."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class BackgroundServer:
    """A uvicorn server bound to 127.0.0.1, started and stopped from the calling thread.

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
    ) -> None:
        self.name = name
        self._socket = free_socket(port=port)
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan=lifespan,
            http=TlsScopeProtocol,
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
        return f"{self.scheme}://{LOOPBACK}:{self.port}"

    def _run(self) -> None:
        self._server.run(sockets=[self._socket])

    def start(self) -> BackgroundServer:
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

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()
