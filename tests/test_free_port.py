"""Ports chosen for a later bind: below the ephemeral range, where no connection of the machine takes them."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from harness.foundations import servers
from harness.foundations.servers import LOOPBACK, PORTS_CHOSEN_FOR_LATER, free_port, free_socket


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
