"""Steps of security: every check of the harness's security suite (`harness.security`), one example each."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_bdd import given, parsers, then
from pytest_bdd.parser import FeatureParser

from harness.security import CHECKS, SecurityResult, SecurityTarget, check_name, run_security_checks
from harness.target import Target

FEATURES = Path(__file__).resolve().parents[3] / "features"
FEATURE = "securite.feature"
CHECK_COLUMN = "contrôle"


@pytest.fixture(scope="session")
def controles_securite(cible: Target) -> dict[str, SecurityResult]:
    """Every security check, run once per campaign against the target, by name."""
    return {result.name: result for result in run_security_checks(SecurityTarget.for_campaign(cible))}


@given("les contrôles de sécurité du harnais ont été passés contre l'API du titulaire")
def controles_passes(controles_securite: dict[str, SecurityResult]) -> None:
    assert len(controles_securite) == len(CHECKS), f"{len(controles_securite)} résultats pour {len(CHECKS)} contrôles"


@then(parsers.parse("le contrôle « {nom} » est réussi"))
def controle_reussi(controles_securite: dict[str, SecurityResult], nom: str, preuves: list[str]) -> None:
    assert nom in controles_securite, f"contrôle inconnu « {nom} » (connus : {sorted(controles_securite)})"
    result = controles_securite[nom]
    preuves.append(f"{result.status} : {result.evidence}")
    if not result.applicable:
        pytest.skip(result.evidence)
    assert result.passed, result.evidence


@then("chaque contrôle de sécurité du harnais figure parmi les exemples de cette fonctionnalité")
def controles_couverts(preuves: list[str]) -> None:
    feature = FeatureParser(str(FEATURES), FEATURE).parse()
    listed = {
        context[CHECK_COLUMN]
        for template in feature.scenarios.values()
        for examples in template.examples
        for context in examples.as_contexts()
        if CHECK_COLUMN in context
    }
    expected = {check_name(check) for check in CHECKS}
    preuves.append(f"{len(expected)} contrôles dans le harnais, {len(listed)} dans les exemples")
    assert not expected - listed, f"contrôles absents des exemples : {sorted(expected - listed)}"
    assert not listed - expected, f"exemples sans contrôle dans le harnais : {sorted(listed - expected)}"
