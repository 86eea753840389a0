"""Steps shared by every feature: the target, the ASP's clients, what a scenario remembers, and errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import pytest
from pytest_bdd import given, parsers, then

from harness.campaign.ahead import DepositsAhead, ScenarioDeposits, ahead
from harness.campaign.target import Target
from harness.foundations.asp_client import AspClient, CallbackInspector, Document
from harness.foundations.polling import wait_until as poll
from harness.foundations.problems import PROBLEM_MEDIA_TYPE

T = TypeVar("T")
EVIDENCE_CHARS = 400
"""How much of an answer's body a piece of evidence keeps."""


@dataclass
class Depot:
    """One deposit (dépôt) the ASP sent in the scenario, and the titulaire's answer."""

    metadonnees: dict[str, Any]
    documents: list[Document]
    response: httpx.Response
    accepted_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    """When the harness had the titulaire's answer (UTC): a return's delay runs from here."""

    @property
    def id_depot(self) -> str:
        """The identifier the titulaire gave it; fails the step when the deposit was not accepted."""
        assert self.response.status_code == 202, f"dépôt non reçu : {self.response.status_code} {self.response.text}"
        return self.response.json()["idDepot"]

    def answers(self, metadonnees: dict[str, Any], documents: list[Document], idempotency_key: str | None) -> bool:
        """Whether this deposit was this request (the deposit made ahead that a scenario may take back)."""
        sent_key = self.response.request.headers.get("Idempotency-Key")
        return (self.metadonnees, self.documents, sent_key) == (metadonnees, documents, idempotency_key)


@dataclass
class Scenario:
    """What a scenario remembers between its steps."""

    metadonnees: dict[str, Any] = field(default_factory=dict)
    """The metadata of the dossier's next deposit."""
    sae: str | None = None
    """With the SAE option: "concordante" or "discordante", the hash the next deposit declares."""
    idempotency_key: str | None = None
    body_size_at_limit: int | None = None
    """The request body whose transaction is exactly the limit, once measured."""
    billing_counts: tuple[int, int, int, int] | None = None
    """Deposits and bytes sent by the harness, then recorded by the titulaire, before the scenario's deposits."""
    depots: list[Depot] = field(default_factory=list)
    response: httpx.Response | None = None
    """The titulaire's latest answer, whatever the request."""
    returns: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """The calls the ASP's callback API received, per idDepot."""
    ahead: ScenarioDeposits[Depot] = field(default_factory=lambda: DepositsAhead[Depot]().of(""))
    """Its deposits made ahead, and the identifiers it makes up (`harness.campaign.ahead`)."""

    @property
    def last(self) -> httpx.Response:
        assert self.response is not None, "aucune requête envoyée dans ce scénario"
        return self.response

    @property
    def depot(self) -> Depot:
        """The latest deposit."""
        assert self.depots, "aucun dépôt envoyé dans ce scénario"
        return self.depots[-1]

    def calls_of(self, depot: Depot) -> list[dict[str, Any]]:
        calls = self.returns.get(depot.id_depot)
        assert calls is not None, f"les retours du dépôt {depot.id_depot} n'ont pas été attendus"
        return calls


@pytest.fixture
def scenario(request: pytest.FixtureRequest, depots_d_avance: DepositsAhead[Depot]) -> Scenario:
    return Scenario(ahead=depots_d_avance.of(request.node.nodeid))


def deposit_once(
    scenario: Scenario,
    client: AspClient,
    metadonnees: dict[str, Any],
    documents: list[Document],
    idempotency_key: str | None,
) -> tuple[Depot, bool]:
    """The scenario's deposit: the one made ahead for this request if any (True), else sent now (False). A
    deposit taken back goes through the client's request hooks as if sent now (the run's journal of the test,
    whose failure's reproduction replays it)."""
    made = scenario.ahead.take(lambda depot: depot.answers(metadonnees, documents, idempotency_key))
    if made is not None:
        for hook in client.http.event_hooks["request"]:
            hook(made.response.request)
        return made, True
    depot = Depot(metadonnees, documents, client.deposit(metadonnees, documents, idempotency_key))
    scenario.ahead.keep(depot)
    return depot, False


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


def trace(preuves: list[str], response: httpx.Response, what: str = "") -> None:
    """Record a request and the titulaire's answer as evidence (never a request body: it may weigh 20 MB)."""
    request = response.request
    label = f"{what} : " if what else ""
    media_type = response.headers.get("content-type", "").split(";")[0] or "sans corps"
    preuves.append(
        f"{label}{request.method} {request.url.path} → {response.status_code} ({media_type}) "
        f"{response.text[:EVIDENCE_CHARS]}"
    )


def wait_until(condition: Callable[[], T | None], what: str, timeout: float, every: float = 0.1) -> T:
    """Poll `condition` until it returns something truthy; fail the step, naming `what`, after `timeout`
    seconds (every wait of a scenario is bounded by the service contract: see `retours.deadline`)."""
    try:
        return poll(condition, what, timeout, every)
    except TimeoutError as timeout_error:  # a wait the titulaire does not meet is a failure, not an error
        raise AssertionError(str(timeout_error)) from None


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """An RFC 9457 problem+json answer with this status and machine-readable `code`; returns its body."""
    assert response.status_code == status, f"statut {response.status_code} au lieu de {status} : {response.text}"
    media_type = response.headers.get("content-type", "").split(";")[0]
    assert media_type == PROBLEM_MEDIA_TYPE, f"type de contenu {media_type!r} au lieu de {PROBLEM_MEDIA_TYPE}"
    body = response.json()
    missing = {"type", "title", "status", "code"} - set(body)
    assert not missing, f"champs problem+json absents : {sorted(missing)} dans {body}"
    assert body["status"] == status, f"« status » {body['status']} différent du statut HTTP {status}"
    assert body["code"] == code, f"code {body['code']!r} au lieu de {code!r}"
    return body


@given("le titulaire est joignable par l'ASP")
@ahead
def titulaire_joignable(asp: AspClient, preuves: list[str]) -> None:
    response = asp.health()
    trace(preuves, response, "santé du service")
    assert response.status_code == 200, response.text


@then(parsers.parse("le titulaire répond {status:d}"))
def le_titulaire_repond(scenario: Scenario, status: int, preuves: list[str]) -> None:
    trace(preuves, scenario.last, "réponse du titulaire")
    assert scenario.last.status_code == status, scenario.last.text


@then(parsers.parse('l\'erreur est décrite en problem+json avec le code "{code}"'))
def erreur_problem_json(scenario: Scenario, code: str) -> None:
    assert_problem(scenario.last, scenario.last.status_code, code)
