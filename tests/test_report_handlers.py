"""The reports are independent handlers of one result stream: a handler added to the list gets everything."""

from __future__ import annotations

import json
import os
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import pytest

from harness.campaign import reports, runner
from harness.campaign.events import (
    Event,
    EventStream,
    LoadMeasured,
    ResultRecorded,
    RunAborted,
    RunFinished,
    RunStarted,
    SuitesCollected,
)
from harness.campaign.plugin import REFERENCE_ONLY, CampaignPlugin
from harness.campaign.reports import Destination
from harness.campaign.results import FAILED, PASSED, SKIPPED
from harness.campaign.runner import CampaignError, RunOptions, run_campaign
from harness.foundations.asp_client import DepositMeter
from harness.foundations.billing import BillingTags

SUITE = '''
    """Capacité d'essai"""

    import pytest


    def test_reussi(preuves):
        """Un essai réussi"""
        preuves.append("vu")


    def test_echoue():
        """Un essai échoué"""
        assert False, "échec attendu"


    def test_ignore():
        """Un essai ignoré"""
        pytest.skip("raison de l'essai")


    def test_charge(publier_charge):
        """Un verdict de charge publié"""
        publier_charge({"verdict": "non conforme", "criteres": []})
'''


class Recorder:
    """A new report: it keeps every event it is handed."""

    def __init__(self, destination: Destination) -> None:
        self.destination = destination
        self.events: list[Event] = []

    def handle(self, event: Event) -> None:
        self.events.append(event)


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> list[Recorder]:
    """A `Recorder` registered in the list of reports, as one more report: the ones the runs created."""
    created: list[Recorder] = []

    def report(destination: Destination) -> Recorder:
        created.append(Recorder(destination))
        return created[-1]

    monkeypatch.setattr(reports, "REPORTS", (*reports.REPORTS, report))
    return created


def suite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str, source: str) -> None:
    """A suite `essai` of one module (named apart: the runs share this process' modules), the run's only suite."""
    folder = tmp_path / "suites" / "essai"
    folder.mkdir(parents=True)
    (folder / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    monkeypatch.setattr(runner, "SUITES_DIR", folder.parent)
    monkeypatch.setattr(runner, "SUITES", {"essai": "essai"})


def options(tmp_path: Path) -> RunOptions:
    return RunOptions(tmp_path / "rapports", BillingTags.create("build:tests-harnais"), suites=("essai",))


def test_a_handler_in_the_list_receives_every_result_the_load_verdict_and_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, recorder: list[Recorder]
) -> None:
    suite(tmp_path, monkeypatch, "test_essai_complet", SUITE)
    report = run_campaign(options(tmp_path))
    (handler,) = recorder
    kinds = [type(event) for event in handler.events]
    assert kinds[:2] == [RunStarted, SuitesCollected]
    assert kinds[-1] is RunFinished
    assert handler.events[1] == SuitesCollected(planned=4)
    results = [event.result for event in handler.events if isinstance(event, ResultRecorded)]
    assert [(r.scenario, r.outcome) for r in results] == [
        ("Un essai réussi", PASSED),
        ("Un essai échoué", FAILED),
        ("Un essai ignoré", SKIPPED),
        ("Un verdict de charge publié", PASSED),
    ]
    assert results[0].evidence == ["vu"]
    assert results[2].skip_reason == "raison de l'essai"
    assert {r.capability for r in results} == {"Capacité d'essai"}
    assert {r.suite for r in results} == {"essai"}
    assert [e.verdict for e in handler.events if isinstance(e, LoadMeasured)] == [
        {"verdict": "non conforme", "criteres": []}
    ]
    assert handler.events[-1] == RunFinished(report)
    assert report.results == results
    assert report.load == {"verdict": "non conforme", "criteres": []}
    summary = json.loads((handler.destination.run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["charge"]["verdict"] == "non conforme"
    assert summary["qualifie"] is False


def test_a_run_that_cannot_run_is_aborted_and_writes_no_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, recorder: list[Recorder]
) -> None:
    suite(tmp_path, monkeypatch, "test_essai_illisible", "def test_illisible(:\n")
    with pytest.raises(CampaignError, match="n'ont pas pu s'exécuter"):
        run_campaign(options(tmp_path))
    (handler,) = recorder
    collected = next(e for e in handler.events if isinstance(e, SuitesCollected))
    assert [u.nodeid for u in collected.unreadable] == ["suites/essai/test_essai_illisible.py"]
    assert isinstance(handler.events[-1], RunAborted)
    assert not any(isinstance(e, RunFinished) for e in handler.events)
    assert not (handler.destination.run_dir / "summary.json").exists()
    assert not handler.destination.ledger.exists()


FEATURE = """\
# language: fr
@essai
Fonctionnalité: Capacité en Gherkin

  Plan du Scénario: Dépôt de <nombre> pièce(s)
    Soit un dépôt de <nombre> pièce(s)

    Exemples: courants
      | nombre |
      | 1      |

    @reference
    Exemples: pilotés
      | nombre |
      | 2      |
"""
STEPS = """
    from pytest_bdd import given, parsers, scenarios

    scenarios("essai.feature")


    @given(parsers.parse("un dépôt de {nombre:d} pièce(s)"))
    def depot(nombre):
        assert nombre
"""


@dataclass
class PlatformWithoutReference:
    """The little of a target the plugin reads: a real platform has no reference to drive."""

    tags: BillingTags = field(default_factory=lambda: BillingTags.create("build:tests-harnais"))
    reference: None = None
    meter: DepositMeter = field(default_factory=DepositMeter)


def test_scenarios_are_named_from_their_feature_and_a_reference_one_is_skipped_under_its_name(tmp_path: Path) -> None:
    (tmp_path / "essai.feature").write_text(FEATURE, encoding="utf-8")
    (tmp_path / "test_essai_gherkin.py").write_text(textwrap.dedent(STEPS), encoding="utf-8")
    handler = Recorder(Destination(tmp_path, "inutilise"))
    plugin = CampaignPlugin(PlatformWithoutReference, EventStream([handler]))  # type: ignore[arg-type]
    args = [str(tmp_path), "-c", os.devnull, "-p", "no:cacheprovider", "-q", f"--rootdir={tmp_path}"]
    assert pytest.main(args, plugins=[plugin]) == pytest.ExitCode.OK
    results = [event.result for event in handler.events if isinstance(event, ResultRecorded)]
    assert [(r.capability, r.scenario, r.outcome, r.tags) for r in results] == [
        ("Capacité en Gherkin", "Dépôt de 1 pièce(s)", PASSED, ["essai"]),
        ("Capacité en Gherkin", "Dépôt de 2 pièce(s)", SKIPPED, ["essai", "reference"]),
    ]
    assert results[1].skip_reason == REFERENCE_ONLY


def test_junit_points_at_the_feature_file_and_line_with_the_scenario_s_french_title(tmp_path: Path) -> None:
    (tmp_path / "essai.feature").write_text(FEATURE, encoding="utf-8")
    (tmp_path / "test_essai_junit.py").write_text(textwrap.dedent(STEPS), encoding="utf-8")
    junit = tmp_path / "junit.xml"
    plugin = CampaignPlugin(PlatformWithoutReference, EventStream())  # type: ignore[arg-type]
    args = [str(tmp_path), "-c", os.devnull, "-p", "no:cacheprovider", "-q", f"--rootdir={tmp_path}"]
    args += [*reports.junit_xml(Destination(tmp_path, "inutilise"))[1:], f"--junitxml={junit}"]
    assert pytest.main(args, plugins=[plugin]) == pytest.ExitCode.OK
    raw = junit.read_bytes()
    assert b"\\x" not in raw
    assert "Dépôt de 1 pièce(s)".encode() in raw  # UTF-8, not an escaped parameter id
    cases = ElementTree.fromstring(raw).iter("testcase")
    found = [(c.get("classname"), c.get("name"), Path(c.get("file") or "").name, c.get("line")) for c in cases]
    outline = str(FEATURE.splitlines().index("  Plan du Scénario: Dépôt de <nombre> pièce(s)") + 1)
    assert found == [
        ("Capacité en Gherkin", "Dépôt de 1 pièce(s)", "essai.feature", outline),
        ("Capacité en Gherkin", "Dépôt de 2 pièce(s)", "essai.feature", outline),
    ]
