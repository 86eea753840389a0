"""Steps of the API's majors: v1 and v2 side by side, and v1's deprecation signals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pytest_bdd import given, parsers, then, when

from harness.campaign.suites.bdd.steps.communs import Scenario
from harness.campaign.target import Target
from harness.foundations.asp_client import AspClient
from harness.reference.lifecycle import MIGRATION_GUIDE, planned_lifecycles

MOMENTS = {"la veille de": timedelta(days=-1), "le jour de": timedelta()}


# --- both majors ------------------------------------------------------------------------------------


@then("la version 1 et la version 2 sont servies")
def deux_majeures_servies(asp: AspClient, preuves: list[str]) -> None:
    for major in (1, 2):
        response = asp.http.get(f"/v{major}/sante")
        preuves.append(f"GET /v{major}/sante → {response.status_code} {response.text[:100]}")
        assert response.status_code == 200, response.text
        assert response.json()["version"].startswith(f"{major}.")


@then("le dépôt est consultable en version 2 avec son dossier")
def consultable_en_v2(scenario: Scenario, asp: AspClient, preuves: list[str]) -> None:
    depot = scenario.depot
    response = asp.http.get(f"/v2/depots/{depot.id_depot}")
    preuves.append(f"GET /v2/depots/{depot.id_depot} → {response.status_code}")
    assert response.status_code == 200, response.text
    dossier = response.json()["metadonnees"]["dossier"]
    sent = depot.metadonnees
    assert dossier == {"identifiant": sent["identifiantDossier"], "iteration": sent["numeroIteration"]}, dossier


# --- deprecation of v1 (moves the reference's clock) -------------------------------------------------


@given(parsers.parse("la date du titulaire est {moment} la {event} de la version 1"))
def date_du_titulaire(cible: Target, request: pytest.FixtureRequest, moment: str, event: str) -> None:
    clock = cible.clock
    assert clock is not None, "scénario réservé à la référence embarquée (@reference)"
    lifecycle = planned_lifecycles()["/v1"]
    planned = {"dépréciation": lifecycle.deprecated, "fin de vie": lifecycle.sunset}[event]
    assert planned is not None, f"aucune date de {event} de la version 1 dans versions.yaml"
    shift = planned + MOMENTS[moment] - clock()
    clock.advance(shift)
    request.addfinalizer(lambda: clock.advance(-shift))


@when(parsers.parse("l'ASP consulte la santé en version {major:d}"))
def consulter_sante(scenario: Scenario, asp: AspClient, major: int, preuves: list[str]) -> None:
    scenario.response = asp.http.get(f"/v{major}/sante")
    preuves.append(f"GET /v{major}/sante → {scenario.response.status_code}, en-têtes {dict(scenario.response.headers)}")


@then("la réponse ne porte aucun signal de dépréciation")
def aucun_signal(scenario: Scenario) -> None:
    headers = scenario.last.headers
    assert not {"deprecation", "sunset", "link"} & set(headers.keys()), headers


@then("la réponse porte les dates de dépréciation et de fin de vie")
def dates_de_depreciation(scenario: Scenario) -> None:
    lifecycle = planned_lifecycles()["/v1"]
    assert lifecycle.deprecated is not None
    assert lifecycle.sunset is not None
    headers = scenario.last.headers
    assert headers.get("deprecation") == f"@{int(lifecycle.deprecated.timestamp())}", headers
    assert headers.get("sunset") == lifecycle.sunset.strftime("%a, %d %b %Y %H:%M:%S GMT"), headers


@then("la réponse renvoie vers la version 2 et vers le guide de migration")
def liens_vers_v2(scenario: Scenario, asp: AspClient) -> None:
    links = scenario.last.headers.get_list("link")
    assert '</v2/sante>; rel="successor-version"' in links, links
    assert f'<{MIGRATION_GUIDE}>; rel="deprecation"' in links, links
    guide = asp.http.get(MIGRATION_GUIDE)
    assert guide.status_code == 200, guide.text[:200]
    assert "Guide de migration" in guide.text, guide.text[:200]
