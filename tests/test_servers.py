"""The background servers: ports chosen for a later bind (below the ephemeral range, where no connection of the
machine takes them), and a stop that does not wait on idle clients."""

from __future__ import annotations

import itertools
import logging
import os
import socket
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from harness.foundations import servers
from harness.foundations.servers import (
    DEFAULT_PORTS,
    LOOPBACK,
    PORTS_VARIABLE,
    BackgroundServer,
    free_port,
    free_socket,
)
from harness.foundations.tls import RunCertificates
from tests.conftest import worker_ports


def test_a_chosen_port_is_below_the_kernel_s_ephemeral_range(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PORTS_VARIABLE, raising=False)
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    assert DEFAULT_PORTS.stop <= low
    assert all(free_port() in DEFAULT_PORTS for _ in range(20))


def test_the_range_may_be_given_and_a_bad_one_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PORTS_VARIABLE, "25000-25199")
    chosen = [free_port() for _ in range(20)]
    monkeypatch.setenv(PORTS_VARIABLE, "25000")
    with pytest.raises(OSError, match=r"^RECETTE_PORTS invalide « 25000 » : attendu BAS-HAUT"):
        free_port()

    assert all(25000 <= port <= 25199 for port in chosen)
    assert len(set(chosen)) == len(chosen), "a port chosen lately is not chosen again"


def test_each_xdist_worker_draws_from_its_own_slice() -> None:
    ranges = [range(*(int(end) for end in worker_ports(n, 4).split("-"))) for n in range(4)]
    worker, count = os.environ.get("PYTEST_XDIST_WORKER", ""), os.environ.get("PYTEST_XDIST_WORKER_COUNT", "")

    assert all(r.start in DEFAULT_PORTS and r.stop in DEFAULT_PORTS for r in ranges)
    assert all(a.stop < b.start for a, b in itertools.pairwise(ranges))
    assert not worker or os.environ[PORTS_VARIABLE] == worker_ports(int(worker.removeprefix("gw")), int(count))


def test_a_port_in_use_is_passed_over(monkeypatch: pytest.MonkeyPatch) -> None:
    held = next(s for p in DEFAULT_PORTS if (s := _bound(p)) is not None)
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
