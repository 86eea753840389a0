"""Steps of the `securite` suite: every check of `harness.security`, one example of `securite.feature` each."""

from __future__ import annotations

import dataclasses

import pytest
from pytest_bdd import given, parsers, then

from harness.campaign.reservations import reserve
from harness.campaign.target import Target
from harness.security import CHECKS, ErrorAnswers, SecurityResult, run_security_checks


@pytest.fixture(scope="session")
def controles_securite(cible: Target, reponses_d_erreur: ErrorAnswers) -> dict[str, SecurityResult]:
    """Every security check, run once per campaign against the target, by name; the leak check also judges the
    error answers the suites run before received (`bdd` runs first)."""
    target = dataclasses.replace(cible.security_target(), campaign_errors=reponses_d_erreur)
    return {result.name: result for result in run_security_checks(target)}


@given("les contrôles de sécurité du harnais ont été passés contre l'API du titulaire")
def controles_passes(controles_securite: dict[str, SecurityResult]) -> None:
    assert len(controles_securite) == len(CHECKS), f"{len(controles_securite)} résultats pour {len(CHECKS)} contrôles"


@then(parsers.parse("le contrôle « {nom} » est réussi"))
def controle_reussi(controles_securite: dict[str, SecurityResult], nom: str, preuves: list[str]) -> None:
    assert nom in controles_securite, f"contrôle inconnu « {nom} » (connus : {sorted(controles_securite)})"
    result = controles_securite[nom]
    preuves.append(f"{result.status} : {result.evidence}")
    if not result.applicable:
        reserve(result.evidence, result.lift or "l'équipe de recette confirme ce contrôle sur la plateforme")
    assert result.passed, result.evidence
