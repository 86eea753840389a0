"""Exactly one return per deposit, whatever happens: faults, retry budget, crash, retransmission, retention."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from harness.campaign.environment import Environment
from harness.conformance.returns import acknowledged_returns
from harness.foundations.asp_client import AspClient, CallbackInspector
from harness.foundations.servers import free_port
from harness.foundations.tokens import ClientCredentialsAuth
from harness.reference.settings import RetryPolicy
from tests.conftest import StartEnvironment, metadonnees, pdf
from tests.helpers import TESTS_DAY, ManualClock, assert_problem, wait_until


def wait_for_status(client: AspClient, id_depot: str, status: str) -> dict[str, Any]:
    return wait_until(
        lambda: (state := client.state(id_depot).json()) and state["statut"] == status and state,
        what=f"deposit {id_depot} {status}",
    )


def test_exactly_one_return_when_the_asp_fails_the_first_two_calls(new_environment: StartEnvironment) -> None:
    env = new_environment()
    with env.asp_client() as client, env.inspector() as inspector:
        inspector.arm_fault("erreur-500", 2)
        id_depot = client.deposit(metadonnees(), [pdf()]).json()["idDepot"]
        state = wait_for_status(client, id_depot, "ACQUITTE")
        calls = inspector.received(id_depot)
    assert [c["panne"] for c in calls] == ["erreur-500", "erreur-500", None]
    assert len(acknowledged_returns(calls)) == 1
    assert all(not c["violations"] for c in calls)
    assert state["retour"]["tentatives"] == 3
    assert len({c["idRetour"] for c in calls}) == 1  # every attempt carried the same return


def test_a_dropped_connection_is_retried(new_environment: StartEnvironment) -> None:
    env = new_environment()
    with env.asp_client() as client, env.inspector() as inspector:
        inspector.arm_fault("coupure", 1)
        id_depot = client.deposit(metadonnees(), [pdf()]).json()["idDepot"]
        wait_for_status(client, id_depot, "ACQUITTE")
        assert len(acknowledged_returns(inspector.received(id_depot))) == 1


def test_an_incident_mail_reaches_the_asp_when_the_retry_budget_is_spent(new_environment: StartEnvironment) -> None:
    env = new_environment()
    with env.asp_client() as client, env.inspector() as inspector:
        inspector.arm_fault("erreur-503", 100)
        id_depot = client.deposit(metadonnees(), [pdf()]).json()["idDepot"]
        mail = env.smtp.wait_for(lambda m: id_depot in m.subject, timeout=20)
        state = wait_for_status(client, id_depot, "ECHEC")
        calls = inspector.received(id_depot)
        assert any(id_depot in m["subject"] for m in inspector.mails())
    assert mail.recipients == [env.titulaire.settings.incident_mail_to]
    assert "503" in mail.body
    assert "3 tentative(s)" in mail.body
    assert len(calls) == env.titulaire.settings.retry.attempts
    assert acknowledged_returns(calls) == []
    assert state["retour"]["tentatives"] == 3
    incidents = env.titulaire.store.incidents()
    assert [i["deposit_id"] for i in incidents] == [id_depot]
    assert incidents[0]["mailed_at"] is not None


def test_retransmission_resends_the_same_return(client: AspClient, inspector: CallbackInspector) -> None:
    id_depot = client.deposit(metadonnees(), [pdf()]).json()["idDepot"]
    first = inspector.wait_for_return(id_depot)[0]
    response = client.resend(id_depot)
    assert response.status_code == 202
    assert response.json()["idRetour"] == first["idRetour"]
    assert response.headers["location"] == f"/v1/depots/{id_depot}"
    calls = inspector.wait_for_return(id_depot, count=2)
    assert calls[1]["idRetour"] == first["idRetour"]
    assert calls[1]["redelivery"] is True
    assert calls[1]["retour"] == first["retour"]
    assert not calls[1]["violations"]
    assert len(acknowledged_returns(calls)) == 1


def test_results_are_purged_after_retention(new_environment: StartEnvironment) -> None:
    clock = ManualClock()
    env = new_environment(clock=clock)
    with env.asp_client() as client, env.inspector() as inspector:
        id_depot = client.deposit(metadonnees(), [pdf()]).json()["idDepot"]
        inspector.wait_for_return(id_depot)
        wait_for_status(client, id_depot, "ACQUITTE")
        clock.advance(timedelta(days=88))
        assert env.titulaire.purge_expired() == []
        assert client.resend(id_depot).status_code == 202
        clock.advance(timedelta(days=5))  # 93 days: past three months whatever the month lengths
        assert env.titulaire.purge_expired() == [id_depot]
        assert_problem(client.state(id_depot), 410, "depot-expire")
        assert_problem(client.resend(id_depot), 410, "depot-expire")
    assert not (env.titulaire.settings.data_dir / "depots" / id_depot).exists()
    assert env.titulaire.store.documents(id_depot) == []
    assert env.titulaire.store.return_of(id_depot).payload is None


def test_retention_is_configurable(new_environment: StartEnvironment) -> None:
    clock = ManualClock()
    env = new_environment(clock=clock, retention="P10D")
    with env.asp_client() as client:
        id_depot = client.deposit(metadonnees(), [pdf()]).json()["idDepot"]
        state = client.state(id_depot).json()
        assert state["conserveJusquau"].startswith((clock.now + timedelta(days=10)).strftime("%Y-%m-%d"))
        clock.advance(timedelta(days=10, seconds=1))
        assert_problem(client.state(id_depot), 410, "depot-expire")


class ReferenceProcess:
    """The reference titulaire in its own process, so a test can kill it (SIGKILL) and restart it."""

    def __init__(self, env: Environment, data_dir: Path, retry: RetryPolicy) -> None:
        settings = replace(env.titulaire.settings, data_dir=data_dir, retry=retry)
        self.settings_file = data_dir.parent / "reference.json"
        self.settings_file.write_text(json.dumps(settings.to_json()), encoding="utf-8")
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        server = self.env.certs.server
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "harness.reference",
                str(self.settings_file),
                "--port",
                str(self.port),
                "--server-cert",
                str(server.cert),
                "--server-key",
                str(server.key),
                "--date",
                TESTS_DAY.isoformat(),
            ],
        )
        wait_until(self._listening, "reference process listening", timeout=30)

    def _listening(self) -> bool:
        assert self.process is not None
        assert self.process.poll() is None, "reference process died"
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
        except OSError:
            return False
        return True

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@pytest.mark.slow
def test_a_crash_after_acceptance_still_delivers_exactly_once(
    new_environment: StartEnvironment, tmp_path: Path
) -> None:
    env = new_environment()
    slow_retries = RetryPolicy(attempts=100, first_delay_seconds=0.3, max_delay_seconds=0.3, timeout_seconds=5)
    reference = ReferenceProcess(env, tmp_path / "reference", slow_retries)
    verify = env.certs.client_context(env.certs.asp_client)
    try:
        with env.inspector() as inspector:
            inspector.arm_fault("erreur-503", 10_000)  # the ASP is down: the return stays in the outbox
            reference.start()
            auth = ClientCredentialsAuth(env.credentials(), verify)
            with AspClient(reference.url, verify, auth, major=env.current_major()) as client:
                id_depot = client.deposit(metadonnees(), [pdf()]).json()["idDepot"]
            wait_until(lambda: inspector.received(id_depot), "a first delivery attempt")
            reference.kill()
            faulted = len(inspector.received(id_depot))
            inspector.clear_faults()
            reference.start()
            calls = inspector.wait_for_return(id_depot, count=faulted + 1)
            time.sleep(1.0)  # any duplicate delivery would arrive in this window
            calls = inspector.received(id_depot)
    finally:
        reference.stop()
    assert len(acknowledged_returns(calls)) == 1
    assert len({c["idRetour"] for c in calls}) == 1
    assert all(not c["violations"] for c in calls)
