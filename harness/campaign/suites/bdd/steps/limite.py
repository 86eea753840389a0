"""Steps of the 20 MB limit on a full transaction (request body + response body), declared and chunked; and
of the refusal made on the declared size alone, before the body is read (with and without
`Expect: 100-continue`): the deposit is then sent by hand, and the bytes sent before the answer recorded."""

from __future__ import annotations

import json

import pytest
from pytest_bdd import parsers, then, when

from harness.campaign.suites.bdd.steps.communs import Depot, Scenario, assert_problem, trace
from harness.campaign.target import Target
from harness.foundations.asp_client import DEFAULT_TIMEOUT, AspClient, DepositBody
from harness.foundations.problems import PROBLEM_MEDIA_TYPE
from harness.foundations.raw_upload import EarlyAnswer, upload
from harness.foundations.tokens import ClientCredentialsAuth

SENDING_MODES = {"en annonçant sa taille": False, "par morceaux": True}
"""How the body is sent: with its Content-Length, or chunked (the titulaire learns its size as it reads)."""
WAITING_MODES = {"avec Expect: 100-continue": True, "sans attendre d'invitation à poursuivre": False}
"""Whether the ASP asks the titulaire's leave before sending the body (Expect: 100-continue, RFC 9110 §10.1.1)."""


@pytest.fixture
def annonce() -> list[EarlyAnswer]:
    """The answer to the scenario's hand-sent deposit, once sent."""
    return []


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
    """The contract's code says "use the archive mode" (`transaction-trop-volumineuse`); its wording is free."""
    problem = assert_problem(scenario.last, 413, "transaction-trop-volumineuse")
    preuves.append(f"détail du refus : {problem.get('detail')}")
    assert problem.get("limiteOctets", cible.limit_bytes) == cible.limit_bytes, f"limite annoncée : {problem}"


@when(parsers.parse("l'ASP annonce un dépôt dont la transaction dépasse la limite d'un octet, {attente}"))
def annoncer_au_dela(
    scenario: Scenario, asp: AspClient, cible: Target, attente: str, annonce: list[EarlyAnswer], preuves: list[str]
) -> None:
    assert attente in WAITING_MODES, f"mode d'attente inconnu « {attente} » : {list(WAITING_MODES)}"
    size = body_size_at_limit(scenario, asp, cible) + 1
    body = DepositBody.of_size(asp.major.wire_metadata(scenario.metadonnees), size)
    auth = cible.auth_for("asp-recette")
    assert isinstance(auth, ClientCredentialsAuth), "le client de l'ASP n'obtient pas de jeton"
    headers = {"Content-Type": body.content_type, "Authorization": f"Bearer {auth.access_token()}"}
    headers |= cible.tags.headers()
    timeout = DEFAULT_TIMEOUT.read or 60.0
    answer = upload(
        cible.url,
        cible.verify,
        asp.major.path("/depots"),
        headers,
        body.chunks(),
        body.size,
        expect_continue=WAITING_MODES[attente],
        timeout_seconds=timeout,
    )
    continued = "après une invitation à poursuivre (100 Continue)" if answer.continued else "sans 100 Continue"
    preuves.append(
        f"POST {asp.major.path('/depots')} annoncé à {answer.declared_bytes} octets {attente} → "
        f"{answer.status or answer.error} {continued}, {answer.sent_before_answer} octets du corps envoyés "
        f"avant la réponse ; {answer.body[:200].decode('utf-8', 'replace')}"
    )
    annonce.append(answer)


@then("le titulaire refuse le dépôt avant d'en avoir reçu tout le corps")
def refus_avant_lecture(annonce: list[EarlyAnswer]) -> None:
    assert annonce, "aucun dépôt annoncé dans ce scénario"
    answer = annonce[0]
    assert answer.status == 413, f"statut {answer.status or answer.error} au lieu de 413"
    media_type = answer.headers.get("content-type", "").split(";")[0]
    assert media_type == PROBLEM_MEDIA_TYPE, f"type de contenu {media_type!r} au lieu de {PROBLEM_MEDIA_TYPE}"
    code = json.loads(answer.body).get("code")
    assert code == "transaction-trop-volumineuse", f"code {code!r} au lieu de 'transaction-trop-volumineuse'"
    assert answer.before_the_whole_body, (
        f"le titulaire n'a refusé qu'après avoir reçu les {answer.declared_bytes} octets du corps annoncé : "
        "une taille annoncée au-delà de la limite se refuse avant de lire le corps"
    )
