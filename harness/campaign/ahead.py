"""Returns awaited concurrently: the scenarios' deposits are made first, each judged as its return arrives.

A return may take the whole `delaiMaxRetour` of the platform's service contract; awaited one scenario after
another, N returns would take N times that. So a campaign runs the `bdd` suite in two passes on one target,
sharing one `DepositsAhead` (`harness.campaign.runner._run_suites`):

1. **ahead** (`depositing`): each selected scenario runs only its steps marked `@ahead` — the context and
   the deposits (« Étant donné un dossier… », « Quand l'ASP dépose… ») — and stops, skipped, at its first
   other step or wait for a return. Nothing of this pass is reported; every deposit it made is kept here,
   under the scenario's node id, in order.
2. **the run proper**: each scenario runs whole; its deposit step takes the deposit made ahead for the same
   request (same scenario, same rank, same metadata, documents and idempotency key) instead of sending it
   again. Its return has been in flight since the first pass: the wait is what is left of `delaiMaxRetour`
   since that deposit's 202, and the run takes about one `delaiMaxRetour` plus its own work.

A deposit whose scenario then watches its retention (conservation) run out is not made ahead: it would age.
Both passes send the same requests because every identifier a scenario makes up comes from `unique`
(the campaign's salt and the node id), not from chance. A deposit the run proper makes differently, or
that no earlier pass made, is simply sent: the two passes are an optimisation, never a condition.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
AHEAD_MARK = "_recette_ahead"
STOPPED = "dépôts faits d'avance : le scénario reprend après eux"
"""Why a scenario of the first pass stops (never reported)."""


def ahead(step: F) -> F:
    """Mark a step that the first pass runs: it only sets the scenario up or makes its deposits."""
    setattr(step, AHEAD_MARK, True)
    return step


def runs_ahead(step: Callable[..., Any]) -> bool:
    return bool(getattr(step, AHEAD_MARK, False))


@dataclass
class DepositsAhead(Generic[T]):
    """The deposits the first pass made, per scenario (node id), in order; shared by both passes."""

    depositing: bool = False
    """True during the first pass."""
    salt: str = field(default_factory=lambda: uuid.uuid4().hex)
    """Makes each campaign's identifiers its own (`unique`)."""
    _made: dict[str, list[T]] = field(default_factory=dict)

    def of(self, node: str) -> ScenarioDeposits[T]:
        """One scenario's view."""
        return ScenarioDeposits(self, node)

    def made(self, node: str) -> list[T]:
        """The deposits the first pass made in scenario `node`, in order."""
        return self._made.get(node, [])

    def add(self, node: str, deposit: T) -> None:
        self._made.setdefault(node, []).append(deposit)


@dataclass
class ScenarioDeposits(Generic[T]):
    """One scenario's deposits made ahead, taken back in the order they were made."""

    pool: DepositsAhead[T]
    node: str
    _rank: int = 0
    _named: Counter[str] = field(default_factory=Counter)

    @property
    def depositing(self) -> bool:
        return self.pool.depositing

    def unique(self, label: str) -> str:
        """A hexadecimal identifier only this scenario of this campaign uses, the same in both passes."""
        self._named[label] += 1
        seed = f"{self.pool.salt}/{self.node}/{label}/{self._named[label]}"
        return hashlib.sha256(seed.encode()).hexdigest()

    def take(self, same_request: Callable[[T], bool]) -> T | None:
        """The next deposit made ahead, if it answers the same request (None: send it)."""
        made = self.pool.made(self.node)
        rank, self._rank = self._rank, self._rank + 1
        if self.depositing or rank >= len(made) or not same_request(made[rank]):
            return None
        return made[rank]

    def keep(self, deposit: T) -> None:
        """Remember a deposit of the first pass."""
        if self.depositing:
            self.pool.add(self.node, deposit)
