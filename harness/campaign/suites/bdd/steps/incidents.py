"""Steps of anomalies: a return the ASP cannot receive fails the deposit, opens an incident and alerts the ASP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pytest_bdd import given, then

from harness.campaign.suites.bdd.steps.communs import Scenario, trace, wait_until
from harness.campaign.target import Target
from harness.conformance.returns import acknowledged_returns
from harness.foundations.asp_client import AspClient, CallbackInspector

OUTAGE = ("erreur-503", 100)
"""Every call to the ASP's callback API fails: far more calls than any retry budget."""
FAILURE_TIMEOUT_SECONDS = 30.0


@pytest.fixture
def panne_asp(inspecteur: CallbackInspector) -> Iterator[CallbackInspector]:
    """The ASP's callback API out of order for the scenario, back in order afterwards."""
    kind, count = OUTAGE
    inspecteur.arm_fault(kind, count)
    yield inspecteur
    inspecteur.clear_faults()


@given("l'API de retour de l'ASP est en panne et refuse chaque appel")
def api_de_retour_en_panne(panne_asp: CallbackInspector, preuves: list[str]) -> None:
    kind, count = OUTAGE
    preuves.append(f"panne armée sur l'API de retour de l'ASP : {kind} pour les {count} prochains appels")


@then("le titulaire renonce à remettre le retour après plusieurs tentatives et le dépôt passe en échec")
def depot_en_echec(scenario: Scenario, asp: AspClient, inspecteur: CallbackInspector, preuves: list[str]) -> None:
    depot = scenario.depot

    def failed() -> dict[str, Any] | None:
        scenario.response = asp.state(depot.id_depot)
        return scenario.response.json() if scenario.response.json().get("statut") == "ECHEC" else None

    state = wait_until(failed, f"dépôt {depot.id_depot} ECHEC", FAILURE_TIMEOUT_SECONDS)
    trace(preuves, scenario.last, "état du dépôt")
    calls = inspecteur.received(depot.id_depot)
    preuves.append(f"tentatives reçues par l'ASP : {[(c['statutHttp'], c['panne']) for c in calls]}")
    assert len(calls) >= 2, f"{len(calls)} tentative(s) : le titulaire n'a pas réessayé"
    assert state["retour"]["tentatives"] == len(calls), f"tentatives déclarées {state['retour']} pour {len(calls)}"
    assert all(c["statutHttp"] == 503 for c in calls), "une tentative a échappé à la panne"
    assert acknowledged_returns(calls) == [], "un retour a été acquitté malgré la panne"
    assert len({c["idRetour"] for c in calls}) == 1, "les tentatives ne portent pas toutes le même retour"


@then("un incident est ouvert pour ce dépôt")
def incident_ouvert(scenario: Scenario, cible: Target, preuves: list[str]) -> None:
    assert cible.reference is not None
    incidents = [i for i in cible.reference.store.incidents() if i["deposit_id"] == scenario.depot.id_depot]
    preuves.append(f"incidents du dépôt : {[(i['id'], i['summary']) for i in incidents]}")
    assert len(incidents) == 1, f"{len(incidents)} incident(s) pour le dépôt"


@then("un courriel d'incident alerte l'ASP")
def courriel_incident(scenario: Scenario, cible: Target, inspecteur: CallbackInspector, preuves: list[str]) -> None:
    assert cible.reference is not None
    id_depot = scenario.depot.id_depot
    mails = wait_until(
        lambda: [m for m in inspecteur.mails() if id_depot in m["subject"]], f"courriel d'incident pour {id_depot}"
    )
    preuves.append(f"courriel(s) : {[(m['recipients'], m['subject']) for m in mails]}")
    assert len(mails) == 1, f"{len(mails)} courriels pour un seul incident"
    assert mails[0]["recipients"] == [cible.reference.settings.incident_mail_to], mails[0]["recipients"]
    assert id_depot in mails[0]["body"], "le courriel ne nomme pas le dépôt"
