"""The other half of the fault proofs (`tests/test_faults.py`): without any fault, the reference passes every
selection the proofs run, so each proof's failure is the fault's doing. One test per selection, in a file of its
own so that `--dist loadfile` runs these campaigns beside the proofs'."""

from __future__ import annotations

from datetime import date

import pytest

from harness.campaign.results import PASSED, RESERVED
from tests.test_faults import MAIL_NOT_OBSERVED, PROOFS, campaign, result_of, selection_of

Selection = tuple[tuple[str, ...], bool, date, str | None, bool, str]
SELECTIONS: dict[Selection, set[str]] = {}
for _proof in PROOFS:
    SELECTIONS.setdefault(selection_of(_proof), set()).add(_proof.keywords)


def selection_id(selection: Selection) -> str:
    suites, short_deadline, day, version, external, channel = selection
    flags = ["court" if short_deadline else "", version or "", "externe" if external else ""]
    flags.append("" if channel == "api" else f"canal-{channel}")
    return "-".join([",".join(suites), day.isoformat(), *filter(None, flags)])


@pytest.mark.slow
@pytest.mark.parametrize("selection", list(SELECTIONS), ids=selection_id)
def test_the_reference_without_faults_passes_the_selection(selection: Selection) -> None:
    keywords = SELECTIONS[selection]
    expression = "" if "" in keywords else " or ".join(f"({k})" for k in sorted(keywords))  # "": every scenario
    report = campaign((), selection[0], expression, *selection[1:])
    assert report.qualified, [f"{r.scenario} : {r.failed_step}" for r in report.failures]
    for proof in (p for p in PROOFS if selection_of(p) == selection):
        result = result_of(report, proof.scenario)
        expected = RESERVED if proof.external and proof.scenario in MAIL_NOT_OBSERVED else PASSED
        assert result.outcome == expected, f"{result.scenario} : {result.outcome} {result.skip_reason}"
