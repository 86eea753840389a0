"""The outbox under retransmissions, outages and crashes: at least once delivery of one frozen return."""

from __future__ import annotations

from harness.campaign.environment import Environment
from harness.foundations.asp_client import AspClient, Document
from harness.foundations.polling import wait_until
from harness.reference.settings import RetryPolicy
from tests.conftest import StartEnvironment, metadonnees, pdf


def wait_for_status(client: AspClient, id_depot: str, status: str, timeout: float = 20.0) -> None:
    wait_until(lambda: client.state(id_depot).json()["statut"] == status, f"deposit {id_depot} {status}", timeout)


def leased(env: Environment, id_depot: str) -> bool:
    """True while a delivery holds the deposit's return (its outbox row is leased)."""
    rows = env.titulaire.store.leases()
    return id_depot in rows


def test_retransmissions_asked_during_a_delivery_are_not_lost(new_environment: StartEnvironment) -> None:
    env = new_environment()
    with env.asp_client() as client, env.inspector() as inspector:
        id_depot = client.deposit(metadonnees(), [pdf()]).json()["idDepot"]
        first = inspector.wait_for_return(id_depot)[0]
        inspector.arm_fault("delai", 1, delay_seconds=2)
        assert client.resend(id_depot).status_code == 202
        wait_until(lambda: leased(env, id_depot), "the retransmission in flight")
        assert client.resend(id_depot).status_code == 202
        calls = inspector.wait_for_return(id_depot, count=3, timeout=15)
    assert {call["idRetour"] for call in calls} == {first["idRetour"]}


def test_an_asp_outage_of_several_seconds_fails_no_return(new_environment: StartEnvironment) -> None:
    env = new_environment(retry=RetryPolicy(first_delay_seconds=0.05, max_delay_seconds=0.5))
    with env.asp_client() as client, env.inspector() as inspector:
        inspector.arm_fault("erreur-503", 20)  # each with Retry-After: 1, honoured: an outage of seconds
        ids = [client.deposit(metadonnees(), [pdf()]).json()["idDepot"] for _ in range(5)]
        for id_depot in ids:
            wait_for_status(client, id_depot, "ACQUITTE", timeout=60)
        faulted = [call for call in inspector.received() if call["panne"]]
    assert len(faulted) == 20
    assert env.titulaire.store.incidents() == []


def test_a_spent_time_budget_opens_one_incident(new_environment: StartEnvironment) -> None:
    env = new_environment(retry=RetryPolicy(budget_seconds=1.0, first_delay_seconds=0.1, max_delay_seconds=0.2))
    with env.asp_client() as client, env.inspector() as inspector:
        inspector.arm_fault("erreur-500", 10_000)
        id_depot = client.deposit(metadonnees(), [pdf()]).json()["idDepot"]
        wait_for_status(client, id_depot, "ECHEC")
        attempts = len(inspector.received(id_depot))
    incidents = env.titulaire.store.incidents()
    assert [i["deposit_id"] for i in incidents] == [id_depot]
    assert incidents[0]["mailed_at"] is not None
    assert [m for m in env.smtp.messages() if id_depot in m.subject] != []
    assert attempts > 1


def test_a_return_that_would_break_the_limit_is_an_incident_never_sent(new_environment: StartEnvironment) -> None:
    env = new_environment(limit_bytes=30_000)
    with env.asp_client() as client, env.inspector() as inspector:
        documents = [Document(f"p{i}.txt", b"x", "text/plain") for i in range(60)]
        response = client.deposit(metadonnees(), documents)
        assert response.status_code == 202
        id_depot = response.json()["idDepot"]
        wait_for_status(client, id_depot, "ECHEC")
        assert inspector.received(id_depot) == []
    incidents = env.titulaire.store.incidents()
    assert [i["deposit_id"] for i in incidents] == [id_depot]
    assert "30000 octets" in incidents[0]["detail"]
