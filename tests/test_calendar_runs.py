"""A run has a date and majors: the calendar's milestones, a titulaire serving v1 only, the campaign after v1's
end of life, an upgrade certified on both majors, and each coexistence check proven able to fail."""

from __future__ import annotations

import dataclasses
import functools
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from harness.campaign.reports.pv import PV_NAME
from harness.campaign.results import COEXISTENCE_SUITE, FAILED, PASSED, SKIPPED, CampaignReport, ScenarioResult
from harness.campaign.runner import RunOptions, run_campaign
from harness.foundations.billing import BillingTags
from harness.foundations.majors import project_calendar

BEFORE_ANNOUNCEMENT = date(2026, 10, 1)
NOTICE = date(2026, 12, 15)
EVE_OF_DEPRECATION = date(2027, 2, 7)
OVERLAP = date(2027, 3, 1)
AFTER_END = date(2027, 10, 1)
NOTHING = "aucun_scenario_choisi"
"""A `-k` selecting no scenario: the run judges only the coexistence of its majors."""
SAMPLE = "initial_est or majeures_sont or chaque_depot_a_un_retour_conforme or consulterSante"
"""A deposit and its return, the majors feature, one fuzzed operation: what each major is held to, briefly."""


RUN_DIRS: dict[str, Path] = {}
"""Each run's report folder, by run id."""


@functools.cache
def run(
    day: date,
    keywords: str,
    suites: tuple[str, ...] = ("bdd",),
    version: str | None = None,
    versions: tuple[str, ...] = (),
    faults: tuple[str, ...] = (),
    served: tuple[str, ...] | None = None,
) -> CampaignReport:
    """One campaign on the embedded reference judged at `day`, its reference serving the majors `served`
    (None: all); cached: the tests of one run share it."""
    report_dir = Path(tempfile.mkdtemp(prefix="recette-calendrier-"))
    tags = BillingTags.create("build:tests-calendrier")
    settings: dict[str, Any] = {"majors": served} if served else {}
    options = RunOptions(report_dir, tags, suites, keywords=keywords, day=day, version=version, versions=versions)
    report = run_campaign(dataclasses.replace(options, reference_faults=faults, reference_settings=settings))
    RUN_DIRS[report.tags.run_id] = report_dir / report.tags.run_id
    return report


def result_of(report: CampaignReport, scenario: str, major: str = "") -> ScenarioResult:
    matching = [r for r in report.results if r.scenario.startswith(scenario) and r.major == major]
    assert matching, f"« {scenario} » ({major}) did not run: {[(r.major, r.scenario) for r in report.results]}"
    return matching[0]


# -- the calendar's milestones -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "served"),
    [(BEFORE_ANNOUNCEMENT, [1]), (NOTICE, [1]), (EVE_OF_DEPRECATION, [1]), (OVERLAP, [1, 2]), (AFTER_END, [2])],
)
def test_the_calendar_serves_the_majors_of_each_milestone(day: date, served: list[int]) -> None:
    calendar = project_calendar()
    assert calendar.served_on(day) == served
    assert calendar.current_major(day) == served[-1]


def test_what_the_calendar_does_not_require_comes_with_its_reason() -> None:
    calendar = project_calendar()
    assert calendar.status_on(2, NOTICE) == "la version 2 n'est publiée que le 2027-02-08 (recette datée du 2026-12-15)"
    assert "fin de vie depuis le 2027-09-30" in (calendar.status_on(1, AFTER_END) or "")
    assert calendar.status_on(1, OVERLAP) is None


# -- a titulaire serving v1 only ------------------------------------------------------------------------


def v1_only(day: date) -> CampaignReport:
    return run(day, "initial_est or majeures_sont", version="v1", served=("/v1",))


def test_a_titulaire_serving_only_v1_before_v2_is_published_is_not_failed() -> None:
    report = v1_only(NOTICE)
    both = result_of(report, "Les deux majeures")
    assert both.outcome == SKIPPED, both
    assert "2027-02-08" in (both.skip_reason or "")
    assert report.qualified, [(r.scenario, r.failed_step) for r in report.failures]


def test_the_same_titulaire_fails_once_v2_is_due() -> None:
    both = result_of(v1_only(OVERLAP), "Les deux majeures")
    assert both.outcome == FAILED
    assert "sont servies" in (both.failed_step or "")


# -- the campaign on any date ---------------------------------------------------------------------------


def test_after_v1_s_end_of_life_the_campaign_qualifies_on_v2() -> None:
    report = run(AFTER_END, SAMPLE, ("bdd", "contrat"))
    assert report.qualified, [(r.scenario, r.failed_step, r.evidence[-1:]) for r in report.failures]
    assert (report.major, report.contract_version) == ("v2", "2.0.0")
    assert report.judged_on == (None if report.started.date() == AFTER_END else AFTER_END)  # stated when not today
    deposit = result_of(report, "Un dépôt initial")
    assert any("POST /v2/depots → 202" in e for e in deposit.evidence), deposit.evidence
    assert "fin de vie" in (result_of(report, "Les deux majeures").skip_reason or "")


def test_an_upgrade_is_certified_on_both_majors_during_the_overlap() -> None:
    report = run(OVERLAP, SAMPLE, ("bdd", "contrat"), versions=("v1", "v2"))
    assert report.qualified, [(r.major, r.scenario, r.failed_step, r.evidence[-1:]) for r in report.failures]
    assert report.major == "v1, v2"
    for major in ("v1", "v2"):
        assert result_of(report, "Un dépôt initial", major).outcome == PASSED
    coexistence = [r for r in report.results if r.suite == COEXISTENCE_SUITE]
    assert {r.scenario for r in coexistence} == {
        "Un dépôt fait en v1 se lit en v2",
        "Un dépôt fait en v2 se lit en v1",
        "La version v1, dépréciée, l'annonce à chaque réponse",
        "La version v2 ne se dit pas dépréciée avant sa date",
    }
    assert all(r.outcome == PASSED for r in coexistence), [(r.scenario, r.evidence) for r in coexistence]
    pv = (RUN_DIRS[report.tags.run_id] / PV_NAME).read_text(encoding="utf-8")
    assert "Version v1 — " in pv
    assert "Version v2 — " in pv
    assert '<tr id="coexistence"><th scope="row">Coexistence des versions majeures</th><td>conforme</td>' in pv


def test_before_v2_is_published_an_upgrade_run_skips_v2_with_the_reason() -> None:
    report = run(NOTICE, "initial_est", versions=("v1", "v2"))
    assert report.qualified, [(r.major, r.scenario, r.failed_step) for r in report.failures]
    skipped = result_of(report, "Campagne en version v2", "v2")
    assert skipped.outcome == SKIPPED
    assert "n'est publiée que le 2027-02-08" in (skipped.skip_reason or "")
    assert result_of(report, "Version v2 servie").outcome == SKIPPED


# -- every coexistence check is proven able to fail -------------------------------------------------------


COEXISTENCE_PROOFS = [
    ("v2-dossier-mal-traduit", "Un dépôt fait en v1 se lit en v2", OVERLAP),
    ("guide-de-migration-absent", "La version v1, dépréciée, l'annonce à chaque réponse", OVERLAP),
    ("depreciation-anticipee", "La version v1 ne se dit pas dépréciée avant sa date", EVE_OF_DEPRECATION),
    ("version-jamais-retiree", "Après sa fin de vie (2027-09-30), la version v1 répond 410", AFTER_END),
]


@pytest.mark.parametrize(("fault", "check", "day"), COEXISTENCE_PROOFS, ids=[p[0] for p in COEXISTENCE_PROOFS])
def test_each_coexistence_check_passes_on_the_reference_and_fails_with_its_fault(
    fault: str, check: str, day: date
) -> None:
    assert result_of(run(day, NOTHING, versions=("v1", "v2")), check).outcome == PASSED
    failed = result_of(run(day, NOTHING, versions=("v1", "v2"), faults=(fault,)), check)
    assert failed.outcome == FAILED, failed
