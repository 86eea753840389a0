"""Verdicts of the security checks: passed, failed, or reserved (why, and what lifts it), and the result type."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from harness.foundations.check_result import CheckResult

RESERVED = "réserve"
INCONCLUSIVE = "non concluant"


@dataclass
class SecurityResult(CheckResult):
    """A `CheckResult` that may be reserved against this target.

    A check that cannot run against this target as configured (no test signing key of its issuer, no read-only
    client, no CA key…) is neither passed nor failed: `applicable` is False, `passed` is False (never a fake
    pass), the evidence gives the reason and `lift` what the vendor must provide (or the team confirm) to
    lift the reservation. A verdict counts such results apart (see `tally`).
    """

    applicable: bool = True
    lift: str | None = None

    @property
    def status(self) -> str:
        """« réussi », « échoué » or « réserve »."""
        if not self.applicable:
            return RESERVED
        return "réussi" if self.passed else "échoué"


@dataclass(frozen=True)
class Verdict:
    """What one check concluded, before it is named."""

    passed: bool
    evidence: str
    applicable: bool = True
    lift: str | None = None

    def named(self, name: str) -> SecurityResult:
        return SecurityResult(name, self.passed, self.evidence, self.applicable, self.lift)


def passed(evidence: str) -> Verdict:
    return Verdict(True, evidence)


def failed(evidence: str) -> Verdict:
    return Verdict(False, evidence)


def reserved(reason: str, lift: str) -> Verdict:
    """The check cannot run against this target as configured: `reason`, and `lift`, what would let it run."""
    return Verdict(False, reason, applicable=False, lift=lift)


def inconclusive(reason: str) -> Verdict:
    """A failure: the check could not tell a refusal from a target that refuses everything."""
    return Verdict(False, f"{INCONCLUSIVE} : {reason}")


def tally(results: Iterable[CheckResult]) -> Counter[str]:
    """How many results are « réussi », « échoué » and « réserve »."""
    counts: Counter[str] = Counter({"réussi": 0, "échoué": 0, RESERVED: 0})
    for result in results:
        applicable = getattr(result, "applicable", True)
        counts[RESERVED if not applicable else "réussi" if result.passed else "échoué"] += 1
    return counts
