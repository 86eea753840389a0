"""The `rampe` profile's plan and findings: users added step by step until the QoS first breaks.

The locust shape (`load/rampe.py`) asks `RampPlan` how many users each step runs and hands each
finished step's figures to `RampReport`, which judges them against the service contract and says
where the quality of service first broke. Nothing here imports locust.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.load.qos import EntryFigures, QosTargets, judge

TARGET_STEPS = 5


@dataclass(frozen=True)
class RampPlan:
    """Steps (paliers) of equal length, each adding `step_users` users, up to `max_users`."""

    max_users: int
    step_users: int
    steps: int
    step_seconds: float

    @classmethod
    def of(cls, max_users: int, duration_seconds: float) -> RampPlan:
        step_users = max(1, math.ceil(max_users / TARGET_STEPS))
        steps = math.ceil(max_users / step_users)
        return cls(max_users, step_users, steps, duration_seconds / steps)

    def step_at(self, elapsed_seconds: float) -> int:
        return int(elapsed_seconds // self.step_seconds)

    def users_at(self, step: int) -> int:
        return min(self.max_users, self.step_users * (step + 1))


@dataclass
class RampReport:
    """The steps run so far, their verdicts, and the first one that broke the QoS (rupture)."""

    plan: RampPlan
    targets: QosTargets
    steps: list[dict[str, Any]] = field(default_factory=list)
    breaking_step: dict[str, Any] | None = None

    def close_step(self, users: int, start_seconds: float, figures: Iterable[EntryFigures]) -> bool:
        """Judge a finished step; True when it is the first to break the QoS."""
        figures = [f for f in figures if f.requests > 0]
        measured = any(f.is_api_call for f in figures)
        criteria = judge(figures, self.targets) if measured else []
        passed = all(c.passed for c in criteria) if measured else None
        step = {
            "palier": len(self.steps) + 1,
            "utilisateurs": users,
            "debutS": round(start_seconds, 1),
            "reussi": passed,
            "criteres": [c.to_json() for c in criteria],
            "operations": [f.to_json() for f in figures],
        }
        self.steps.append(step)
        if passed is False and self.breaking_step is None:
            self.breaking_step = step
            return True
        return False

    def conclusion(self) -> str:
        if self.breaking_step is not None:
            broken = [c for c in self.breaking_step["criteres"] if not c["reussi"]]
            return (
                f"Première rupture de la QoS au palier {self.breaking_step['palier']} "
                f"({_users(self.breaking_step['utilisateurs'])}) : {_describe(broken)}"
            )
        held = [s["utilisateurs"] for s in self.steps if s["reussi"]]
        if not held:
            return "Aucun palier mesuré : durée trop courte pour conclure."
        ceiling = self.plan.max_users
        return f"Pas de rupture de la QoS jusqu'à {_users(max(held))} (plafond de la rampe : {ceiling})."

    def to_json(self) -> dict[str, Any]:
        return {
            "plan": {
                "utilisateursMax": self.plan.max_users,
                "utilisateursParPalier": self.plan.step_users,
                "paliers": self.plan.steps,
                "dureePalierS": round(self.plan.step_seconds, 1),
            },
            "paliers": self.steps,
            "rupture": self.breaking_step,
            "conclusion": self.conclusion(),
        }

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _users(count: int) -> str:
    return f"{count} utilisateur{'s' if count > 1 else ''}"


def _describe(broken: list[dict[str, Any]]) -> str:
    return "; ".join(f"{c['nom']} {c['mesure']} (attendu {c['attendu']})" for c in broken)
