"""The results of a campaign, emitted once, read by every report (summary, billing, PV).

Allure and JUnit are written by their pytest plugins from the same test items, with the same labels.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any

from harness.foundations.billing import BillingTags

PASSED, FAILED, SKIPPED, RESERVED = "reussi", "echoue", "ignore", "reserve"
"""A test's outcomes: a skip is what the run was not asked to check (the calendar, `--tags`); a reservation
(réserve) is what it should have checked and could not, with what the vendor must provide to lift it."""
OUTCOMES = (PASSED, FAILED, RESERVED, SKIPPED)
LOAD_SUITE = "charge"
"""The load suite: once it ran, a run without its QoS verdict is not qualified."""
COEXISTENCE_SUITE = "coexistence"
"""The results of the coexistence of the majors (`recette run --versions`)."""


class Verdict(Enum):
    """The three verdicts of a run, each with its exit code (« could not run » is an error: `EXIT_NOT_RUN`)."""

    QUALIFIED = ("QUALIFIÉ", 0)
    QUALIFIED_WITH_RESERVATIONS = ("QUALIFIÉ AVEC RÉSERVES", 3)
    NOT_QUALIFIED = ("NON QUALIFIÉ", 1)

    def __init__(self, label: str, exit_code: int) -> None:
        self.label = label
        self.exit_code = exit_code


EXIT_NOT_RUN = 2
"""The exit code of a run that could not run (configuration, target unreachable, suites unreadable)."""


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
    """The curl command that shows a failure (its script's main request)."""
    skip_reason: str | None = None
    """Why it was skipped or reserved."""
    lift: str | None = None
    """A reservation's remedy: what the vendor must provide (or the team confirm) to lift it."""
    major: str = ""
    """The major it ran on, when the run certifies several (`--versions`)."""
    observed: str | None = None
    """What a failure observed: its assertion's own message (the PV's sentence), without pytest's introspection."""
    reproduction_script: str | None = None
    """The script that reproduces a failure, relative to the run's folder (`reproductions/003-….sh`)."""


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
    deposits_per_suite: dict[str, dict[str, int]] = field(default_factory=dict)
    """The deposits and bytes above, per suite that sent them (`DepositMeter.breakdown`)."""
    judged_on: date | None = None
    """The date the run was judged at (`--date`), when it is not the day it ran."""
    selection: str | None = None
    """How the run narrowed its suites' scenarios (`--tags`, `--scenarios`); None: all of them. A PV of a partial
    campaign says so: the scenarios left out are not judged."""
    major: str = ""
    """The major qualified (`v1`, `v2`)."""
    titulaire: str = ""
    """Who operates the platform (`target.titulaire`); empty: not given."""
    platform_name: str = ""
    """The platform qualified (`target.platform`, or the embedded reference)."""
    environment_label: str = ""
    """The environment it runs in (`target.environment`; « référence embarquée » for the embedded reference)."""
    platform_version: str = ""
    """How the platform names its software in its health answer (its `Server` header); empty: not learned."""
    preflight: list[str] = field(default_factory=list)
    """The pre-flight's checks of a real platform, one French line each (`harness.campaign.preflight`)."""
    fuzz_seed: int | None = None
    """The fuzzer's seed of the run (the `contrat` suite replays with it)."""
    evidence_digest: str | None = None
    """SHA-256 of the evidence (the receiver's journal of returns) the run was judged on."""

    @property
    def failures(self) -> list[ScenarioResult]:
        return [r for r in self.results if r.outcome == FAILED]

    @property
    def reservations(self) -> list[ScenarioResult]:
        return [r for r in self.results if r.outcome == RESERVED]

    @property
    def verdict(self) -> Verdict:
        """Qualified: something ran, nothing failed, no response left its contract, the load verdict holds; with
        reservations when some check could not be made."""
        ran = any(r.outcome == PASSED for r in self.results)
        load_ok = self.load.get("verdict") == "conforme" if self.load else not self._ran(LOAD_SUITE)
        if not (ran and not self.failures and not self.contract_violations and load_ok):
            return Verdict.NOT_QUALIFIED
        return Verdict.QUALIFIED_WITH_RESERVATIONS if self.reservations else Verdict.QUALIFIED

    def _ran(self, suite: str) -> bool:
        """Whether a test of `suite` ran (neither skipped nor reserved): the load suite's then owes a verdict."""
        return any(r.suite == suite and r.outcome in (PASSED, FAILED) for r in self.results)

    @property
    def qualified(self) -> bool:
        """Qualified, with or without reservations."""
        return self.verdict is not Verdict.NOT_QUALIFIED

    def counts(self) -> dict[str, int]:
        return {outcome: sum(r.outcome == outcome for r in self.results) for outcome in OUTCOMES}

    def to_json(self) -> dict[str, Any]:
        return {
            "idExecution": self.tags.run_id,
            "motif": self.tags.motif,
            "facturable": self.tags.billable,
            "libelleFacturation": self.tags.label,
            "cible": self.target,
            "titulaire": self.titulaire,
            "plateforme": self.platform_name,
            "environnement": self.environment_label,
            "versionPlateforme": self.platform_version,
            "versionContrat": self.contract_version,
            "controlesPrealables": self.preflight,
            "graineFuzzing": self.fuzz_seed,
            "empreintePreuves": self.evidence_digest,
            "debut": self.started.isoformat(),
            "fin": self.finished.isoformat() if self.finished else None,
            "suites": self.suites,
            "selection": self.selection,
            "qualifie": self.qualified,
            "verdict": self.verdict.label,
            "reserves": [
                {"scenario": r.scenario, "motif": r.skip_reason, "pourLaLever": r.lift} for r in self.reservations
            ],
            "totaux": self.counts(),
            "depotsEnvoyes": self.deposits_sent,
            "octetsEnvoyes": self.bytes_sent,
            "envoisParSuite": self.deposits_per_suite,
            "ecartsAuContrat": self.contract_violations,
            "charge": self.load,
            "scenarios": [asdict(r) for r in self.results],
        }
