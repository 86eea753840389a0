"""Shared fixtures: the embedded environment, started for real on loopback, and deposit builders."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.campaign.environment import Environment, EnvironmentOptions
from harness.foundations.asp_client import AspClient, CallbackInspector, Document
from harness.foundations.clock import Clock, OffsetClock
from harness.foundations.servers import DEFAULT_PORTS, PORTS_VARIABLE
from harness.reference.settings import RetryPolicy
from tests.helpers import TESTS_DAY

FAST_RETRIES = RetryPolicy(attempts=3, first_delay_seconds=0.05, max_delay_seconds=0.2, timeout_seconds=5)
PDF = b"%PDF-1.7\n1 0 obj << /Type /Page >> endobj\n%%EOF\n"

StartEnvironment = Callable[..., Environment]


def pytest_configure(config: pytest.Config) -> None:
    """Each pytest-xdist worker (and what it starts) draws the ports chosen ahead from its own slice of the
    range: two workers never choose the same port (CI once lost a run to two campaigns choosing one)."""
    worker, count = os.environ.get("PYTEST_XDIST_WORKER", ""), os.environ.get("PYTEST_XDIST_WORKER_COUNT", "")
    if worker.startswith("gw") and count.isdigit():
        os.environ[PORTS_VARIABLE] = worker_ports(int(worker.removeprefix("gw")), int(count))


def worker_ports(worker: int, workers: int) -> str:
    """The `RECETTE_PORTS` slice of worker number `worker` among `workers`."""
    size = len(DEFAULT_PORTS) // workers
    low = DEFAULT_PORTS.start + worker * size
    return f"{low}-{low + size - 1}"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def metadonnees(**fields: Any) -> dict[str, Any]:
    """Valid MetadonneesDepot, with `fields` added or replaced."""
    base: dict[str, Any] = {
        "applicationSource": "TESTS",
        "identifiantDossier": f"DOS-{uuid.uuid4().hex[:8]}",
        "numeroIteration": 1,
        "donneesMetier": {"nature": "justificatif"},
    }
    return base | fields


def pdf(name: str = "piece.pdf", content: bytes = PDF) -> Document:
    return Document(name, content, "application/pdf")


def clock_of_the_tests_day() -> OffsetClock:
    """The default clock of the tests' reference: `TESTS_DAY`, whatever the system's date."""
    return OffsetClock.on(TESTS_DAY)


def start_environment(directory: Path, clock: Clock | None = None, **reference: Any) -> Environment:
    """An environment whose reference titulaire retries fast, with `reference` settings overridden."""
    clock = clock or clock_of_the_tests_day()
    options = EnvironmentOptions(reference={"retry": FAST_RETRIES, "poll_seconds": 0.1} | reference, clock=clock)
    return Environment(directory, options).start()


@pytest.fixture
def new_environment(tmp_path: Path) -> Iterator[StartEnvironment]:
    """Start environments with custom settings; each is stopped, and checked contract-clean, at the end."""
    started: list[Environment] = []

    def start(clock: Clock | None = None, **reference: Any) -> Environment:
        env = start_environment(tmp_path / f"env-{len(started)}", clock, **reference)
        started.append(env)
        return env

    yield start
    for env in started:
        env.stop()
        assert env.titulaire.contract_violations == []


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Environment]:
    """One environment shared by a module's tests (they must not change its settings)."""
    environment = start_environment(tmp_path_factory.mktemp("env"))
    yield environment
    environment.stop()
    assert environment.titulaire.contract_violations == []


@pytest.fixture
def client(env: Environment) -> Iterator[AspClient]:
    with env.asp_client() as asp_client:
        yield asp_client


@pytest.fixture
def inspector(env: Environment) -> Iterator[CallbackInspector]:
    with env.inspector() as callback_inspector:
        yield callback_inspector
