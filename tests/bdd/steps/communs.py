"""Steps shared by every feature: the target, the ASP's client, and what a scenario remembers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pytest_bdd import given, parsers, then

from harness.client import AspClient, CallbackInspector, Document
from harness.target import Target


@dataclass
class Scenario:
    """What a scenario remembers between its steps."""

    metadonnees: dict[str, Any] = field(default_factory=dict)
    documents: list[Document] = field(default_factory=list)
    response: httpx.Response | None = None
    id_depot: str | None = None
    receipts: list[dict[str, Any]] = field(default_factory=list)
    returns: list[dict[str, Any]] = field(default_factory=list)

    @property
    def last(self) -> httpx.Response:
        assert self.response is not None, "aucune requête envoyée dans ce scénario"
        return self.response


@pytest.fixture
def scenario() -> Scenario:
    return Scenario()


@pytest.fixture
def asp(cible: Target) -> Iterator[AspClient]:
    """The ASP's client of the titulaire (mutual TLS, full-rights OAuth2 client)."""
    with cible.asp_client() as client:
        yield client


@pytest.fixture
def inspecteur(cible: Target) -> Iterator[CallbackInspector]:
    """What the ASP's callback API received."""
    with cible.inspector() as inspector:
        yield inspector


@given("le titulaire est joignable par l'ASP")
def titulaire_joignable(asp: AspClient, preuves: list[str]) -> None:
    response = asp.health()
    preuves.append(f"GET /v1/sante → {response.status_code}")
    assert response.status_code == 200, response.text


@then(parsers.parse("le titulaire répond {status:d}"))
def le_titulaire_repond(scenario: Scenario, status: int, preuves: list[str]) -> None:
    preuves.append(f"statut reçu {scenario.last.status_code} : {scenario.last.text[:300]}")
    assert scenario.last.status_code == status, scenario.last.text


@then(parsers.parse('l\'erreur est décrite en problem+json avec le code "{code}"'))
def erreur_problem_json(scenario: Scenario, code: str) -> None:
    response = scenario.last
    assert response.headers.get("content-type", "").startswith("application/problem+json"), response.headers
    body = response.json()
    assert {"type", "title", "status", "code"} <= set(body), body
    assert body["code"] == code, body
