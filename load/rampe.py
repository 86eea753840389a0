"""Profil `rampe` : montée en charge par paliers du profil `mixte` jusqu'à la première rupture de la QoS.

    RECETTE_STATE_FILE=etat.json RECETTE_MAX_USERS=20 RECETTE_DURATION_S=300 locust -f load/rampe.py --headless

Each step (palier) adds users (`harness.load.ramp.RampPlan`: about five steps up to RECETTE_MAX_USERS,
over RECETTE_DURATION_S). At the end of each step its own figures (p95 per operation, error rate,
return delay) are judged against the service contract; the ramp stops at the first step that breaks
it and writes every step, and where it broke, to RECETTE_RAMP_REPORT (JSON).
"""

from __future__ import annotations

from asp_user import SETTINGS as LOAD_SETTINGS
from asp_user import TARGETS, log
from locust import LoadTestShape, events
from locust.env import Environment
from mixte import DepotMixte

from harness.load.qos import EntryFigures
from harness.load.ramp import RampPlan, RampReport

__all__ = ["DepotMixte", "RampeJusquALaRupture"]


class RampeJusquALaRupture(LoadTestShape):
    """Adds users step by step; stops at the first step whose figures break the QoS, or at the end of the plan."""

    use_common_options = True  # --users and --run-time are read through RECETTE_MAX_USERS / RECETTE_DURATION_S

    def __init__(self) -> None:
        super().__init__()
        self.plan = RampPlan.of(LOAD_SETTINGS.max_users, LOAD_SETTINGS.duration_seconds)
        self.report = RampReport(self.plan, TARGETS)
        self.step = -1
        self.step_start = 0.0
        self.snapshot: dict[tuple[str, str], EntryFigures] = {}
        self.step_open = False

    def tick(self) -> tuple[int, float] | None:
        elapsed = self.get_run_time()
        step = self.plan.step_at(elapsed)
        if step != self.step:
            if self.step >= 0 and self.close_step():
                return None
            if step >= self.plan.steps:
                return None
            self.step, self.step_start, self.snapshot = step, elapsed, self._figures()
            self.step_open = True
        return self.plan.users_at(self.step), float(self.plan.step_users)

    def close_step(self) -> bool:
        """Judge the step that just ended; True when the QoS broke."""
        self.step_open = False
        figures = [entry.since(self.snapshot.get(key)) for key, entry in self._figures().items()]
        broke = self.report.close_step(self.plan.users_at(self.step), self.step_start, figures)
        if LOAD_SETTINGS.ramp_report is not None:
            self.report.save(LOAD_SETTINGS.ramp_report)
        log.warning("rampe, palier %d : %s", self.step + 1, self.report.conclusion())
        return broke

    def _figures(self) -> dict[tuple[str, str], EntryFigures]:
        assert self.runner is not None
        return {key: EntryFigures.from_locust(entry.serialize()) for key, entry in self.runner.stats.entries.items()}


@events.test_stop.add_listener
def _close_last_step(environment: Environment, **_kwargs: object) -> None:
    """A run cut short (time, request cap) still judges the step it was in."""
    shape = environment.shape_class
    if isinstance(shape, RampeJusquALaRupture) and shape.step_open:
        shape.close_step()
