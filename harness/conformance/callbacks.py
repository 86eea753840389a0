"""The returns of every deposit a run made, waited for as the service contract allows, then each one judged.

A deposit whose every delivery was refused by a fault armed on the ASP side, and that the titulaire reports
ECHEC (incident opened), has no return by design: it is excused, and says so. So is such a deposit already
expired (410) when the run ends, as under a short recette retention: the scenario that armed the outage has
judged its ECHEC, and the platform may no longer say it. Every other deposit is judged
by the return judge (`returns.judge`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from harness.conformance.deposits import DepositLedger, TrackedDeposit
from harness.conformance.returns import (
    SAME_DEPOSIT,
    Defect,
    acknowledged_returns,
    judge,
    max_return_delay,
    parse_instant,
)
from harness.foundations.asp_client import CallbackInspector

FAILED_STATUS = "ECHEC"
"""StatutDepot of a deposit whose return could not be delivered (incident opened)."""
EXPIRED = "expiré"
"""What `state_of` gives for a deposit past its retention (410 `depot-expire`): no StatutDepot any more."""


@dataclass
class ReturnVerdict:
    """The verdict on one deposit's return."""

    deposit: TrackedDeposit
    defects: list[Defect] = field(default_factory=list)
    excused: str | None = None
    """Why a missing return is not the titulaire's fault, when it is not."""

    @property
    def conforming(self) -> bool:
        return not self.defects

    def rules(self) -> set[str]:
        return {d.rule for d in self.defects}

    def evidence(self) -> str:
        head = f"dépôt {self.deposit.id_depot} ({self.deposit.origin})"
        if self.excused:
            return f"{head} : {self.excused}"
        return f"{head} : " + ("conforme" if self.conforming else " ; ".join(map(str, self.defects)))


# -- every deposit of the run ------------------------------------------------------------------------


@dataclass
class ReturnJudge:
    """Waits for the returns of a ledger's deposits, then judges each one."""

    inspector: CallbackInspector
    state_of: Callable[[str], str | None]
    """The titulaire's StatutDepot of a deposit, or `EXPIRED` (to excuse an ECHEC caused by faults armed on the
    ASP side)."""
    max_delay: timedelta = field(default_factory=max_return_delay)
    settle_seconds: float = 0.5
    """Once every return is in, how long to wait for any extra (second) return."""
    poll_seconds: float = 0.2

    def verdicts(self, ledger: DepositLedger) -> list[ReturnVerdict]:
        """One verdict per deposit of the ledger, then one per return naming a deposit the titulaire does not know."""
        deposits = ledger.deposits()
        calls = self._wait(deposits)
        time.sleep(self.settle_seconds)
        calls = self._calls()
        verdicts = [self._verdict(d, calls.get(d.id_depot, [])) for d in deposits]
        tracked = ledger.known()
        return verdicts + [
            self._stray(id_depot, received)
            for id_depot, received in calls.items()
            if id_depot not in tracked and self.state_of(id_depot) is None
        ]

    def _stray(self, id_depot: str, calls: list[dict[str, Any]]) -> ReturnVerdict:
        """A return for a deposit the titulaire does not know: it belongs to none (idDepot not echoed)."""
        received = parse_instant(calls[0]["recuLe"]) if calls[0].get("recuLe") else datetime.now(UTC)
        deposit = TrackedDeposit(id_depot, received, "retour sans dépôt connu")
        detail = f"{len(calls)} appel(s) pour le dépôt {id_depot}, inconnu du titulaire"
        return ReturnVerdict(deposit, [Defect(SAME_DEPOSIT, detail)])

    def _wait(self, deposits: list[TrackedDeposit]) -> dict[str, list[dict[str, Any]]]:
        while True:
            calls = self._calls()
            pending = [d for d in deposits if self._pending(d, calls.get(d.id_depot, []))]
            if not pending:
                return calls
            time.sleep(self.poll_seconds)

    def _pending(self, deposit: TrackedDeposit, calls: list[dict[str, Any]]) -> bool:
        if acknowledged_returns(calls) or datetime.now(UTC) > deposit.accepted_at + self.max_delay:
            return False
        return self._excuse(deposit, calls) is None

    def _verdict(self, deposit: TrackedDeposit, calls: list[dict[str, Any]]) -> ReturnVerdict:
        if not acknowledged_returns(calls) and (excuse := self._excuse(deposit, calls)):
            return ReturnVerdict(deposit, excused=excuse)
        return ReturnVerdict(deposit, judge(deposit, calls, self.max_delay))

    def _excuse(self, deposit: TrackedDeposit, calls: list[dict[str, Any]]) -> str | None:
        if not calls or any(c.get("panne") is None for c in calls):
            return None
        state = self.state_of(deposit.id_depot)
        if state not in (FAILED_STATUS, EXPIRED):
            return None
        outcome = "dépôt en ECHEC" if state == FAILED_STATUS else "dépôt expiré depuis"
        return f"aucun retour : ses {len(calls)} livraison(s) refusée(s) par une panne armée côté ASP, {outcome}"

    def _calls(self) -> dict[str, list[dict[str, Any]]]:
        grouped: dict[str, list[dict[str, Any]]] = {}
        for call in self.inspector.received():
            grouped.setdefault(str(call.get("idDepot")), []).append(call)
        return grouped
