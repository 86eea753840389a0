"""What fuzzing one operation (or the sequences) found: distinct failures, each with a curl that replays it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import httpx

EVIDENCE_MESSAGE_CHARS = 1500


@dataclass
class Finding:
    """One distinct failure: the check that reported it, what it saw, and how to replay the request."""

    check: str
    title: str
    message: str
    status_code: int | None
    phase: str
    curl: str
    occurrences: int = 1
    request: httpx.Request | None = field(default=None, repr=False, compare=False)
    """The request that first showed it (for the campaign's journal)."""

    @property
    def key(self) -> tuple[str, str, str]:
        return self.check, self.title, self.message

    def evidence(self) -> str:
        status = self.status_code if self.status_code is not None else "sans réponse"
        return (
            f"[{self.check}] {self.title} — réponse {status}, phase {self.phase}, vu {self.occurrences} fois\n"
            f"{self.message[:EVIDENCE_MESSAGE_CHARS]}\nReproduire (jeton dans $TOKEN) : {self.curl}"
        )


@dataclass
class OperationReport:
    """The fuzzing of one operation (operationId), or of the sequences through the contract's links."""

    name: str
    label: str
    seed: int
    statuses: Counter[int] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)

    @property
    def calls(self) -> int:
        return sum(self.statuses.values())

    @property
    def checks(self) -> set[str]:
        """The checks that failed."""
        return {f.check for f in self.findings}

    def seen_again(self, check: str, title: str, message: str) -> bool:
        """Count one more sighting of a known failure; False when it is new."""
        for known in self.findings:
            if known.key == (check, title, message):
                known.occurrences += 1
                return True
        return False

    def add(self, finding: Finding) -> None:
        """Keep a distinct failure once (the first request that showed it), counting how often it was seen."""
        if not self.seen_again(*finding.key):
            self.findings.append(finding)

    def summary(self) -> str:
        statuses = ", ".join(f"{code} : {count}" for code, count in sorted(self.statuses.items()))
        verdict = f"{len(self.findings)} défaillance(s) distincte(s)" if self.findings else "aucune défaillance"
        return f"{self.label} : {self.calls} appel(s) ({statuses or 'aucun'}), graine {self.seed} — {verdict}"
