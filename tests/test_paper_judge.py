"""The paper judge: every check on the returns of plis, proven able to fail by a fault of the reference."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from harness.campaign.environment import Environment
from harness.conformance import paper
from harness.conformance.deposits import TrackedDeposit
from harness.conformance.paper import ExpectedPli, PaperTerms, judge_paper, paper_terms
from harness.conformance.returns import MODE_RULES, judge
from harness.foundations.contracts import SERVICE_CONTRACT, contract_path
from harness.foundations.service_contract import ServiceContractError
from harness.reference.paper.letters import letter_pages
from harness.reference.paper.posting import ROUTE, Posting
from tests.conftest import StartEnvironment, metadonnees, pdf

TERMS = paper_terms()


def post_plis(env: Environment, count: int = 2) -> tuple[list[ExpectedPli], list[dict[str, Any]]]:
    """`count` plis of two pages posted to the reference; them as expected, and every call the ASP received."""
    expected = []
    with env.asp_client() as client, env.inspector() as inspector:
        for n in range(count):
            pages = letter_pages("AIDES", f"DOS-{n}", {"montant": str(n)}, 2)
            posted_at = datetime.now(UTC)
            answer = client.http.post(ROUTE, json=Posting("LYON", "COURRIER", "AIDES", pages).to_json()).json()
            pli = ExpectedPli(answer["idPli"], answer["idPli"], f"DOS-{n}", 2, ("PDF", "PDF"), posted_at=posted_at)
            expected.append(pli)
            inspector.wait_for_return(answer["idDepot"])
        return expected, inspector.received(everything=True)


def rules(env: Environment, terms: PaperTerms | None = TERMS, count: int = 2) -> set[str]:
    expected, calls = post_plis(env, count)
    return {d.rule for d in judge_paper(calls, expected, terms).defects}


def test_the_reference_keeps_every_paper_rule(new_environment: StartEnvironment) -> None:
    expected, calls = post_plis(new_environment())
    verdict = judge_paper(calls, expected, TERMS)
    assert verdict.defects == []
    assert verdict.unexpected == []
    assert verdict.late == []
    assert [id_pli for _, id_pli in verdict.mapping] == [e.id_pli for e in expected]


@pytest.mark.parametrize(
    ("fault", "rule"),
    [
        ("pli-id-hors-motif", paper.PATTERN),
        ("pli-id-repete", paper.UNIQUE_ID),
        ("pli-dates-desordonnees", paper.ORDER),
        ("pli-uid-repete", paper.UIDS),
        ("retour-double", paper.ONE_PER_PLI),
    ],
)
def test_each_paper_check_fails_on_its_fault(new_environment: StartEnvironment, fault: str, rule: str) -> None:
    assert rule in rules(new_environment(faults=(fault,)))


def test_a_late_pli_is_named(new_environment: StartEnvironment) -> None:
    assert TERMS is not None
    short = dataclasses.replace(TERMS, max_delay=timedelta(seconds=3))
    expected, calls = post_plis(new_environment(faults=("retour-tardif",)), 1)
    verdict = judge_paper(calls, expected, short)
    assert verdict.late == [expected[0].id_pli]
    assert paper.DELAY in {d.rule for d in verdict.defects}


def test_missing_unexpected_and_undeclared_plis_are_named(new_environment: StartEnvironment) -> None:
    expected, calls = post_plis(new_environment())
    declared = [
        ExpectedPli("ENV-1", dossier="DOS-0", pieces=3, data={"montant": "0"}),
        ExpectedPli("ENV-9", dossier="DOS-9"),
    ]
    verdict = judge_paper(calls, declared, TERMS)
    assert verdict.mapping == [(declared[0], expected[0].id_pli), (declared[1], None)]
    assert verdict.missing == [declared[1]]
    assert verdict.unexpected == [expected[1].id_pli]
    found = {(d.rule, d.detail.split(" ")[0]) for d in verdict.defects}
    assert found == {(paper.DECLARED, "ENV-1"), (paper.RETURNED, "ENV-9"), (paper.UNEXPECTED, expected[1].id_pli)}


def test_an_api_return_with_paper_fields_breaks_the_mode_rules(new_environment: StartEnvironment) -> None:
    env = new_environment(faults=("retour-api-avec-pli",))
    with env.asp_client() as client, env.inspector() as inspector:
        response = client.deposit(metadonnees(), [pdf()])
        calls = inspector.wait_for_return(response.json()["idDepot"])
    deposit = TrackedDeposit(response.json()["idDepot"], datetime.now(UTC), "test")
    assert MODE_RULES in {d.rule for d in judge(deposit, calls)}


def test_without_a_paper_section_the_service_contract_fixes_no_term(tmp_path: Path) -> None:
    text = contract_path(SERVICE_CONTRACT).read_text(encoding="utf-8")
    (tmp_path / "sans.yaml").write_text(text.split("modePapier:")[0], encoding="utf-8")
    assert paper_terms(tmp_path / "sans.yaml") is None
    (tmp_path / "faux.yaml").write_text(
        text.replace("delaiMaxRetour: PT5M\n  motifIdPli", "delaiMaxRetour: 5\n  motifIdPli"), encoding="utf-8"
    )
    with pytest.raises(ServiceContractError, match="modePapier"):
        paper_terms(tmp_path / "faux.yaml")
