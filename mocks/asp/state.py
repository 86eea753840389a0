"""What the routes of the mock ASP callback share: the journal, the armed faults, where mails come from."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from harness.foundations.token_verifier import TokenVerifier
from mocks.asp.faults import FaultPlan
from mocks.asp.recorder import ReturnRecorder


class JsonMail(Protocol):
    """A caught mail, as the SMTP catcher gives it (`CaughtMail`)."""

    def to_json(self) -> dict[str, Any]: ...


MailSource = Callable[[], Sequence[JsonMail]]


@dataclass(frozen=True)
class MockState:
    """What the routes share: the journal, the armed faults, who may inspect, where caught mails come from."""

    recorder: ReturnRecorder
    faults: FaultPlan
    inspectors: frozenset[str]
    """Thumbprints (`x5t#S256`) of the client certificates allowed on `/_inspection/…` (the recette team's)."""
    mails: MailSource | None
    verifier: TokenVerifier | None = None
