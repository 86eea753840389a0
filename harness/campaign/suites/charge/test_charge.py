"""Charge à la limite de 20 Mo : la qualité de service mesurée contre le contrat de service.

The `charge` suite of `recette run`: a short `limite` load run (locust, in its own processes), judged
against the service contract's QoS; its figures go to the PV.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.campaign.load import charge_suite
from harness.campaign.plugin import CAMPAIGN
from harness.campaign.target import Target
from harness.load import qos_checks


@pytest.fixture(scope="module")
def rapport_de_charge(cible: Target, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    if cible.reference is None:
        pytest.skip("l'essai de charge d'une plateforme externe se lance avec recette load --config")
    campaign = request.config.stash[CAMPAIGN]
    run_dir = campaign.run_dir or tmp_path_factory.mktemp("charge") / cible.tags.run_id
    campaign.load = charge_suite(cible, run_dir)
    return campaign.load


def test_la_qualite_de_service_tient_a_la_limite(rapport_de_charge: dict[str, Any], preuves: list[str]) -> None:
    """La qualité de service tient à la limite de 20 Mo (contrat de service)"""
    checks = qos_checks(rapport_de_charge)
    preuves.extend(f"{c.name} : {c.evidence}" for c in checks)
    assert checks, "aucun critère de qualité de service mesuré"
    assert rapport_de_charge["verdict"] == "conforme", "; ".join(c.name for c in checks if not c.passed)
