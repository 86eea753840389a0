"""Conformité au contrat de l'API du titulaire

Every operation and the deposit sequences, explored by schemathesis.

The `contrat` suite of `recette run`: every operation of the contract of the run's major
(`contracts/titulaire/vN/openapi.yaml`, or the platform's own) goes through schemathesis' phases (examples,
coverage, fuzzing), then sequences follow the contract's links (deposit → state → retransmission). Every
response passes all of schemathesis' checks and ours; each distinct failure is evidence with a curl (mutual
TLS flags, token in $TOKEN) that replays it. The seed is in the evidence (`RECETTE_FUZZ_SEED` replays a
run); `RECETTE_FUZZ_*` set the budget (harness/fuzzing/settings.py).

One test per operation, parametrized with explicit ids, instead of schemathesis' pytest integration, whose
items all share one node id under pytest 9.2 (see harness/fuzzing/runner.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.campaign.fixtures import Reproduce, Title
from harness.campaign.target import Target
from harness.conformance import DepositLedger
from harness.fuzzing import (
    SEQUENCES,
    ContractFuzzer,
    FuzzSettings,
    NoSequences,
    OperationReport,
)


@pytest.fixture(scope="module")
def fuzzer(cible: Target, depots_suivis: DepositLedger, contrat: Path, dossier_execution: Path) -> ContractFuzzer:
    """One fuzzer for the suite: one seed, its deposits tracked for their returns."""
    evidence = dossier_execution / "reproductions" / "contrat"
    return ContractFuzzer(cible, FuzzSettings.from_env(), depots_suivis, evidence, contrat)


def test_operation_conforme_au_contrat(
    operation: str, fuzzer: ContractFuzzer, preuves: list[str], intituler: Title, reproduire: Reproduce
) -> None:
    report = fuzzer.fuzz_operation(operation)
    judge(report, fuzzer, preuves, intituler, reproduire)


def test_sequences_par_les_liens_du_contrat(
    fuzzer: ContractFuzzer, preuves: list[str], intituler: Title, reproduire: Reproduce
) -> None:
    """Séquences par les liens du contrat"""
    if "stateful" not in fuzzer.settings.phases:
        pytest.skip("phase stateful écartée (RECETTE_FUZZ_PHASES)")
    try:
        report = fuzzer.fuzz_sequences()
    except NoSequences as reason:
        pytest.skip(str(reason))
    judge(report, fuzzer, preuves, intituler, reproduire)


def judge(
    report: OperationReport, fuzzer: ContractFuzzer, preuves: list[str], intituler: Title, reproduire: Reproduce
) -> None:
    """Evidence: the seed, the calls, each failure with its curl; the campaign's reproduction is the first one."""
    intituler(report.label if report.name == SEQUENCES else f"{report.label} ({report.name})")
    preuves += [fuzzer.settings.describe(), report.summary(), *(f.evidence() for f in report.findings)]
    if report.findings and report.findings[0].request is not None:
        reproduire(report.findings[0].request)
    if not report.calls:
        pytest.fail(f"aucun appel envoyé pour {report.label}", pytrace=False)
    if report.findings:
        failures = "; ".join(f"[{f.check}] {f.title} (réponse {f.status_code})" for f in report.findings)
        pytest.fail(f"{len(report.findings)} défaillance(s) : {failures}", pytrace=False)
