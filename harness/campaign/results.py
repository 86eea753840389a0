"""The results of a campaign, emitted once, read by every report (summary, billing, PV).

Allure and JUnit are written by their pytest plugins from the same test items, with the same labels.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from harness.foundations.billing import BillingTags

PASSED, FAILED, SKIPPED = "reussi", "echoue", "ignore"
COEXISTENCE_SUITE = "coexistence"
"""The results of the coexistence of the majors (`recette run --versions`)."""


@dataclass
class ScenarioResult:
    """One scenario (or one test of a suite) and its verdict."""

    suite: str
    capability: str
    """The Gherkin feature (fonctionnalité), or the suite's capability."""
    scenario: str
    outcome: str = PASSED
    duration_seconds: float = 0.0
    tags: list[str] = field(default_factory=list)
    failed_step: str | None = None
    evidence: list[str] = field(default_factory=list)
    reproduction: str | None = None
    """A curl command reproducing the last request of a failed scenario."""
    skip_reason: str | None = None
    major: str = ""
    """The major it ran on, when the run certifies several (`--versions`)."""


@dataclass
class CampaignReport:
    """Everything a run's reports show."""

    tags: BillingTags
    target: str
    contract_version: str
    started: datetime
    finished: datetime | None = None
    suites: list[str] = field(default_factory=list)
    results: list[ScenarioResult] = field(default_factory=list)
    contract_violations: list[str] = field(default_factory=list)
    load: dict[str, Any] | None = None
    deposits_sent: int = 0
    bytes_sent: int = 0
    judged_on: date | None = None
    """The date the run was judged at (`--date`), when it is not the day it ran."""
    major: str = ""
    """The major qualified (`v1`, `v2`)."""

    @property
    def failures(self) -> list[ScenarioResult]:
        return [r for r in self.results if r.outcome == FAILED]

    @property
    def qualified(self) -> bool:
        """Qualified: something ran, nothing failed, no response left its contract, the load verdict holds."""
        ran = any(r.outcome == PASSED for r in self.results)
        load_ok = self.load is None or self.load.get("verdict") == "conforme"
        return ran and not self.failures and not self.contract_violations and load_ok

    def counts(self) -> dict[str, int]:
        return {outcome: sum(r.outcome == outcome for r in self.results) for outcome in (PASSED, FAILED, SKIPPED)}

    def to_json(self) -> dict[str, Any]:
        return {
            "idExecution": self.tags.run_id,
            "motif": self.tags.motif,
            "facturable": self.tags.billable,
            "libelleFacturation": self.tags.label,
            "cible": self.target,
            "versionContrat": self.contract_version,
            "debut": self.started.isoformat(),
            "fin": self.finished.isoformat() if self.finished else None,
            "suites": self.suites,
            "qualifie": self.qualified,
            "totaux": self.counts(),
            "depotsEnvoyes": self.deposits_sent,
            "octetsEnvoyes": self.bytes_sent,
            "ecartsAuContrat": self.contract_violations,
            "charge": self.load,
            "scenarios": [asdict(r) for r in self.results],
        }
