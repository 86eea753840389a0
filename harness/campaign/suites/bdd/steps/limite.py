"""Steps of the 20 MB limit on a full transaction (request body + response body), declared and chunked."""

from __future__ import annotations

from pytest_bdd import parsers, then, when

from harness.campaign.suites.bdd.steps.communs import Depot, Scenario, assert_problem, trace
from harness.campaign.target import Target
from harness.foundations.asp_client import AspClient, DepositBody

SENDING_MODES = {"en annonçant sa taille": False, "par morceaux": True}
"""How the body is sent: with its Content-Length, or chunked (the titulaire learns its size as it reads)."""


def body_size_at_limit(scenario: Scenario, asp: AspClient, cible: Target) -> int:
    """The body size whose transaction is exactly the limit (measured once per scenario on a small deposit)."""
    if scenario.body_size_at_limit is None:
        scenario.body_size_at_limit = asp.body_size_for_transaction(cible.limit_bytes, scenario.metadonnees)
    return scenario.body_size_at_limit


def send_sized(scenario: Scenario, asp: AspClient, size: int, envoi: str, preuves: list[str]) -> None:
    assert envoi in SENDING_MODES, f"mode d'envoi inconnu « {envoi} » : {list(SENDING_MODES)}"
    body = DepositBody.of_size(asp.major.wire_metadata(scenario.metadonnees), size)
    response = asp.send_body(body, chunked=SENDING_MODES[envoi])
    trace(preuves, response, f"dépôt d'un corps de {size} octets {envoi}")
    scenario.depots.append(Depot(scenario.metadonnees, [], response))  # its padding document is not kept
    scenario.response = response


@when(parsers.parse("l'ASP dépose une pièce dont la transaction atteint exactement la limite, {envoi}"))
def deposer_a_la_limite(scenario: Scenario, asp: AspClient, cible: Target, envoi: str, preuves: list[str]) -> None:
    send_sized(scenario, asp, body_size_at_limit(scenario, asp, cible), envoi, preuves)


@when(parsers.parse("l'ASP dépose une pièce dont la transaction dépasse la limite d'un octet, {envoi}"))
def deposer_au_dela(scenario: Scenario, asp: AspClient, cible: Target, envoi: str, preuves: list[str]) -> None:
    send_sized(scenario, asp, body_size_at_limit(scenario, asp, cible) + 1, envoi, preuves)


@then("la transaction complète mesure exactement la limite")
def transaction_a_la_limite(scenario: Scenario, cible: Target, preuves: list[str]) -> None:
    response = scenario.depot.response
    assert response.status_code == 202, f"statut {response.status_code} au lieu de 202 : {response.text}"
    received = response.json()["tailleOctets"]
    preuves.append(
        f"corps reçu {received} octets + accusé de réception {len(response.content)} octets "
        f"= {received + len(response.content)} octets (limite {cible.limit_bytes})"
    )
    assert received == scenario.body_size_at_limit, f"taille reçue {received} au lieu de {scenario.body_size_at_limit}"
    assert received + len(response.content) == cible.limit_bytes


@then("le titulaire refuse le dépôt et renvoie vers le mode dossier")
def refus_mode_dossier(scenario: Scenario, cible: Target, preuves: list[str]) -> None:
    problem = assert_problem(scenario.last, 413, "transaction-trop-volumineuse")
    preuves.append(f"détail du refus : {problem.get('detail')}")
    assert "mode dossier" in problem.get("detail", ""), f"le refus ne renvoie pas vers le mode dossier : {problem}"
    assert problem.get("limiteOctets", cible.limit_bytes) == cible.limit_bytes, f"limite annoncée : {problem}"
