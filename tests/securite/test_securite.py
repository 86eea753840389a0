"""Sécurité des échanges : HTTPS, TLS mutuel, OAuth 2.0 et jetons liés au certificat.

The `securite` suite of `recette run`: every check of `harness.security`, one test each, against the target.
A check that cannot run against this target (it would need to sign with a key we do not hold) is skipped
with its reason, never passed.
"""

from __future__ import annotations

import pytest

from harness.security import CHECKS, SecurityResult, SecurityTarget, check_name, run_security_checks
from harness.target import Target


@pytest.fixture(scope="module")
def verdicts(cible: Target) -> dict[str, SecurityResult]:
    """Every check, run once against the target."""
    return {result.name: result for result in run_security_checks(SecurityTarget.for_campaign(cible))}


@pytest.mark.parametrize("check", CHECKS, ids=check_name)
def test_controle_de_securite(check: object, verdicts: dict[str, SecurityResult], preuves: list[str]) -> None:
    """Contrôle de sécurité"""
    result = verdicts[check_name(check)]  # type: ignore[arg-type]
    preuves.append(result.evidence)
    if not result.applicable:
        pytest.skip(result.evidence)
    assert result.passed, result.evidence
