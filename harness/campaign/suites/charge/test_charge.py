"""Charge à la limite de 20 Mo : la qualité de service mesurée contre le contrat de service.

The `charge` suite of `recette run`: a short `limite` load run (locust, in its own processes) on the
embedded reference or on the platform, with its own settings of `recette.toml` (its returns reach the run's
receiver, where their delays are measured), judged against the platform's service contract; its verdict is
published to the run's reports (the PV shows its figures). A run that measured nothing fails with its cause.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.campaign.fixtures import PublishLoad
from harness.campaign.load import charge_suite
from harness.campaign.target import Target
from harness.load import qos_checks
from harness.load.charge import failure_lines


@pytest.fixture(scope="module")
def rapport_de_charge(cible: Target, dossier_execution: Path, publier_charge: PublishLoad) -> dict[str, Any]:
    report = charge_suite(cible, dossier_execution)
    publier_charge(report)
    return report


def test_la_qualite_de_service_tient_a_la_limite(rapport_de_charge: dict[str, Any], preuves: list[str]) -> None:
    """La qualité de service tient à la limite de 20 Mo (contrat de service)"""
    checks = qos_checks(rapport_de_charge)
    preuves.extend(f"{c.name} : {c.evidence}" for c in checks)
    preuves.extend(f"Échec de charge : {line}" for line in failure_lines(rapport_de_charge))
    assert checks, "aucun critère de qualité de service mesuré"
    assert rapport_de_charge["verdict"] == "conforme", "; ".join(c.name for c in checks if not c.passed)
