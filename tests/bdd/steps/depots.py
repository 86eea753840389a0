"""Steps of deposits (dépôts) and their single return (retour)."""

from __future__ import annotations

import uuid

from pytest_bdd import given, parsers, then, when

from harness.client import AspClient, CallbackInspector, Document
from harness.returns import verify_return
from tests.bdd.steps.communs import Scenario

SETTLE_SECONDS = 1.0
"""After the first return, how long a second one is waited for: "exactly one" needs a window."""
PDF = b"%PDF-1.7\n1 0 obj << /Type /Page >> endobj\n%%EOF\n"


@given(parsers.parse('un dossier "{application}" à l\'itération {iteration:d}'))
def un_dossier(scenario: Scenario, application: str, iteration: int) -> None:
    scenario.metadonnees = {
        "applicationSource": application,
        "identifiantDossier": f"DOS-{uuid.uuid4().hex[:10].upper()}",
        "numeroIteration": iteration,
        "donneesMetier": {"nature": "justificatif de domicile"},
    }


@when(parsers.parse('l\'ASP dépose la pièce "{name}"'))
def deposer_une_piece(scenario: Scenario, asp: AspClient, name: str) -> None:
    scenario.documents = [Document(name, PDF, "application/pdf")]
    scenario.response = asp.deposit(scenario.metadonnees, scenario.documents)
    if scenario.response.status_code == 202:
        scenario.id_depot = scenario.response.json()["idDepot"]


@then("le titulaire accuse réception avec un identifiant unique de dépôt")
def accuse_reception(scenario: Scenario, preuves: list[str]) -> None:
    response = scenario.last
    assert response.status_code == 202, response.text
    receipt = response.json()
    preuves.append(f"accusé de réception : {receipt}")
    assert uuid.UUID(receipt["idDepot"])
    assert response.headers["location"].endswith(receipt["idDepot"])


@then("l'ASP reçoit exactement un retour fidèle au dépôt")
def un_retour_fidele(scenario: Scenario, inspecteur: CallbackInspector, preuves: list[str]) -> None:
    assert scenario.id_depot, "aucun dépôt accepté"
    calls = inspecteur.wait_for_return(scenario.id_depot, settle_seconds=SETTLE_SECONDS)
    problems = verify_return(calls, scenario.id_depot, scenario.metadonnees, scenario.documents)
    preuves.append(f"retours reçus pour {scenario.id_depot} : {len(calls)}")
    assert not problems, "; ".join(problems)
