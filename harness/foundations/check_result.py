"""A check's verdict with its evidence: what the security suite and the load verdicts produce."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class CheckResult:
    """The verdict of one check (contrôle), with what was observed (preuve)."""

    name: str
    passed: bool
    evidence: str
