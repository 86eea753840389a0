"""The reference killed (SIGKILL) at random points of a stream of deposits, over several seeded rounds.

After the last restart: every deposit answered 202 gets its one return, nothing the reference does not
know gets one, the database passes `PRAGMA integrity_check`, and no file is left that no deposit owns.
`RECETTE_SOAK=1` makes it a soak (more rounds, more deposits); `RECETTE_SOAK_SEED` picks the seed.
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
from pathlib import Path

import httpx
import pytest

from harness.foundations.asp_client import AspClient
from harness.foundations.polling import wait_until
from harness.foundations.tokens import ClientCredentialsAuth
from harness.reference.settings import RetryPolicy
from tests.conftest import StartEnvironment, metadonnees, pdf
from tests.test_returns import ReferenceProcess

SOAK = os.environ.get("RECETTE_SOAK") == "1"
SEED = int(os.environ.get("RECETTE_SOAK_SEED", "20261202"))
ROUNDS, MAX_PER_ROUND = (12, 400) if SOAK else (5, 50)
"""Each round kills the reference after a random number of accepted deposits, between half the max and the max."""
RETRIES = RetryPolicy(first_delay_seconds=0.05, max_delay_seconds=0.3, timeout_seconds=5)


class DepositStream(threading.Thread):
    """Sends deposits one after the other until told to stop or the reference stops answering."""

    def __init__(self, client: AspClient) -> None:
        super().__init__(daemon=True)
        self.client = client
        self.accepted: list[str] = []

    def run(self) -> None:
        while True:
            try:
                response = self.client.deposit(metadonnees(), [pdf()])
            except httpx.HTTPError:
                return  # killed mid-request: its outcome is unknown to the client
            if response.status_code == 202:
                self.accepted.append(response.json()["idDepot"])


@pytest.mark.slow
def test_kills_at_random_points_lose_nothing_and_duplicate_nothing(
    new_environment: StartEnvironment, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    env = new_environment()
    reference = ReferenceProcess(env, tmp_path / "reference", RETRIES)
    verify = env.certs.client_context(env.certs.asp_client)
    accepted: list[str] = []
    try:
        for _ in range(ROUNDS):
            reference.start()
            auth = ClientCredentialsAuth(env.credentials(), verify)
            with AspClient(reference.url, verify, auth, major=env.current_major()) as client:
                accepted += crash_round(reference, client, rng.randint(MAX_PER_ROUND // 2, MAX_PER_ROUND), rng)
        reference.start()
        with env.inspector() as inspector:
            wait_until(lambda: acknowledged(inspector.received()) >= set(accepted), "every return", timeout=120)
            calls = inspector.received()
        reference.stop()
    finally:
        reference.stop()
    data_dir = tmp_path / "reference"
    with sqlite3.connect(data_dir / "titulaire.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        stored = {row[0] for row in db.execute("SELECT id FROM deposits")}
    assert len(accepted) >= 100
    assert all(not call["violations"] for call in calls)
    returns = {call["idDepot"]: call["idRetour"] for call in calls}
    assert len({call["idRetour"] for call in calls}) == len(returns)  # one idRetour per deposit
    assert set(accepted) <= set(returns)
    assert set(returns) <= stored
    assert len(set(returns) - set(accepted)) <= ROUNDS  # at most the deposit in flight at each kill
    assert {p.name for p in (data_dir / "depots").iterdir()} <= stored


def crash_round(reference: ReferenceProcess, client: AspClient, kill_after: int, rng: random.Random) -> list[str]:
    """Deposits until `kill_after` are accepted, then a kill anywhere in the next request; the ids accepted."""
    stream = DepositStream(client)
    stream.start()
    wait_until(lambda: len(stream.accepted) >= kill_after, f"{kill_after} deposits", timeout=120)
    stream.join(rng.uniform(0.0, 0.05))
    reference.kill()
    stream.join(30)
    return stream.accepted


def acknowledged(calls: list[dict[str, object]]) -> set[str]:
    return {str(call["idDepot"]) for call in calls if call["idAcquittement"]}
