"""Steps of the `papier` suite: plis posted to the reference's mail room, their returns judged by the paper judge."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pytest_bdd import given, parsers, then, when

from harness.campaign.reservations import reserve
from harness.campaign.suites.bdd.steps.communs import trace
from harness.campaign.target import Target
from harness.conformance.paper import UIDS, UNIQUE_ID, ExpectedPli, PaperTerms, judge_paper, paper_terms
from harness.conformance.returns import Defect, acknowledged_returns, max_return_delay
from harness.foundations.asp_client import AspClient, CallbackInspector
from harness.reference.paper.letters import letter_pages, unreadable_page
from harness.reference.paper.posting import ROUTE, Posting

SETTLE_SECONDS = 1.0
"""After a pli's first return, how long a second one is waited for: "exactly one" needs a window."""
SITE, CHANNEL, APPLICATION = "RECETTE", "COURRIER", "RECETTE-PAPIER"
RUN_WIDE = (UIDS, UNIQUE_ID)
"""The rules judged across the run's returns, not only the scenario's."""


@dataclass
class Pli:
    """One pli posted in the scenario: what was expected of it, and the mail room's answer."""

    expected: ExpectedPli
    id_depot: str


@dataclass
class PaperScenario:
    """What a paper scenario remembers between its steps."""

    plis: list[Pli] = field(default_factory=list)
    declared: list[ExpectedPli] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    """Every call the ASP's callback API received for the scenario's plis, once awaited."""

    @property
    def pli(self) -> Pli:
        assert self.plis, "aucun pli posté dans ce scénario"
        return self.plis[-1]


@pytest.fixture
def papier() -> PaperScenario:
    return PaperScenario()


@pytest.fixture(scope="session")
def termes_papier(cible: Target) -> PaperTerms | None:
    """`modePapier` of the platform's service contract (delay, agreed pattern); None when it has none."""
    return paper_terms(cible.service_contract)


@pytest.fixture(scope="session")
def delai_papier(cible: Target, termes_papier: PaperTerms | None) -> timedelta:
    """How long a pli's return is waited for: `modePapier.delaiMaxRetour`, else the API mode's delay."""
    return termes_papier.max_delay if termes_papier else max_return_delay(cible.service_contract)


def post_pli(
    papier: PaperScenario, asp: AspClient, pages: list[bytes], expected: dict[str, Any], preuves: list[str]
) -> Pli:
    """Post a pli to the mail room; it is expected back with `expected` (dossier, pieces, types, data)."""
    posted_at = datetime.now(UTC)
    response = asp.http.post(ROUTE, json=Posting(SITE, CHANNEL, APPLICATION, pages).to_json())
    trace(preuves, response, "pli posté au service courrier")
    assert response.status_code == 201, f"pli refusé par le service courrier : {response.status_code} {response.text}"
    answer = response.json()
    asp.meter.accepted(answer["idDepot"], sum(len(page) for page in pages))  # billed: the pages the titulaire keeps
    pli = Pli(ExpectedPli(answer["idPli"], answer["idPli"], posted_at=posted_at, **expected), answer["idDepot"])
    papier.plis.append(pli)
    return pli


def await_returns(
    papier: PaperScenario, inspecteur: CallbackInspector, delai: timedelta, count: int = 1
) -> list[dict[str, Any]]:
    """Wait for `count` calls for each pli of the scenario (within the paper delay), then one settling window."""
    for pli in papier.plis:
        assert pli.expected.posted_at is not None
        left = max(1.0, (pli.expected.posted_at + delai - datetime.now(UTC)).total_seconds())
        inspecteur.wait_for_return(pli.id_depot, timeout=left, count=count)
    time.sleep(SETTLE_SECONDS)
    papier.calls = [call for pli in papier.plis for call in inspecteur.received(pli.id_depot)]
    return papier.calls


@when(parsers.parse('l\'équipe de recette poste un pli de {pages:d} page pour le dossier "{dossier}"'))
@when(parsers.parse('l\'équipe de recette poste un pli de {pages:d} pages pour le dossier "{dossier}"'))
def poste_un_pli(papier: PaperScenario, asp: AspClient, pages: int, dossier: str, preuves: list[str]) -> None:
    data = {"nature": "courrier de recette", "montant": f"{100 + len(papier.plis)},50 €"}
    expected = {"dossier": dossier, "pieces": pages, "types": ("PDF",) * pages, "data": data}
    post_pli(papier, asp, letter_pages(APPLICATION, dossier, data, pages), expected, preuves)


@when("l'équipe de recette poste un pli illisible")
def poste_un_pli_illisible(papier: PaperScenario, asp: AspClient, preuves: list[str]) -> None:
    post_pli(papier, asp, [unreadable_page()], {"pieces": 1, "types": ("PDF",)}, preuves)


@given(
    parsers.parse(
        "l'équipe de recette a posté un pli de {pages:d} page pour le dossier \"{dossier}\" et l'ASP a reçu son retour"
    )
)
def pli_retourne(
    papier: PaperScenario,
    asp: AspClient,
    inspecteur: CallbackInspector,
    delai_papier: timedelta,
    pages: int,
    dossier: str,
    preuves: list[str],
) -> None:
    poste_un_pli(papier, asp, pages, dossier, preuves)
    assert acknowledged_returns(await_returns(papier, inspecteur, delai_papier)), "aucun retour acquitté pour le pli"


@then("l'ASP reçoit exactement un retour conforme pour chaque pli")
def un_retour_conforme_par_pli(
    papier: PaperScenario,
    inspecteur: CallbackInspector,
    termes_papier: PaperTerms | None,
    delai_papier: timedelta,
    preuves: list[str],
) -> None:
    calls = await_returns(papier, inspecteur, delai_papier)
    defects = judge_paper(calls, [p.expected for p in papier.plis], termes_papier).defects
    run_wide = judge_paper(inspecteur.received(), [], termes_papier).defects  # unique across the whole run
    mine = {p.expected.reference for p in papier.plis}
    defects += [d for d in run_wide if d.rule in RUN_WIDE and d not in defects and _names(d, mine)]
    preuves += [f"{p.expected.reference} → idDepot {p.id_depot}" for p in papier.plis]
    preuves += [f"retour reçu : {c.get('retour')}" for c in calls]
    assert not defects, "; ".join(str(d) for d in defects)
    if termes_papier is None:
        reserve(
            "le contrat de service de la plateforme n'a pas de section modePapier : ni le motif de l'idPli ni le délai "
            "de retour d'un pli n'ont pu être jugés",
            "publier modePapier (delaiMaxRetour, motifIdPli) dans le contrat de service",
        )


def _names(defect: Defect, references: set[str]) -> bool:
    return any(reference in defect.detail for reference in references)


@then(parsers.parse('le retour du pli est rejeté pour le contrôle "{code}"'))
def pli_rejete(papier: PaperScenario, code: str, preuves: list[str]) -> None:
    [retour] = [c["retour"] for c in acknowledged_returns(papier.calls)]
    preuves.append(f"statut {retour.get('statut')}, motif {retour.get('motifRejet')!r}")
    assert retour.get("statut") == "REJETE", f"statut {retour.get('statut')} au lieu de REJETE"
    assert code in str(retour.get("motifRejet")), f"motif {retour.get('motifRejet')!r} sans le contrôle {code}"
    failed = [c for p in retour.get("pieces", []) for c in p.get("controles", []) if c.get("code") == code]
    assert failed, f"aucune pièce ne porte le contrôle {code}"
    assert all(c.get("resultat") == "NON_CONFORME" for c in failed), f"contrôle {code} conforme"


@when("l'ASP demande la retransmission du retour du pli")
def retransmission_du_pli(papier: PaperScenario, asp: AspClient, preuves: list[str]) -> None:
    response: httpx.Response = asp.resend(papier.pli.id_depot)
    trace(preuves, response, "retransmission demandée")
    assert response.status_code == 202, f"retransmission refusée : {response.status_code} {response.text}"


@then("l'ASP reçoit de nouveau le même retour du pli")
def meme_retour_du_pli(
    papier: PaperScenario, inspecteur: CallbackInspector, delai_papier: timedelta, preuves: list[str]
) -> None:
    first = acknowledged_returns(papier.calls)[0]["retour"]
    calls = await_returns(papier, inspecteur, delai_papier, count=len(papier.calls) + 1)
    again = [c["retour"] for c in calls[1:]]
    preuves.append(f"{len(again)} nouvelle(s) livraison(s) du retour {first.get('idRetour')}")
    assert again, "aucune nouvelle livraison du retour"
    assert all(body == first for body in again), "le retour retransmis n'est pas le même retour"


@given(parsers.parse('l\'équipe de recette attend le pli "{reference}" pour le dossier "{dossier}"'))
def pli_attendu(papier: PaperScenario, reference: str, dossier: str) -> None:
    papier.declared.append(ExpectedPli(reference, dossier=dossier))


@when("l'échéance des plis attendus est passée sans son retour")
def echeance_passee(papier: PaperScenario, inspecteur: CallbackInspector) -> None:
    papier.calls = inspecteur.received()


@then(parsers.parse('le pli "{reference}" est signalé manquant'))
def pli_manquant(papier: PaperScenario, termes_papier: PaperTerms | None, reference: str, preuves: list[str]) -> None:
    verdict = judge_paper(papier.calls, papier.declared, termes_papier)
    preuves.append("plis manquants : " + ", ".join(e.reference for e in verdict.missing))
    assert [e.reference for e in verdict.missing] == [reference], f"manquants : {verdict.missing}"
