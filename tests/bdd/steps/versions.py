"""Steps of the API's majors: v1 and v2 side by side, v1's deprecation signals, and the version gate."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from pytest_bdd import given, parsers, then, when

from harness.client import AspClient
from harness.contracts import contracts_dir
from harness.gate.command import gate
from harness.reference.lifecycle import MIGRATION_GUIDE, planned_lifecycles
from harness.target import Target
from tests.bdd.steps.communs import Scenario

MOMENTS = {"la veille de": timedelta(days=-1), "le jour de": timedelta()}


@dataclass
class GateCase:
    """The contracts a gate scenario compares (a copy of `contracts/` it may change) and the verdict."""

    contracts: Path
    revision: Path | None = None
    exit_code: int | None = None
    output: str = ""


@pytest.fixture
def barriere(tmp_path: Path) -> GateCase:
    return GateCase(Path(shutil.copytree(contracts_dir(), tmp_path / "contracts")))


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
    assert lifecycle.deprecated is not None and lifecycle.sunset is not None
    headers = scenario.last.headers
    assert headers.get("deprecation") == f"@{int(lifecycle.deprecated.timestamp())}", headers
    assert headers.get("sunset") == lifecycle.sunset.strftime("%a, %d %b %Y %H:%M:%S GMT"), headers


@then("la réponse renvoie vers la version 2 et vers le guide de migration")
def liens_vers_v2(scenario: Scenario, asp: AspClient) -> None:
    links = scenario.last.headers.get_list("link")
    assert '</v2/sante>; rel="successor-version"' in links, links
    assert f'<{MIGRATION_GUIDE}>; rel="deprecation"' in links, links
    guide = asp.http.get(MIGRATION_GUIDE)
    assert guide.status_code == 200 and "Guide de migration" in guide.text, guide.text[:200]


# --- the version gate ---------------------------------------------------------------------------------


@given(parsers.parse('une révision du contrat v1 qui rend "{field}" obligatoire sans changer de version'))
def revision_cassante(barriere: GateCase, field: str) -> None:
    base = barriere.contracts / "titulaire/v1/openapi.yaml"
    document = yaml.safe_load(base.read_text(encoding="utf-8"))
    document["components"]["schemas"]["MetadonneesDepot"]["required"].append(field)
    barriere.revision = base.with_name("revision.yaml")
    barriere.revision.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")


@given(parsers.parse("un calendrier où la version {number} est annoncée le {day}"))
def calendrier_modifie(barriere: GateCase, number: str, day: str) -> None:
    path = barriere.contracts / "titulaire/versions.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    next(e for e in document["versions"] if e["numero"] == number)["annonceeLe"] = date.fromisoformat(day)
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")


@given("le calendrier des versions du projet")
def calendrier_du_projet(barriere: GateCase) -> None:
    barriere.contracts = contracts_dir()


@when("la barrière de versions compare le contrat v1 à cette révision")
def comparer_a_la_revision(barriere: GateCase, preuves: list[str]) -> None:
    assert barriere.revision is not None
    run_gate(barriere, barriere.revision, preuves)


@when("la barrière de versions compare le contrat v1 au contrat v2")
def comparer_v1_v2(barriere: GateCase, preuves: list[str]) -> None:
    run_gate(barriere, barriere.contracts / "titulaire/v2/openapi.yaml", preuves)


def run_gate(case: GateCase, revision: Path, preuves: list[str]) -> None:
    """`recette gate` on the case's contracts, as of today."""
    arguments = [str(case.contracts / "titulaire/v1/openapi.yaml"), str(revision)]
    arguments += ["--versions", str(case.contracts / "titulaire/versions.yaml")]
    arguments += ["--policy", str(case.contracts / "version-policy.yaml")]
    result = CliRunner().invoke(gate, arguments)
    case.exit_code, case.output = result.exit_code, result.output
    preuves.append(f"recette gate → {result.exit_code}\n{result.output}")


@then(parsers.parse('la barrière refuse le changement avec la règle "{rule}"'))
def barriere_refuse(barriere: GateCase, rule: str) -> None:
    assert barriere.exit_code == 1, barriere.output
    assert rule in barriere.output, barriere.output


@then("la barrière accepte le changement")
def barriere_accepte(barriere: GateCase) -> None:
    assert barriere.exit_code == 0, barriere.output
