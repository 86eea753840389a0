"""The reference's mail room: a pli posted on `POST /_recette/plis` is registered, digitized and returned once."""

from __future__ import annotations

import re
from typing import Any

import httpx

from harness.campaign.environment import Environment
from harness.conformance.returns import schema_defects
from harness.foundations.asp_client import AspClient, CallbackInspector
from harness.foundations.exchange_modes import mode_errors
from harness.reference.paper.letters import letter_pages, read_page, unreadable_page
from harness.reference.paper.posting import ROUTE, Posting

DATA = {"montant": "120,50 €", "nature": "facture réglée"}


def post(client: AspClient, pages: list[bytes], site: str = "LYON") -> httpx.Response:
    return client.http.post(ROUTE, json=Posting(site, "COURRIER", "AIDES", pages).to_json())


def returned(client: AspClient, inspector: CallbackInspector, pages: list[bytes]) -> tuple[dict[str, Any], Any]:
    """Post a pli; the mail room's answer and the one return the ASP received for it."""
    answer = post(client, pages)
    assert answer.status_code == 201, answer.text
    [call] = inspector.wait_for_return(answer.json()["idDepot"])
    return answer.json(), call["retour"]


def test_a_pli_is_returned_once_with_its_paper_metadata(
    env: Environment, client: AspClient, inspector: CallbackInspector
) -> None:
    answer, retour = returned(client, inspector, letter_pages("AIDES", "DOS-7", DATA, 2))
    assert re.fullmatch(r"PLI-LYON-\d{8}-\d{6}", answer["idPli"])
    assert retour["idPli"] == answer["idPli"]
    assert retour["modeEchange"] == "PAPIER"
    assert retour["recuLe"] == answer["recuLe"] <= retour["numeriseLe"] <= retour["traiteLe"] <= retour["envoyeLe"]
    assert schema_defects(retour) == []
    assert mode_errors(retour) == []
    assert retour["statut"] == "TRAITE"
    assert retour["metadonnees"] == {
        "applicationSource": "AIDES",
        "identifiantDossier": "DOS-7",
        "numeroIteration": 1,
        "donneesMetier": DATA,
    }
    [first, second] = retour["pieces"]
    assert first["uid"] != second["uid"]
    assert first["typeDetecte"] == "PDF"
    assert first["donneesExtraites"]["donneesMetier"] == DATA
    assert second["donneesExtraites"]["page"] == "2/2"


def test_an_unreadable_pli_is_returned_rejected_with_its_reason(
    client: AspClient, inspector: CallbackInspector
) -> None:
    answer, retour = returned(client, inspector, [unreadable_page()])
    assert retour["statut"] == "REJETE"
    assert "LECTURE_PLI" in retour["motifRejet"]
    assert retour["metadonnees"]["identifiantDossier"] == answer["idPli"]
    assert mode_errors(retour) == []


def test_pli_identifiers_follow_each_other(client: AspClient) -> None:
    first, second = (post(client, letter_pages("AIDES", "DOS-8", DATA, 1), "PARIS").json()["idPli"] for _ in "12")
    assert first != second
    assert int(second[-6:]) == int(first[-6:]) + 1


def test_a_bad_posting_is_a_problem(client: AspClient) -> None:
    answer = post(client, [b"%PDF"], site="lyon")
    assert answer.status_code == 400
    assert answer.json()["code"] == "requete-invalide"
    assert "site" in answer.json()["detail"]
    assert client.http.post(ROUTE, content=b"{").json()["code"] == "requete-invalide"


def test_a_pli_can_be_retransmitted_within_retention(client: AspClient, inspector: CallbackInspector) -> None:
    answer, retour = returned(client, inspector, letter_pages("AIDES", "DOS-9", DATA, 1))
    assert client.resend(answer["idDepot"]).status_code == 202
    calls = inspector.wait_for_return(answer["idDepot"], count=2)
    assert [c["retour"] for c in calls] == [retour, retour]


def test_the_pages_are_real_pdfs_that_read_back() -> None:
    [page] = letter_pages("AIDES", "DOS-1", DATA, 1)
    letter = read_page(page)
    assert page.startswith(b"%PDF-")
    assert letter is not None
    assert (letter.dossier, letter.page, letter.data) == ("DOS-1", "1/1", DATA)
    assert read_page(unreadable_page()) is None
