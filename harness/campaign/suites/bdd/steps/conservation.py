"""Steps of retention (conservation) and retransmission of a return, and of expiry once retention is over.

Expiry is observed on the reference by moving its clock; on a real platform, when its recette environment
publishes a short retention (`conservation.dureeEnRecette` of its service contract, e.g. PT10M), by waiting
for it; otherwise it is a reservation."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import isodate
import pytest
from pytest_bdd import then, when

from harness.campaign.reservations import reserve
from harness.campaign.suites.bdd.steps.communs import Scenario, assert_problem, trace, wait_until
from harness.campaign.suites.bdd.steps.retours import MARGIN_SECONDS, settle, the_return
from harness.campaign.target import Target
from harness.conformance.equality import json_equal
from harness.conformance.returns import acknowledged_returns
from harness.foundations.asp_client import AspClient, CallbackInspector
from harness.foundations.clock import OffsetClock, utc_now
from harness.foundations.service_contract import load_service_contract

MINIMUM_RETENTION = timedelta(days=89)
"""Three months from any day is at least 89 days (28 February → 28 May)."""
PAST_RETENTION = timedelta(days=93)
"""Past three months from any day (the longest three months last 92 days)."""
SHORT_RETENTION_LIFT = (
    "publier dans le contrat de service de l'environnement de recette une conservation courte "
    "(conservation.dureeEnRecette, par exemple PT10M) et le donner au harnais (--service-contract)"
)


def recette_retention(cible: Target) -> timedelta | None:
    """The short retention the platform's service contract publishes for its recette environment, if any."""
    published = load_service_contract(cible.service_contract)["conservation"].get("dureeEnRecette")
    if published is None:
        return None
    retention = isodate.parse_duration(published)
    assert isinstance(retention, timedelta), f"dureeEnRecette doit être une durée fixe, pas {published}"
    return retention


@pytest.fixture
def horloge(cible: Target) -> Iterator[OffsetClock]:
    """The reference's clock; whatever a scenario moved it by is moved back afterwards."""
    clock = cible.clock
    assert clock is not None, "l'horloge de la cible n'est pas pilotable"
    start = clock.offset
    yield clock
    clock.advance(start - clock.offset)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@then("le titulaire conserve le résultat au moins 3 mois")
def conservation_trois_mois(scenario: Scenario, asp: AspClient, cible: Target, preuves: list[str]) -> None:
    """Three months; on a recette environment that publishes a shorter retention, at least that one."""
    response = asp.state(scenario.depot.id_depot)
    assert response.status_code == 200, response.text
    state = response.json()
    kept = _instant(state["conserveJusquau"]) - _instant(state["recuLe"])
    minimum = recette_retention(cible) or MINIMUM_RETENTION
    preuves.append(
        f"reçu le {state['recuLe']}, conservé jusqu'au {state['conserveJusquau']} ({kept}) ; "
        f"minimum attendu sur cet environnement : {minimum}"
    )
    assert kept >= minimum, f"conservation de {kept} seulement"


@when("l'ASP demande la retransmission du retour")
def demander_retransmission(scenario: Scenario, asp: AspClient, preuves: list[str]) -> None:
    scenario.response = asp.resend(scenario.depot.id_depot)
    trace(preuves, scenario.response, "demande de retransmission")


@then("le titulaire accepte de retransmettre le même retour")
def retransmission_acceptee(scenario: Scenario) -> None:
    response = scenario.last
    assert response.status_code == 202, f"statut {response.status_code} au lieu de 202 : {response.text}"
    planned = response.json()
    assert planned["idDepot"] == scenario.depot.id_depot, planned
    assert planned["idRetour"] == the_return(scenario, scenario.depot)["idRetour"], planned


@then("l'ASP reçoit de nouveau le même retour, reconnu comme une nouvelle livraison sans violation")
def meme_retour_relivre(
    scenario: Scenario, inspecteur: CallbackInspector, preuves: list[str], delai_max_retour: timedelta
) -> None:
    depot = scenario.depot
    first = the_return(scenario, depot)
    before = len(scenario.calls_of(depot))
    timeout = delai_max_retour.total_seconds() + MARGIN_SECONDS  # from the retransmission asked just before
    settle(inspecteur.wait_for_return(depot.id_depot, timeout, count=before + 1)[before:])
    calls = scenario.returns[depot.id_depot] = inspecteur.received(depot.id_depot)
    later = calls[before:]
    preuves.append(
        "livraisons après la demande : "
        + "; ".join(f"idRetour {c['idRetour']} redelivery={c['redelivery']} {c['violations']}" for c in later)
    )
    assert len(later) == 1, f"{len(later)} livraison(s) après la demande au lieu d'une"
    again = later[0]
    assert again["idRetour"] == first["idRetour"], "la retransmission porte un autre idRetour"
    same = json_equal(again["retour"], first["retour"])
    assert same, "la retransmission ne renvoie pas le retour à l'identique"
    assert again["redelivery"] is True, "l'ASP n'a pas reconnu une nouvelle livraison du même retour"
    assert not [v for c in calls for v in c["violations"]], [c["violations"] for c in calls]
    assert again["idAcquittement"] == first["idAcquittement"], "la nouvelle livraison a reçu un autre acquittement"
    assert len(acknowledged_returns(calls)) == 1


@when("la durée de conservation est dépassée")
def conservation_depassee(
    request: pytest.FixtureRequest, cible: Target, scenario: Scenario, preuves: list[str], delai_max_retour: timedelta
) -> None:
    if cible.reference is not None:
        horloge: OffsetClock = request.getfixturevalue("horloge")
        horloge.advance(PAST_RETENTION)
        purged = cible.reference.purge_expired()
        preuves.append(
            f"horloge de la référence avancée de {PAST_RETENTION.days} jours ; {len(purged)} dépôt(s) purgé(s)"
        )
        assert scenario.depot.id_depot in purged, "le dépôt n'a pas été purgé"
        return
    wait_for_short_retention(cible, scenario, preuves, delai_max_retour)


def wait_for_short_retention(cible: Target, scenario: Scenario, preuves: list[str], grace: timedelta) -> None:
    """On a real platform: wait out the recette retention it publishes, then until it stops serving the deposit
    (at most `grace`, the return's deadline, for its purge to run); a reservation when it publishes none."""
    retention = recette_retention(cible)
    if retention is None:
        reserve(
            "expiration non observable pendant l'exécution : le contrat de service de la plateforme ne publie "
            "aucune conservation courte pour la recette",
            SHORT_RETENTION_LIFT,
        )
    with cible.asp_client() as asp:
        state = asp.state(scenario.depot.id_depot).json()
        end = min(_instant(state["conserveJusquau"]), _instant(state["recuLe"]) + retention)
        waited = max(0.0, (end - utc_now()).total_seconds())  # the platform's dates are real time
        time.sleep(waited)
        wait_until(
            lambda: asp.state(scenario.depot.id_depot).status_code != 200,
            f"fin de la conservation du dépôt {scenario.depot.id_depot}",
            grace.total_seconds() + MARGIN_SECONDS,
        )
    preuves.append(f"conservation publiée pour la recette : {retention} ; attendu {waited:.1f} s jusqu'au {end}")


@then("la consultation du dépôt répond qu'il a expiré")
def consultation_expiree(scenario: Scenario, asp: AspClient, preuves: list[str]) -> None:
    scenario.response = asp.state(scenario.depot.id_depot)
    trace(preuves, scenario.response, "consultation après conservation")
    assert_problem(scenario.response, 410, "depot-expire")


@then("la retransmission du retour répond que le dépôt a expiré")
def retransmission_expiree(scenario: Scenario, asp: AspClient, preuves: list[str]) -> None:
    scenario.response = asp.resend(scenario.depot.id_depot)
    trace(preuves, scenario.response, "retransmission après conservation")
    assert_problem(scenario.response, 410, "depot-expire")
