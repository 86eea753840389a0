"""Réserves end to end: a suite that calls `reserve()`, in a test's body or in a fixture, gives `RESERVED` results
with their reason and remedy in `summary.json`, on the terminal, and the verdict « QUALIFIÉ AVEC RÉSERVES »,
exit code 3 from `recette run`.

The suite is purpose-made (the product's suites reserve only what a real platform lacks): it is run by the
real runner on the embedded reference, from a folder the test puts in place of the suites' folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.campaign import runner
from harness.campaign.results import RESERVED, Verdict
from harness.campaign.runner import RunOptions, run_campaign
from harness.cli.run import run
from harness.foundations.billing import BillingTags
from tests.helpers import TESTS_DAY

SUITE = "reserves"
NO_KEY = "la clé de signature de test du fournisseur de jetons n'est pas fournie"
NO_KEY_LIFT = "fournir la clé de test de l'émetteur pour l'environnement de recette"
NO_CLIENT = "aucun second client n'est déclaré"
NO_CLIENT_LIFT = "déclarer un client de lecture seule"
RESERVING_SUITE = f'''"""Réserves de démonstration"""

import pytest

from harness.campaign.reservations import reserve


@pytest.fixture
def cle_de_test() -> None:
    reserve("{NO_KEY}", "{NO_KEY_LIFT}")


def test_une_verification_faite() -> None:
    """Une vérification faite"""


def test_reserve_dans_le_corps() -> None:
    """Une vérification sans second client"""
    reserve("{NO_CLIENT}", "{NO_CLIENT_LIFT}")


def test_reserve_dans_une_fixture(cle_de_test: None) -> None:
    """Une vérification qui demande la clé de test"""
'''


@pytest.fixture(scope="module")
def suites_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for the module: its test file is imported once (pytest's module of that name)."""
    suites = tmp_path_factory.mktemp("suites")
    (suites / SUITE).mkdir()
    (suites / SUITE / "test_reserves.py").write_text(RESERVING_SUITE, encoding="utf-8")
    return suites


@pytest.fixture
def reserving_suite(suites_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner's suites are a folder holding only the purpose-made `reserves` suite."""
    monkeypatch.setattr(runner, "SUITES_DIR", suites_folder)
    monkeypatch.setitem(runner.SUITES, SUITE, SUITE)


@pytest.mark.usefixtures("reserving_suite")
def test_reservations_reach_the_summary_and_the_terminal_and_qualify_with_reservations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = tmp_path / "rapports"
    tags = BillingTags.create()
    report = run_campaign(RunOptions(reports, tags, (SUITE,), day=TESTS_DAY))
    assert report.verdict is Verdict.QUALIFIED_WITH_RESERVATIONS
    summary = json.loads((reports / tags.run_id / "summary.json").read_text(encoding="utf-8"))
    assert summary["verdict"] == "QUALIFIÉ AVEC RÉSERVES"
    assert summary["qualifie"] is True
    assert summary["totaux"]["reserve"] == 2
    assert sorted(summary["reserves"], key=lambda r: r["scenario"]) == [
        {"scenario": "Une vérification qui demande la clé de test", "motif": NO_KEY, "pourLaLever": NO_KEY_LIFT},
        {"scenario": "Une vérification sans second client", "motif": NO_CLIENT, "pourLaLever": NO_CLIENT_LIFT},
    ]
    assert {s["outcome"] for s in summary["scenarios"]} == {"reussi", RESERVED}
    printed = " ".join(capsys.readouterr().out.split())  # the terminal's lines, however rich wraps them
    assert f"Réserve Une vérification sans second client : {NO_CLIENT} — pour la lever : {NO_CLIENT_LIFT}" in printed
    assert f"{NO_KEY} — pour la lever : {NO_KEY_LIFT}" in printed
    assert "QUALIFIÉ AVEC RÉSERVES" in printed


@pytest.mark.usefixtures("reserving_suite")
def test_recette_run_exits_3_when_qualified_with_reservations(tmp_path: Path) -> None:
    arguments = ["--suites", SUITE, "--report-dir", str(tmp_path / "rapports"), "--date", TESTS_DAY.isoformat()]
    result = CliRunner().invoke(run, arguments)
    assert result.exit_code == 3, result.output
