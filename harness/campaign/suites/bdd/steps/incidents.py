"""Steps of anomalies on the platform's own deliveries: the ASP's callback API (our receiver, on any target)
refuses returns; the titulaire retries as the ASP asked, recovers without a duplicate, or gives up: the
deposit fails, an incident is opened and a mail alerts the ASP's incident address."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pytest_bdd import given, parsers, then

from harness.campaign.reservations import reserve
from harness.campaign.suites.bdd.steps.communs import Scenario, trace, wait_until
from harness.campaign.suites.bdd.steps.retours import MARGIN_SECONDS, deadline, settle
from harness.campaign.target import EmbeddedTarget, Target
from harness.conformance.deposits import DepositLedger
from harness.conformance.returns import acknowledged_returns
from harness.foundations.asp_client import AspClient, CallbackInspector
from harness.foundations.polling import wait_until as poll

OUTAGE = ("erreur-503", 100)
"""Every call to the ASP's callback API fails: far more calls than any retry budget."""
REFUSAL = "erreur-503"
RETRY_AFTER_SECONDS = 1.0
"""The `Retry-After` the ASP's 503 asks (the mock callback's default, `mocks/asp/faults.py`)."""
CLOCK_SLACK_SECONDS = 0.05
"""Two calls' reception times are read on one clock, to the microsecond: only rounding is forgiven."""
MAIL_LIFT = (
    "configurer incidents.mail (l'adresse d'incident de l'ASP donnée à la plateforme), préparer le côté ASP "
    "(callback.dir, « recette certificats ») et faire remettre les courriels d'incident de la plateforme à son "
    "serveur SMTP de recette (incidents.smtp_listen) ; ou l'équipe de recette confirme la réception du courriel"
)


def no_return_due(inspecteur: CallbackInspector, deposits: DepositLedger, max_delay: timedelta) -> None:
    """Wait until no deposit of the run still has a return due (each one returned, or past its deadline): a
    fault armed on the ASP's callback API then falls on this scenario's own return, not on a return of another
    scenario still in flight (`harness.campaign.ahead`, or a slow platform)."""

    def quiet() -> bool:
        returned = {str(c.get("idDepot")) for c in acknowledged_returns(inspecteur.received(everything=True))}
        now = datetime.now(UTC)
        return not [d for d in deposits.deposits() if d.id_depot not in returned and now < d.accepted_at + max_delay]

    wait_until(quiet, "retours encore attendus des autres scénarios", max_delay.total_seconds() + MARGIN_SECONDS)


@pytest.fixture
def panne_asp(
    inspecteur: CallbackInspector, depots_suivis: DepositLedger, delai_max_retour: timedelta
) -> Iterator[CallbackInspector]:
    """The ASP's callback API out of order for the scenario, back in order afterwards."""
    no_return_due(inspecteur, depots_suivis, delai_max_retour)
    kind, count = OUTAGE
    inspecteur.arm_fault(kind, count)
    yield inspecteur
    inspecteur.clear_faults()


@pytest.fixture
def refus_asp(
    inspecteur: CallbackInspector, depots_suivis: DepositLedger, delai_max_retour: timedelta
) -> Iterator[CallbackInspector]:
    """Armed by the step that says how many calls are refused; cleared after the scenario."""
    no_return_due(inspecteur, depots_suivis, delai_max_retour)
    yield inspecteur
    inspecteur.clear_faults()


@given("l'API de retour de l'ASP est en panne et refuse chaque appel")
def api_de_retour_en_panne(panne_asp: CallbackInspector, preuves: list[str]) -> None:
    kind, count = OUTAGE
    preuves.append(f"panne armée sur l'API de retour de l'ASP : {kind} pour les {count} prochains appels")


@given(parsers.parse("l'API de retour de l'ASP refuse ses {count:d} prochains appels en demandant de réessayer"))
def api_de_retour_refuse(refus_asp: CallbackInspector, count: int, preuves: list[str]) -> None:
    refus_asp.arm_fault(REFUSAL, count)
    preuves.append(
        f"l'API de retour de l'ASP refuse ses {count} prochains appels : 503 avec Retry-After: {RETRY_AFTER_SECONDS:g}"
    )


@then("le titulaire renonce à remettre le retour après plusieurs tentatives et le dépôt passe en échec")
def depot_en_echec(
    scenario: Scenario,
    asp: AspClient,
    inspecteur: CallbackInspector,
    preuves: list[str],
    delai_max_retour: timedelta,
) -> None:
    """A return the titulaire cannot deliver is late once `delaiMaxRetour` has passed since the 202: by then the
    deposit shows ECHEC (the ASP hears of every deposit within that deadline, by its return or its incident)."""
    depot = scenario.depot

    def failed() -> dict[str, Any] | None:
        scenario.response = asp.state(depot.id_depot)
        return scenario.response.json() if scenario.response.json().get("statut") == "ECHEC" else None

    state = wait_until(failed, f"dépôt {depot.id_depot} ECHEC", deadline(depot, delai_max_retour))
    trace(preuves, scenario.last, "état du dépôt")
    calls = inspecteur.received(depot.id_depot)
    preuves.append(f"tentatives reçues par l'ASP : {[(c['statutHttp'], c['panne']) for c in calls]}")
    assert len(calls) >= 2, f"{len(calls)} tentative(s) : le titulaire n'a pas réessayé"
    assert state["retour"]["tentatives"] == len(calls), f"tentatives déclarées {state['retour']} pour {len(calls)}"
    assert all(c["statutHttp"] == 503 for c in calls), "une tentative a échappé à la panne"
    assert acknowledged_returns(calls) == [], "un retour a été acquitté malgré la panne"
    assert len({c["idRetour"] for c in calls}) == 1, "les tentatives ne portent pas toutes le même retour"


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@then("le titulaire réessaie le retour refusé après le délai demandé par l'ASP, jusqu'à son acquittement")
def reessai_jusqu_a_l_acquittement(
    scenario: Scenario, inspecteur: CallbackInspector, preuves: list[str], delai_max_retour: timedelta
) -> None:
    depot = scenario.depot

    def acknowledged() -> list[dict[str, Any]] | None:
        calls = inspecteur.received(depot.id_depot)
        return calls if acknowledged_returns(calls) else None

    received = wait_until(acknowledged, f"retour acquitté du dépôt {depot.id_depot}", deadline(depot, delai_max_retour))
    scenario.returns[depot.id_depot] = received
    calls = received[: received.index(acknowledged_returns(received)[0]) + 1]  # up to the acknowledgement
    gaps = [(_instant(b["recuLe"]) - _instant(a["recuLe"])).total_seconds() for a, b in itertools.pairwise(calls)]
    preuves.append(
        f"tentatives reçues par l'ASP : {[(c['statutHttp'], c['panne']) for c in calls]} ; "
        f"intervalles : {[round(gap, 3) for gap in gaps]} s (Retry-After: {RETRY_AFTER_SECONDS:g})"
    )
    refused = [c for c in calls if c["statutHttp"] == 503]
    assert refused, "aucune tentative n'a été refusée : le refus de l'ASP n'a pas porté sur ce retour"
    assert len({c["idRetour"] for c in calls}) == 1, "les tentatives ne portent pas toutes le même retour"
    early = [
        round(gap, 3)
        for call, gap in zip(calls[:-1], gaps, strict=True)
        if call["statutHttp"] == 503 and gap < RETRY_AFTER_SECONDS - CLOCK_SLACK_SECONDS
    ]
    assert not early, f"nouvelles tentatives {early} s après un refus demandant Retry-After: {RETRY_AFTER_SECONDS:g}"


@then("aucun retour n'est remis en double après le rétablissement")
def pas_de_doublon(scenario: Scenario, inspecteur: CallbackInspector, preuves: list[str]) -> None:
    depot = scenario.depot
    settle(acknowledged_returns(scenario.returns[depot.id_depot]))
    calls = scenario.returns[depot.id_depot] = inspecteur.received(depot.id_depot)
    acknowledged = acknowledged_returns(calls)
    after = calls[calls.index(acknowledged[0]) + 1 :] if acknowledged else []
    preuves.append(f"livraisons après l'acquittement : {[(c['idRetour'], c['statutHttp']) for c in after]}")
    assert len(acknowledged) == 1, f"{len(acknowledged)} retours acquittés pour un seul dépôt"
    assert not after, f"{len(after)} livraison(s) après l'acquittement du retour"


@then("un incident est ouvert pour ce dépôt")
def incident_ouvert(scenario: Scenario, cible: Target, preuves: list[str]) -> None:
    """The reference's store shows the ticket; on a real platform, the contract's ECHEC state is its statement
    (« ECHEC : retour non remis, incident ouvert »), and the mail that follows names the deposit."""
    if cible.reference is None:
        state = scenario.last.json()
        preuves.append(f"état ECHEC du dépôt : « retour non remis, incident ouvert » selon le contrat ; {state}")
        assert state.get("statut") == "ECHEC", f"état {state.get('statut')} au lieu d'ECHEC"
        return
    incidents = [i for i in cible.reference.store.incidents() if i["deposit_id"] == scenario.depot.id_depot]
    preuves.append(f"incidents du dépôt : {[(i['id'], i['summary']) for i in incidents]}")
    assert len(incidents) == 1, f"{len(incidents)} incident(s) pour le dépôt"


def incident_address(cible: Target) -> str:
    """Where the ASP's incident mails go: the reference's setting, or `incidents.mail` of a real platform."""
    if isinstance(cible, EmbeddedTarget):
        return cible.reference.settings.incident_mail_to
    if cible.config.incident_mail is None:
        reserve("courriel d'incident non jugeable : aucune adresse d'incident de l'ASP n'est configurée", MAIL_LIFT)
    return cible.config.incident_mail


@then("un courriel d'incident alerte l'ASP")
def courriel_incident(
    scenario: Scenario, cible: Target, inspecteur: CallbackInspector, preuves: list[str], delai_max_retour: timedelta
) -> None:
    """The alert is due with the failure: within the return's deadline (`delaiMaxRetour` since the 202). On a
    real platform, the run catches mails only with its ASP side (`callback.dir`): without it there is nothing
    to wait for, and the check is a reservation at once."""
    id_depot = scenario.depot.id_depot
    address = incident_address(cible)
    if cible.reference is None and cible.config.callback_dir is None:
        reserve(
            f"courriel d'incident non observable : sans callback.dir, l'exécution n'a pas de serveur SMTP de recette "
            f"où la plateforme puisse l'envoyer (adresse attendue : {address}, dépôt {id_depot})",
            MAIL_LIFT,
        )
    timeout = deadline(scenario.depot, delai_max_retour)

    def naming_the_deposit() -> list[dict[str, Any]]:
        return [m for m in inspecteur.mails() if id_depot in m["subject"]]

    if cible.reference is None:
        try:
            mails = poll(naming_the_deposit, f"courriel d'incident pour {id_depot}", timeout, every=0.2)
        except TimeoutError:
            mails = []
        if not mails:
            reserve(
                f"courriel d'incident non observable : aucun courriel pour le dépôt {id_depot} n'a été attrapé "
                f"(adresse attendue : {address})",
                MAIL_LIFT,
            )
    else:
        mails = wait_until(naming_the_deposit, f"courriel d'incident pour {id_depot}", timeout)
    preuves.append(f"courriel(s) : {[(m['recipients'], m['subject']) for m in mails]}")
    assert len(mails) == 1, f"{len(mails)} courriels pour un seul incident"
    assert mails[0]["recipients"] == [address], mails[0]["recipients"]
    assert id_depot in mails[0]["body"], "le courriel ne nomme pas le dépôt"
