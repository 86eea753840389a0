"""Verdicts of the security checks: passed, failed, or not applicable (with the reason), and the result type."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from harness.foundations.check_result import CheckResult

NOT_APPLICABLE = "non applicable"
INCONCLUSIVE = "non concluant"


@dataclass
class SecurityResult(CheckResult):
    """A `CheckResult` that may be not applicable to the target.

    A check that cannot run against this target (no signing capability, no CA key…) is neither passed nor
    failed: `applicable` is False, `passed` is False (never a fake pass) and the evidence gives the reason.
    A verdict should count such results apart (see `tally`).
    """

    applicable: bool = True

    @property
    def status(self) -> str:
        """« réussi », « échoué » or « non applicable »."""
        if not self.applicable:
            return NOT_APPLICABLE
        return "réussi" if self.passed else "échoué"


@dataclass(frozen=True)
class Verdict:
    """What one check concluded, before it is named."""

    passed: bool
    evidence: str
    applicable: bool = True

    def named(self, name: str) -> SecurityResult:
        return SecurityResult(name, self.passed, self.evidence, self.applicable)


def passed(evidence: str) -> Verdict:
    return Verdict(True, evidence)


def failed(evidence: str) -> Verdict:
    return Verdict(False, evidence)


def not_applicable(reason: str) -> Verdict:
    return Verdict(False, f"{NOT_APPLICABLE} : {reason}", applicable=False)


def inconclusive(reason: str) -> Verdict:
    """A failure: the check could not tell a refusal from a target that refuses everything."""
    return Verdict(False, f"{INCONCLUSIVE} : {reason}")


def tally(results: Iterable[CheckResult]) -> Counter[str]:
    """How many results are « réussi », « échoué » and « non applicable »."""
    counts: Counter[str] = Counter({"réussi": 0, "échoué": 0, NOT_APPLICABLE: 0})
    for result in results:
        applicable = getattr(result, "applicable", True)
        counts[NOT_APPLICABLE if not applicable else "réussi" if result.passed else "échoué"] += 1
    return counts
