"""Steps of deposits (dépôts): the dossier, the pieces, the titulaire's receipt (accusé de réception) and state."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from typing import Any

from pytest_bdd import given, parsers, then, when

from harness.campaign.ahead import ahead
from harness.campaign.suites.bdd.steps.communs import Depot, Scenario, deposit_once, trace
from harness.conformance.equality import json_equal, metadata_equal
from harness.foundations.asp_client import AspClient, Document

PDF = b"%PDF-1.7\n1 0 obj << /Type /Page >> endobj\n%%EOF\n"
MATCHING, MISMATCHED = "concordante", "discordante"
"""What the hash declared with the SAE option is: that of the documents deposited, or another one."""


def piece(name: str) -> Document:
    """A small PDF document; its content depends on its name, so two pieces never share a hash."""
    return Document(name, PDF + f"% {name}\n".encode(), "application/pdf")


def documents_digest(documents: Sequence[Document]) -> str:
    """SHA-256 of the documents concatenated in the order sent (the deposit's hash, per the contract)."""
    return hashlib.sha256(b"".join(d.content for d in documents)).hexdigest()


def declared_metadata(scenario: Scenario, documents: Sequence[Document]) -> dict[str, Any]:
    """The dossier's metadata for a deposit of `documents`, with the SAE hash when the option is on."""
    assert scenario.metadonnees, "aucun dossier défini dans ce scénario"
    metadonnees = dict(scenario.metadonnees)
    if scenario.sae is not None:
        content = documents_digest(documents) if scenario.sae == MATCHING else hashlib.sha256(b"autre").hexdigest()
        metadonnees |= {"sae": True, "empreinte": {"algorithme": "SHA-256", "valeur": content}}
    return metadonnees


def send_deposit(
    scenario: Scenario,
    client: AspClient,
    documents: list[Document],
    preuves: list[str],
    metadonnees: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> Depot:
    """Deposit `documents` with the dossier's metadata (or `metadonnees`) — or take back the deposit made ahead
    for it (`harness.campaign.ahead`); remember the deposit and its answer."""
    if metadonnees is None:
        metadonnees = declared_metadata(scenario, documents)
    depot, made_ahead = deposit_once(scenario, client, metadonnees, documents, idempotency_key)
    when = f" (fait d'avance, à {depot.accepted_at:%H:%M:%S} UTC)" if made_ahead else ""
    trace(preuves, depot.response, f"dépôt de {', '.join(d.name for d in documents) or 'aucun document'}{when}")
    scenario.depots.append(depot)
    scenario.response = depot.response
    return depot


DEFAULT_CONTRACT_REFERENCE = "MARCHE-RECETTE"
"""The contract reference of a dossier whose major requires one (v2) and whose scenario names none."""


# -- the dossier --------------------------------------------------------------------------------------


@given(parsers.parse('un dossier "{application}" à l\'itération {iteration:d}'))
@ahead
def un_dossier(scenario: Scenario, asp: AspClient, application: str, iteration: int) -> None:
    """A dossier of the run's major; where its contract requires a contract reference, it carries one."""
    scenario.metadonnees = {
        "applicationSource": application,
        "identifiantDossier": f"DOS-{scenario.ahead.unique('dossier')[:10].upper()}",
        "numeroIteration": iteration,
        "donneesMetier": {
            "nature": "justificatif de domicile",
            "montant": 1250.5,
            "beneficiaire": {"siret": "13000583100030"},
        },
    }
    if "referenceContrat" in asp.major.required_metadata():
        scenario.metadonnees["referenceContrat"] = DEFAULT_CONTRACT_REFERENCE


@given(parsers.parse('le dossier relève du contrat "{reference}"'))
@ahead
def reference_contrat(scenario: Scenario, reference: str) -> None:
    scenario.metadonnees["referenceContrat"] = reference


@given("l'option SAE est demandée avec l'empreinte des documents déposés")
@ahead
def sae_concordante(scenario: Scenario) -> None:
    scenario.sae = MATCHING


@given("l'option SAE est demandée avec une empreinte qui ne correspond pas aux documents déposés")
@ahead
def sae_discordante(scenario: Scenario) -> None:
    scenario.sae = MISMATCHED


# -- deposits -----------------------------------------------------------------------------------------


@when(parsers.parse('l\'ASP dépose la pièce "{name}"'))
@ahead
def deposer_une_piece(scenario: Scenario, asp: AspClient, name: str, preuves: list[str]) -> None:
    send_deposit(scenario, asp, [piece(name)], preuves)


@when(parsers.parse('l\'ASP dépose les pièces "{first}" et "{second}"'))
@ahead
def deposer_deux_pieces(scenario: Scenario, asp: AspClient, first: str, second: str, preuves: list[str]) -> None:
    send_deposit(scenario, asp, [piece(first), piece(second)], preuves)


@when(parsers.parse("l'ASP dépose pour le même dossier la pièce complémentaire \"{name}\" à l'itération {iteration:d}"))
@ahead
def deposer_complement(scenario: Scenario, asp: AspClient, name: str, iteration: int, preuves: list[str]) -> None:
    scenario.metadonnees = scenario.metadonnees | {"numeroIteration": iteration}
    send_deposit(scenario, asp, [piece(name)], preuves)


@when(parsers.parse("l'ASP dépose la pièce \"{name}\" avec une clé d'idempotence"))
@ahead
def deposer_avec_cle(scenario: Scenario, asp: AspClient, name: str, preuves: list[str]) -> None:
    scenario.idempotency_key = f"recette-{uuid.UUID(scenario.ahead.unique('cle')[:32])}"
    send_deposit(scenario, asp, [piece(name)], preuves, idempotency_key=scenario.idempotency_key)


@when("l'ASP rejoue ce dépôt à l'identique avec la même clé d'idempotence")
def rejouer_le_depot(scenario: Scenario, asp: AspClient, preuves: list[str]) -> None:
    first = scenario.depot
    assert scenario.idempotency_key, "le premier dépôt n'avait pas de clé d'idempotence"
    send_deposit(scenario, asp, first.documents, preuves, first.metadonnees, scenario.idempotency_key)


@when("l'ASP consulte l'état du dépôt")
def consulter_le_depot(scenario: Scenario, asp: AspClient, preuves: list[str]) -> None:
    scenario.response = asp.state(scenario.depot.id_depot)
    trace(preuves, scenario.response, "état du dépôt")


# -- the titulaire's receipt --------------------------------------------------------------------------


@then("le titulaire accuse réception avec un identifiant unique de dépôt")
def accuse_reception(scenario: Scenario, asp: AspClient, preuves: list[str]) -> None:
    response = scenario.depot.response
    assert response.status_code == 202, f"statut {response.status_code} au lieu de 202 : {response.text}"
    receipt = response.json()
    preuves.append(f"accusé de réception : {receipt}")
    assert receipt["statut"] == "RECU", receipt
    assert uuid.UUID(receipt["idDepot"]), receipt
    location = asp.major.path(f"/depots/{receipt['idDepot']}")
    assert response.headers["location"].endswith(location), response.headers


@then("l'accusé de réception indique la taille reçue et l'empreinte des documents déposés")
def accuse_taille_empreinte(scenario: Scenario, preuves: list[str]) -> None:
    depot = scenario.depot
    receipt = depot.response.json()
    sent = int(depot.response.request.headers["content-length"])
    expected = documents_digest(depot.documents)
    preuves.append(f"corps envoyé : {sent} octets ; empreinte SHA-256 des documents : {expected}")
    assert receipt["tailleOctets"] == sent, f"taille accusée {receipt['tailleOctets']} au lieu de {sent}"
    assert receipt["empreinte"] == {"algorithme": "SHA-256", "valeur": expected}, receipt["empreinte"]


@then("chaque dépôt reçoit son propre identifiant")
def identifiants_distincts(scenario: Scenario, preuves: list[str]) -> None:
    ids = [depot.id_depot for depot in scenario.depots]
    preuves.append(f"identifiants de dépôt : {ids}")
    assert len(ids) >= 2, "il faut au moins deux dépôts pour comparer leurs identifiants"
    assert len(set(ids)) == len(ids), f"identifiants répétés : {ids}"


@then("le titulaire renvoie le même accusé de réception sans créer de second dépôt")
def meme_accuse(scenario: Scenario, preuves: list[str]) -> None:
    first, replay = (depot.response for depot in scenario.depots[-2:])
    preuves.append(f"premier accusé : {first.text} ; accusé du rejeu : {replay.text}")
    assert replay.status_code == 202, f"rejeu refusé : {replay.status_code} {replay.text}"
    assert json_equal(replay.json(), first.json()), "le rejeu a reçu un autre accusé de réception"


@then("l'état du dépôt rappelle son identifiant et ses métadonnées")
def etat_du_depot(scenario: Scenario, asp: AspClient) -> None:
    response = scenario.last
    assert response.status_code == 200, f"statut {response.status_code} au lieu de 200 : {response.text}"
    state = response.json()
    assert state["idDepot"] == scenario.depot.id_depot, state
    seen = asp.major.internal_metadata(state["metadonnees"])
    assert metadata_equal(seen, scenario.depot.metadonnees, (asp.major.contract,)), state["metadonnees"]
    assert state["historique"], state
    assert state["historique"][0]["statut"] == "RECU", state["historique"]
