"""Steps of returns (retours): exactly one per deposit, every metadata field echoed, and the ASP's acknowledgement."""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pytest_bdd import given, parsers, then

from harness.campaign.suites.bdd.steps.communs import Depot, Scenario, trace, wait_until
from harness.campaign.suites.bdd.steps.depots import piece, send_deposit
from harness.campaign.target import Target
from harness.conformance import SentDeposit, TrackedDeposit, acknowledged_returns, judge
from harness.conformance.equality import json_equal
from harness.conformance.returns import RULES, SINGLE, max_return_delay, parse_instant
from harness.foundations.asp_client import AspClient, CallbackInspector
from harness.foundations.majors import major_of

SETTLE_SECONDS = 1.0
"""After a deposit's first return arrived, how long a second one is watched for: "exactly one" needs a window
(it runs from the arrival, so a return that came while other scenarios ran has had it already)."""
MARGIN_SECONDS = 2.0
"""Added to every deadline of the service contract: our receiver's stamp and our polling come a little after
the platform acted, and a late return must be seen (and judged late) rather than missed."""
METADATA_FIELDS: dict[str, tuple[str, ...]] = {
    "application source": ("applicationSource",),
    "référence du contrat": ("referenceContrat",),
    "identifiant du dossier": ("identifiantDossier",),
    "données métier": ("donneesMetier",),
    "numéro d'itération": ("numeroIteration",),
    "empreinte SAE": ("sae", "empreinte"),
}
"""The metadata of the ASP's specification, as a recette team names them, and their fields in the contract."""


@pytest.fixture(scope="session")
def delai_max_retour(cible: Target) -> timedelta:
    """How long the platform's service contract gives a return (`delaiMaxRetour`): every wait for one."""
    return max_return_delay(cible.service_contract)


def expect_single_returns(
    scenario: Scenario,
    inspecteur: CallbackInspector,
    depots: Sequence[Depot],
    preuves: list[str],
    max_delay: timedelta,
    rules: Collection[str] = RULES,
) -> None:
    """Wait for each deposit's return, then one settling window; fail on what breaks `rules` of the judge.

    All of them: exactly one return, faithful to its deposit. Only `SINGLE`: exactly one, whatever it says
    (the scenario's next steps judge its content one aspect at a time)."""
    settle([inspecteur.wait_for_return(depot.id_depot, timeout=deadline(depot, max_delay))[0] for depot in depots])
    problems: list[str] = []
    for depot in depots:
        calls = scenario.returns[depot.id_depot] = inspecteur.received(depot.id_depot)
        preuves.append(
            f"retours reçus par l'ASP pour {depot.id_depot} (dépôt accepté le {depot.accepted_at.isoformat()}, "
            f"délai maximal {max_delay}) : "
            + "; ".join(
                f"idRetour {c['idRetour']} reçu le {c['recuLe']} → {c['statutHttp']} {c['violations'] or ''}"
                for c in calls
            )
        )
        defects = [defect for defect in judge(tracked(depot), calls, max_delay) if defect.rule in rules]
        problems += [f"{depot.id_depot} : {defect}" for defect in defects]
    assert not problems, "; ".join(problems)


def deadline(depot: Depot, max_delay: timedelta) -> float:
    """Seconds left to wait for what the service contract gives `depot` `max_delay` for after its 202 (its
    return, the state that follows it), with `MARGIN_SECONDS`: a late return is then seen, and judged late."""
    return due_in(depot.accepted_at, max_delay)


def due_in(since: datetime, max_delay: timedelta) -> float:
    """Seconds left until `max_delay` after `since`, with `MARGIN_SECONDS` (0 + the margin once past)."""
    return max(0.0, (since + max_delay - datetime.now(UTC)).total_seconds()) + MARGIN_SECONDS


def settle(calls: Sequence[dict[str, Any]]) -> None:
    """Wait until `SETTLE_SECONDS` after the latest of these calls reached the ASP (at once if that is past)."""
    settled = max(parse_instant(call["recuLe"]) for call in calls) + timedelta(seconds=SETTLE_SECONDS)
    time.sleep(max(0.0, (settled - datetime.now(UTC)).total_seconds()))


def tracked(depot: Depot) -> TrackedDeposit:
    """The scenario's deposit, as the return judge knows deposits (in the major it was made in)."""
    sent = SentDeposit.of(depot.metadonnees, depot.documents)
    major = major_of(depot.response.request.url.path)
    return TrackedDeposit(depot.id_depot, depot.accepted_at, "scénario", sent, major)


def the_return(scenario: Scenario, depot: Depot) -> dict[str, Any]:
    """The return the ASP acknowledged for `depot` (after `expect_single_returns`)."""
    accepted = acknowledged_returns(scenario.calls_of(depot))
    assert len(accepted) == 1, f"{len(accepted)} retour(s) acquitté(s) pour {depot.id_depot}"
    return accepted[0]


# -- exactly one return -------------------------------------------------------------------------------


@given(parsers.parse('l\'ASP a déposé la pièce "{name}" et reçu son retour unique'))
def depot_avec_retour(
    scenario: Scenario,
    asp: AspClient,
    inspecteur: CallbackInspector,
    name: str,
    preuves: list[str],
    delai_max_retour: timedelta,
) -> None:
    depot = send_deposit(scenario, asp, [piece(name)], preuves)
    expect_single_returns(scenario, inspecteur, [depot], preuves, delai_max_retour)


@then("l'ASP reçoit exactement un retour fidèle au dépôt")
def un_retour_fidele(
    scenario: Scenario, inspecteur: CallbackInspector, preuves: list[str], delai_max_retour: timedelta
) -> None:
    expect_single_returns(scenario, inspecteur, [scenario.depot], preuves, delai_max_retour)


@then("l'ASP reçoit exactement un retour pour le dépôt")
def un_seul_retour(
    scenario: Scenario, inspecteur: CallbackInspector, preuves: list[str], delai_max_retour: timedelta
) -> None:
    expect_single_returns(scenario, inspecteur, [scenario.depot], preuves, delai_max_retour, {SINGLE})


@then("l'ASP reçoit exactement un retour pour chaque dépôt")
def un_seul_retour_par_depot(
    scenario: Scenario, inspecteur: CallbackInspector, preuves: list[str], delai_max_retour: timedelta
) -> None:
    expect_single_returns(scenario, inspecteur, scenario.depots, preuves, delai_max_retour, {SINGLE})


# -- the metadata it carries --------------------------------------------------------------------------


@then("le retour porte toutes les métadonnées du dépôt :")
def metadonnees_du_retour(scenario: Scenario, datatable: list[list[str]], preuves: list[str]) -> None:
    depot = scenario.depot
    echoed = the_return(scenario, depot)["retour"]["metadonnees"]
    labels = [row[0] for row in datatable[1:]]
    unknown = [label for label in labels if label not in METADATA_FIELDS]
    assert not unknown, f"métadonnées inconnues : {unknown} (connues : {list(METADATA_FIELDS)})"
    for label in labels:
        for name in METADATA_FIELDS[label]:
            assert name in depot.metadonnees, f"le dépôt ne porte pas « {label} » ({name}) : scénario incomplet"
            preuves.append(f"{label} ({name}) : déposé {depot.metadonnees[name]!r}, retourné {echoed.get(name)!r}")
            same = json_equal(echoed.get(name), depot.metadonnees[name])
            assert same, f"{label} ({name}) non renvoyé à l'identique"


@then("le retour ne porte ni référence de contrat ni empreinte SAE, absentes du dépôt")
def pas_de_champ_invente(scenario: Scenario, asp: AspClient, preuves: list[str]) -> None:
    """The optional fields are the run's major's: v2 requires `referenceContrat`, so only SAE remains optional."""
    optional = {"referenceContrat", "sae", "empreinte"} - set(asp.major.required_metadata())
    assert not optional & set(scenario.depot.metadonnees), "le dépôt porte une métadonnée facultative"
    echoed = the_return(scenario, scenario.depot)["retour"]["metadonnees"]
    preuves.append(f"métadonnées du retour ({asp.major.name}) : {echoed}")
    invented = {"referenceContrat", "empreinte"} & optional & set(echoed)
    assert not invented, f"le retour invente {sorted(invented)}"
    assert not echoed.get("sae"), "le retour active l'option SAE que le dépôt n'a pas demandée"


@then("chaque retour porte le même dossier et le numéro d'itération de son dépôt")
def iterations_des_retours(scenario: Scenario, preuves: list[str]) -> None:
    dossiers, iterations = set(), []
    for depot in scenario.depots:
        echoed = the_return(scenario, depot)["retour"]["metadonnees"]
        dossiers.add(echoed["identifiantDossier"])
        iterations.append((echoed["numeroIteration"], depot.metadonnees["numeroIteration"]))
    preuves.append(f"dossiers des retours : {sorted(dossiers)} ; itérations (retour, dépôt) : {iterations}")
    assert len(dossiers) == 1, f"les retours portent plusieurs dossiers : {dossiers}"
    assert all(echoed == deposited for echoed, deposited in iterations), iterations
    assert [deposited for _, deposited in iterations] == list(range(1, len(iterations) + 1)), iterations


# -- the ASP's acknowledgement (acquittement) of the return --------------------------------------------


@then("l'ASP acquitte ce retour")
def asp_acquitte(scenario: Scenario, preuves: list[str]) -> None:
    """By its 202 on the callback API; a return archive, by its acknowledgement file (`canal: archive`)."""
    call = the_return(scenario, scenario.depot)
    channel = call.get("canal", "api")
    preuves.append(f"acquittement de l'ASP : {call['idAcquittement']} (canal {channel}, HTTP {call['statutHttp']})")
    assert call["statutHttp"] == (202 if channel == "api" else None), call


@then("le titulaire enregistre l'acquittement de l'ASP dans l'état du dépôt")
def acquittement_enregistre(
    scenario: Scenario, asp: AspClient, preuves: list[str], delai_max_retour: timedelta
) -> None:
    depot = scenario.depot
    call = the_return(scenario, depot)

    def acknowledged() -> dict[str, Any] | None:
        scenario.response = asp.state(depot.id_depot)
        return scenario.response.json() if scenario.response.json().get("statut") == "ACQUITTE" else None

    state = wait_until(acknowledged, f"dépôt {depot.id_depot} ACQUITTE", deadline(depot, delai_max_retour))
    trace(preuves, scenario.last, "état du dépôt")
    assert state["retour"]["idRetour"] == call["idRetour"], state["retour"]
    assert state["retour"].get("idAcquittement") == call["idAcquittement"], state["retour"]
    assert "ACQUITTE" in [event["statut"] for event in state["historique"]], state["historique"]
