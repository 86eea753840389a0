"""The `securite` suite: every check against one target, in order, each with its verdict and evidence."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from harness.security import bearer, leaks, transport
from harness.security.probes import Probes, error_reason
from harness.security.target import SecurityTarget
from harness.security.verdicts import SecurityResult, Verdict, failed

log = logging.getLogger(__name__)

SUITE = "securite"
Check = Callable[[Probes], Verdict]
CHECKS: tuple[Check, ...] = (*transport.CHECKS, *bearer.CHECKS, *leaks.CHECKS)
"""In this order: the leak check reads what all the others collected."""


def check_name(check: Check) -> str:
    """The French name of a check: the first line of its docstring."""
    return (check.__doc__ or check.__name__).strip().splitlines()[0]


def run_security_checks(target: SecurityTarget, checks: Iterable[Check] = CHECKS) -> list[SecurityResult]:
    """Run `checks` against `target`; a check that breaks fails with what broke it, and the others still run."""
    with tempfile.TemporaryDirectory(prefix="recette-securite-") as workdir:
        probes = Probes(target, Path(workdir))
        return [run_one(check, probes) for check in checks]


def run_one(check: Check, probes: Probes) -> SecurityResult:
    name = check_name(check)
    try:
        verdict = check(probes)
    except Exception as error:  # noqa: BLE001 — a broken check is a failed check, with its reason
        log.warning("security check %r broke: %s", name, error_reason(error))
        verdict = failed(f"le contrôle n'a pas pu s'exécuter : {error_reason(error)}")
    return verdict.named(name)
