"""Steps of the requests the titulaire must refuse, each with an explicit status and a problem+json `code`."""

from __future__ import annotations

import uuid

from pytest_bdd import when

from harness.campaign.suites.bdd.steps.communs import Scenario, trace
from harness.campaign.suites.bdd.steps.depots import piece, send_deposit
from harness.campaign.target import Target
from harness.foundations.asp_client import AspClient


@when("l'ASP consulte un dépôt qui n'existe pas")
def consulter_depot_inconnu(scenario: Scenario, asp: AspClient, preuves: list[str]) -> None:
    scenario.response = asp.state(str(uuid.uuid4()))
    trace(preuves, scenario.response, "dépôt inconnu")


@when("l'ASP consulte un dépôt avec un identifiant mal formé")
def consulter_identifiant_mal_forme(scenario: Scenario, asp: AspClient, preuves: list[str]) -> None:
    scenario.response = asp.state("pas-un-identifiant")
    trace(preuves, scenario.response, "identifiant mal formé")


@when("l'ASP envoie un document JSON au lieu d'un formulaire multipart")
def deposer_du_json(scenario: Scenario, asp: AspClient, preuves: list[str]) -> None:
    scenario.response = asp.http.post(asp.major.path("/depots"), json=asp.major.wire_metadata(scenario.metadonnees))
    trace(preuves, scenario.response, "dépôt en application/json")


@when("l'ASP dépose une pièce avec un numéro d'itération à zéro")
def deposer_metadonnees_invalides(scenario: Scenario, asp: AspClient, preuves: list[str]) -> None:
    metadonnees = scenario.metadonnees | {"numeroIteration": 0}
    send_deposit(scenario, asp, [piece("avis.pdf")], preuves, metadonnees)


@when("l'ASP dépose des métadonnées sans aucun document")
def deposer_sans_document(scenario: Scenario, asp: AspClient, preuves: list[str]) -> None:
    send_deposit(scenario, asp, [], preuves)


@when("l'ASP dépose une pièce sans jeton d'accès")
def deposer_sans_jeton(scenario: Scenario, cible: Target, preuves: list[str]) -> None:
    with cible.asp_client(authenticated=False) as anonymous:
        send_deposit(scenario, anonymous, [piece("avis.pdf")], preuves)
    preuves.append(f"défi : WWW-Authenticate: {scenario.last.headers.get('www-authenticate')}")


@when("l'ASP dépose une pièce avec un client autorisé en lecture seule")
def deposer_en_lecture_seule(scenario: Scenario, cible: Target, preuves: list[str]) -> None:
    with cible.asp_client("asp-lecture") as reader:
        send_deposit(scenario, reader, [piece("avis.pdf")], preuves)


@when("l'ASP réutilise une clé d'idempotence pour un autre contenu")
def reutiliser_la_cle(scenario: Scenario, asp: AspClient, preuves: list[str]) -> None:
    key = f"recette-{uuid.uuid4()}"
    first = send_deposit(scenario, asp, [piece("avis.pdf")], preuves, idempotency_key=key)
    assert first.response.status_code == 202, f"premier dépôt refusé : {first.response.text}"
    send_deposit(scenario, asp, [piece("autre-avis.pdf")], preuves, idempotency_key=key)
