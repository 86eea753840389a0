"""Steps of the API's majors: v1 and v2 side by side, and v1's deprecation signals.

What the calendar does not require on the run's date (v2 before its publication, v1 after its end of life)
is not asked of the platform: the step is skipped with the reason.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from pytest_bdd import given, parsers, then, when

from harness.campaign.suites.bdd.steps.communs import Scenario
from harness.campaign.target import Target
from harness.foundations.asp_client import AspClient
from harness.foundations.majors import Major
from harness.reference.lifecycle import MIGRATION_GUIDE, planned_lifecycles
from harness.reference.versions import prefix_of, successor_path

MOMENTS = {"la veille de": timedelta(days=-1), "le jour de": timedelta()}


# --- both majors ------------------------------------------------------------------------------------


def require(cible: Target, number: int, preuves: list[str]) -> None:
    """Skip the scenario, with the calendar's reason, when major `number` is not required on the run's date."""
    if reason := cible.not_required(number):
        preuves.append(f"non exigé à la date de la recette : {reason}")
        pytest.skip(reason)


@then(parsers.parse("la version {first:d} et la version {second:d} sont servies"))
def deux_majeures_servies(cible: Target, asp: AspClient, first: int, second: int, preuves: list[str]) -> None:
    """Every major the calendar requires answers; one it does not yet (or no longer) require skips the scenario."""
    required = [n for n in (first, second) if cible.not_required(n) is None]
    for number in required:
        path = Major.numbered(number).path("/sante")
        response = asp.http.get(path)
        preuves.append(f"GET {path} → {response.status_code} {response.text[:100]}")
        assert response.status_code == 200, response.text
        assert response.json()["version"].startswith(f"{number}."), response.text
    for number in {first, second} - set(required):
        require(cible, number, preuves)


@then(parsers.parse("le dépôt est consultable en version {number:d} avec son dossier"))
def consultable_en(scenario: Scenario, cible: Target, asp: AspClient, number: int, preuves: list[str]) -> None:
    """The deposit, made in the run's major, is read through major `number` in its own model."""
    require(cible, number, preuves)
    depot = scenario.depot
    path = Major.numbered(number).path(f"/depots/{depot.id_depot}")
    response = asp.http.get(path)
    preuves.append(f"GET {path} → {response.status_code}")
    assert response.status_code == 200, response.text
    seen = Major.numbered(number).internal_metadata(response.json()["metadonnees"])
    sent = depot.metadonnees
    dossier = {k: seen.get(k) for k in ("identifiantDossier", "numeroIteration")}
    assert dossier == {k: sent[k] for k in dossier}, response.json()["metadonnees"]


# --- deprecation of v1 (moves the reference's clock) -------------------------------------------------


@given(parsers.parse("la date du titulaire est {moment} la {event} de la version {number:d}"))
def date_du_titulaire(cible: Target, request: pytest.FixtureRequest, moment: str, event: str, number: int) -> None:
    clock = cible.clock
    assert clock is not None, "scénario réservé à la référence embarquée (@reference)"
    lifecycle = planned_lifecycles()[Major.numbered(number).prefix]
    planned = {"dépréciation": lifecycle.deprecated, "fin de vie": lifecycle.sunset}[event]
    assert planned is not None, f"aucune date de {event} de la version {number} dans versions.yaml"
    shift = planned + MOMENTS[moment] - clock()
    clock.advance(shift)
    request.addfinalizer(lambda: clock.advance(-shift))


@when(parsers.parse("l'ASP consulte la santé en version {number:d}"))
def consulter_sante(scenario: Scenario, asp: AspClient, number: int, preuves: list[str]) -> None:
    path = Major.numbered(number).path("/sante")
    scenario.response = asp.http.get(path)
    preuves.append(f"GET {path} → {scenario.response.status_code}, en-têtes {dict(scenario.response.headers)}")


@then("la réponse ne porte aucun signal de dépréciation")
def aucun_signal(scenario: Scenario) -> None:
    headers = scenario.last.headers
    assert not {"deprecation", "sunset", "link"} & set(headers.keys()), headers


@then("la réponse porte les dates de dépréciation et de fin de vie")
def dates_de_depreciation(scenario: Scenario) -> None:
    lifecycle = planned_lifecycles()[prefix_of(scenario.last.request.url.path)]
    assert lifecycle.deprecated is not None
    assert lifecycle.sunset is not None
    headers = scenario.last.headers
    assert headers.get("deprecation") == f"@{int(lifecycle.deprecated.timestamp())}", headers
    assert headers.get("sunset") == lifecycle.sunset.strftime("%a, %d %b %Y %H:%M:%S GMT"), headers


@then("la réponse renvoie vers la version 2 et vers le guide de migration")
def liens_vers_v2(scenario: Scenario, asp: AspClient) -> None:
    links = scenario.last.headers.get_list("link")
    successor = successor_path(scenario.last.request.url.path)
    assert f'<{successor}>; rel="successor-version"' in links, links
    assert f'<{MIGRATION_GUIDE}>; rel="deprecation"' in links, links
    guide = asp.http.get(MIGRATION_GUIDE)
    assert guide.status_code == 200, guide.text[:200]
    assert "Guide de migration" in guide.text, guide.text[:200]
