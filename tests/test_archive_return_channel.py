"""The return-archive channel end to end (canal archive de retour): the reference, told to return its archives'
results by archive, publishes `sortant/<id>.retour.zip` on the real deposit server (SFTP or FTPS), the ASP side
records it in its journal of returns and acknowledges it in `entrant/`, and the reference records that
acknowledgement and removes its file; retransmission, outages of the server, and an acknowledgement that never
comes included."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.campaign.environment import Environment, EnvironmentOptions
from harness.campaign.suites.bdd.steps.retours import settle
from harness.foundations.archive_convention import ack_name, return_archive_name
from harness.reference.callback_client import Delivery
from harness.reference.return_channels import ReturnChannels
from harness.reference.settings import RetryPolicy
from mocks.depot import DISK_FULL, REFUSED_CONNECTION
from mocks.depot.archives import Piece, build
from mocks.depot.journal import REMOVE
from mocks.depot.returns import EVIDENCE_FOLDER
from tests.conftest import FAST_RETRIES, PDF, clock_of_the_tests_day, metadonnees
from tests.helpers import wait_until

SECONDS = 30.0


def _environment(directory: Path, protocol: str, retry: RetryPolicy = FAST_RETRIES) -> Environment:
    options = EnvironmentOptions(
        reference={"retry": retry, "poll_seconds": 0.1},
        clock=clock_of_the_tests_day(),
        archives=protocol,
        return_channel="archive",
    )
    return Environment(directory, options).start()


@pytest.fixture(params=["sftp", "ftps"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Environment]:
    environment = _environment(tmp_path / "env", request.param)
    yield environment
    environment.stop()
    assert environment.titulaire.contract_violations == []


def deposit(env: Environment) -> tuple[str, str]:
    """A valid archive put in `entrant/`: its identifier, and the idDepot its notice gives."""
    archive_id = f"RETOUR-{uuid.uuid4().hex[:8].upper()}"
    name, content = build(archive_id, "zip", metadonnees(), [Piece({"facture.pdf": PDF})])
    depot = env.depot
    assert depot is not None
    depot.put(name, content)
    notice = wait_until(lambda: depot.notice(archive_id), f"notification de {archive_id}", SECONDS)
    return archive_id, notice["idDepot"]


def received(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The calls, once the reference's last return of them is settled."""
    settle(calls)
    return calls


def acknowledged_state(env: Environment, id_depot: str) -> dict[str, Any]:
    def acquitte() -> dict[str, Any] | None:
        state: dict[str, Any] = env.asp_client().state(id_depot).json()
        return state if state.get("statut") == "ACQUITTE" else None

    return wait_until(acquitte, f"dépôt {id_depot} ACQUITTE", SECONDS)


def ack_removed_by_titulaire(env: Environment, archive_id: str) -> bool:
    depot = env.depot
    assert depot is not None
    path = f"/entrant/{ack_name(archive_id)}"
    return any(e.operation == REMOVE and e.chemin == path for e in depot.journal.entries(depot.access.user))


def test_an_archive_gets_its_one_return_by_archive_acknowledged_and_the_ack_removed(env: Environment) -> None:
    archive_id, id_depot = deposit(env)
    inspector = env.inspector()
    [call] = received(inspector.wait_for_return(id_depot, timeout=SECONDS))
    assert (call["canal"], call["valide"], call["retour"]["modeEchange"]) == ("archive", True, "DOSSIER")
    state = acknowledged_state(env, id_depot)
    assert state["retour"]["idAcquittement"] == call["idAcquittement"]
    wait_until(lambda: ack_removed_by_titulaire(env, archive_id), "acquittement retiré d'entrant/", SECONDS)
    depot = env.depot
    assert depot is not None
    assert ack_name(archive_id) not in depot.inbound()
    assert return_archive_name(archive_id) in depot.outbound()
    assert [c["canal"] for c in inspector.received()] == ["archive"]  # nothing on the callback API


def test_a_retransmission_republishes_the_same_return_archive_byte_for_byte(env: Environment) -> None:
    archive_id, id_depot = deposit(env)
    inspector = env.inspector()
    [first] = received(inspector.wait_for_return(id_depot, timeout=SECONDS))
    acknowledged_state(env, id_depot)
    wait_until(lambda: ack_removed_by_titulaire(env, archive_id), "acquittement retiré", SECONDS)
    assert env.asp_client().resend(id_depot).status_code == 202
    calls = received(inspector.wait_for_return(id_depot, timeout=SECONDS, count=2))
    again = calls[1]
    assert (again["redelivery"], again["idAcquittement"], again["violations"]) == (True, first["idAcquittement"], [])
    depot = env.depot
    assert depot is not None
    copies = sorted((depot.root / EVIDENCE_FOLDER).glob(f"*-{return_archive_name(archive_id)}"))
    assert len(copies) == 2
    assert copies[0].read_bytes() == copies[1].read_bytes()


@pytest.mark.parametrize("outage", [REFUSED_CONNECTION, DISK_FULL])
def test_an_outage_of_the_deposit_server_delays_the_return_archive_but_it_arrives_once(
    tmp_path: Path, outage: str
) -> None:
    """Armed before the archive: the consumer's session is open already, so the refused connections are the
    return channel's (one session per delivery); the full disk refuses the notice or the return archive."""
    env = _environment(tmp_path / "env", "sftp")
    try:
        depot = env.depot
        assert depot is not None
        depot.faults.arm(outage, count=2)
        _, id_depot = deposit(env)
        [call] = received(env.inspector().wait_for_return(id_depot, timeout=SECONDS))
        assert call["valide"], call["violations"]
        state = acknowledged_state(env, id_depot)
        assert state["retour"]["idAcquittement"] == call["idAcquittement"]
        refused = [e for e in depot.journal.entries() if e.detail == outage]
        assert len(refused) == (2 if outage == DISK_FULL else 0), refused  # a refused connection is not journaled
        assert len(env.inspector().received(id_depot)) == 1
    finally:
        env.stop()


def test_without_an_acknowledgement_the_return_fails_with_an_incident(tmp_path: Path) -> None:
    env = _environment(tmp_path / "env", "sftp", RetryPolicy(budget_seconds=2.0, max_delay_seconds=0.2))
    try:
        depot = env.depot
        assert depot is not None
        assert depot.returns is not None
        depot.returns.stop()  # the ASP side reads no return archive: none is acknowledged
        depot.returns = None
        archive_id, id_depot = deposit(env)

        def failed() -> dict[str, Any] | None:
            state: dict[str, Any] = env.asp_client().state(id_depot).json()
            return state if state.get("statut") == "ECHEC" else None

        wait_until(failed, f"dépôt {id_depot} ECHEC", SECONDS)
        mail = env.smtp.wait_for(lambda m: id_depot in m.body, timeout=SECONDS)
        assert ack_name(archive_id) in mail.body
        assert return_archive_name(archive_id) in depot.outbound()
    finally:
        env.stop()


class _Recording:
    def __init__(self, name: str) -> None:
        self.name = name
        self.sent: list[str] = []

    async def deliver(self, retour: dict[str, Any]) -> Delivery:
        self.sent.append(retour["modeEchange"])
        return Delivery(self.name, 1)

    async def aclose(self) -> None:
        self.sent.append("fermé")


@pytest.mark.anyio
async def test_only_the_returns_of_archives_take_the_archive_channel() -> None:
    api, archive = _Recording("api"), _Recording("archive")
    channels = ReturnChannels(api, archive)
    answers = [await channels.deliver({"modeEchange": mode}) for mode in ("API", "DOSSIER", "PAPIER")]
    await channels.aclose()
    assert [a.ack_id for a in answers] == ["api", "archive", "api"]
    assert (api.sent, archive.sent) == (["API", "PAPIER", "fermé"], ["DOSSIER", "fermé"])
