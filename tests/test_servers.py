"""The background servers: ports chosen for a later bind (below the ephemeral range, where no connection of the
machine takes them), and a stop that does not wait on idle clients."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from harness.foundations import servers
from harness.foundations.servers import LOOPBACK, PORTS_CHOSEN_FOR_LATER, BackgroundServer, free_port, free_socket
from harness.foundations.tls import RunCertificates


def test_a_chosen_port_is_below_the_kernel_s_ephemeral_range() -> None:
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    assert PORTS_CHOSEN_FOR_LATER.stop <= low
    assert all(free_port() in PORTS_CHOSEN_FOR_LATER for _ in range(20))


def test_a_port_in_use_is_passed_over(monkeypatch: pytest.MonkeyPatch) -> None:
    held = next(s for p in PORTS_CHOSEN_FOR_LATER if (s := _bound(p)) is not None)
    port = held.getsockname()[1]
    with held:
        monkeypatch.setattr(servers.random, "sample", lambda *_: [port, port, port + 1])
        assert free_port() == port + 1


def test_no_free_port_among_the_tries_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with free_socket() as held:
        monkeypatch.setattr(servers.random, "sample", lambda *_: [held.getsockname()[1]])
        with pytest.raises(OSError, match="aucun port libre"):
            free_port()


def _bound(port: int) -> socket.socket | None:
    try:
        return free_socket(LOOPBACK, port)
    except OSError:
        return None


def test_a_tls_server_stops_without_waiting_for_an_idle_keep_alive_client(tmp_path: Path) -> None:
    certs = RunCertificates.create(tmp_path)
    app = Starlette(routes=[Route("/", lambda _: PlainTextResponse("ok"))])
    server = BackgroundServer(app, certs.server_context(), "essai")  # configures uvicorn's loggers
    handler = Recorded()
    uvicorn_errors = logging.getLogger("uvicorn.error")
    uvicorn_errors.addHandler(handler)
    try:
        with server, httpx.Client(verify=certs.client_context(certs.asp_client)) as idle:
            assert idle.get(server.url).status_code == 200
            server.stop()
    finally:
        uvicorn_errors.removeHandler(handler)
    assert [r.getMessage() for r in handler.records if r.levelno >= logging.WARNING] == []


class Recorded(logging.Handler):
    """A log handler that keeps its records."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
