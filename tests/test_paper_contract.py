"""The paper metadata set of the callback contract (`x-regles-mode-echange`): refused by the mock, judged."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from harness.conformance.returns import MODE_RULES, mode_defects, schema_defects
from harness.foundations.exchange_modes import mode_errors
from mocks.asp.validation import mode_problem
from tests.builders import iso, valid_retour

RECEIVED = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)  # 23:30 in Paris: the day is the 1st in Paris too
DIGITIZED = datetime(2026, 12, 1, 23, 10, tzinfo=UTC)  # 00:10 on the 2nd in Paris


def paper_retour(**overrides: Any) -> dict[str, Any]:
    """A valid PAPIER Retour: pli id, days in Paris, digitization instant, dates in order."""
    retour = valid_retour(
        modeEchange="PAPIER",
        idPli="PLI-LYON-20261201-000001",
        dateReceptionPli="2026-12-01",
        dateNumerisation="2026-12-02",
        recuLe=iso(RECEIVED),
        numeriseLe=iso(DIGITIZED),
        traiteLe=iso(DIGITIZED + timedelta(seconds=5)),
        envoyeLe=iso(DIGITIZED + timedelta(seconds=6)),
    )
    return retour | overrides


def test_a_paper_return_keeps_the_schema_and_the_mode_rules() -> None:
    retour = paper_retour()
    assert schema_defects(retour) == []
    assert mode_errors(retour) == []
    assert mode_problem(json.dumps(retour).encode()) is None


@pytest.mark.parametrize("missing", ["idPli", "dateReceptionPli", "dateNumerisation", "numeriseLe"])
def test_a_paper_return_without_its_metadata_is_refused_and_judged(missing: str) -> None:
    retour = paper_retour()
    del retour[missing]
    problem = mode_problem(json.dumps(retour).encode())
    assert problem is not None
    assert problem.code == "retour-invalide"
    assert problem.status == 422
    assert {"emplacement": f"corps.{missing}", "message": "obligatoire en mode PAPIER"} in problem.extensions["erreurs"]
    assert [d.rule for d in mode_defects(retour)] == [MODE_RULES]


@pytest.mark.parametrize("mode", ["API", "DOSSIER"])
def test_the_other_modes_carry_no_paper_field(mode: str) -> None:
    retour = paper_retour(modeEchange=mode)
    assert schema_defects(retour) == []  # the schema alone cannot tell: the rules of the mode do
    assert sorted(where for where, _ in mode_errors(retour)) == sorted(
        ["idPli", "dateReceptionPli", "dateNumerisation", "numeriseLe"]
    )
    assert mode_errors(valid_retour(modeEchange=mode)) == []


def test_dates_out_of_order_are_named() -> None:
    retour = paper_retour(numeriseLe=iso(RECEIVED - timedelta(minutes=1)), dateNumerisation="2026-12-01")
    assert mode_errors(retour) == [
        ("numeriseLe", f"numeriseLe ({retour['numeriseLe']}) précède recuLe ({iso(RECEIVED)})")
    ]


def test_the_days_are_the_paris_days_of_the_instants() -> None:
    retour = paper_retour(dateNumerisation="2026-12-01")  # the UTC day, not the Paris one
    assert mode_errors(retour) == [
        ("dateNumerisation", "'2026-12-01' au lieu de 2026-12-02 (date à Paris de numeriseLe)")
    ]
