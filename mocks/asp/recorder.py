"""The journal of the mock ASP callback (journal des retours): every call received, and the ack of each deposit.

The "exactly one return per deposit" rule is decided here, atomically: the first valid return of a deposit
is acknowledged; the same return delivered again gets the same acknowledgement; any other return for that
deposit is a violation.
"""

from __future__ import annotations

import collections
import copy
import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from harness.foundations.clock import Clock, utc_now

RAW_BODY_KEPT_CHARS = 100_000
"""How much of an unreadable body the journal keeps, as text (`corpsBrut`)."""
MAX_CALLS_KEPT = 10_000
MAX_BYTES_KEPT = 512 * 1024 * 1024
"""The journal keeps the latest calls within these bounds; older ones are forgotten (and counted)."""


@dataclass(frozen=True)
class Acknowledgement:
    """The acquittement given for a deposit's return."""

    id_acquittement: str
    id_retour: str
    received_at: datetime

    def to_json(self) -> dict[str, str]:
        return {
            "idAcquittement": self.id_acquittement,
            "idRetour": self.id_retour,
            "recuLe": self.received_at.isoformat().replace("+00:00", "Z"),
        }


class Verdict(Enum):
    """What a valid return is, given the returns already acknowledged for its deposit."""

    FIRST = "premier"
    REDELIVERY = "nouvelle-livraison"
    MULTIPLE = "retour-multiple"
    """A different idRetour for a deposit that already has a return."""
    MODIFIED = "retour-modifie"
    """The idRetour of the acknowledged return, with a different content."""


@dataclass(frozen=True)
class Decision:
    """The verdict on a valid return, and the acknowledgement of its deposit (the existing one, if any)."""

    verdict: Verdict
    ack: Acknowledgement

    @property
    def accepted(self) -> bool:
        return self.verdict in (Verdict.FIRST, Verdict.REDELIVERY)


@dataclass
class ReceivedCall:
    """One call to POST /v1/retours as the ASP received it (appel reçu), and what the mock answered."""

    received_at: datetime
    body: bytes
    content_type: str
    retour: Any = None
    """The body parsed as JSON, or None when it is not JSON."""
    status: int | None = None
    """The HTTP status answered; None when the connection was dropped."""
    violations: list[str] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    redelivery: bool = False
    fault: str | None = None
    ack_id: str | None = None
    detail: str | None = None
    size: int = field(init=False)
    """Bytes of the body as received (the journal keeps only what it shows of it)."""

    def __post_init__(self) -> None:
        self.size = len(self.body)

    def kept(self) -> int:
        """Bytes this call holds in the journal: the parsed return, or the prefix of an unreadable body."""
        self.body = b"" if self.retour is not None else self.body[:RAW_BODY_KEPT_CHARS]
        return self.size if self.retour is not None else len(self.body)

    @property
    def id_depot(self) -> str | None:
        return _text_field(self.retour, "idDepot")

    @property
    def id_retour(self) -> str | None:
        return _text_field(self.retour, "idRetour")

    def to_json(self) -> dict[str, Any]:
        """The inspection view of the call (stable keys, French vocabulary)."""
        return {
            "idDepot": self.id_depot,
            "idRetour": self.id_retour,
            "recuLe": self.received_at.isoformat().replace("+00:00", "Z"),
            "valide": not self.violations,
            "violations": list(self.violations),
            "erreurs": [dict(error) for error in self.errors],
            "redelivery": self.redelivery,
            "statutHttp": self.status,
            "panne": self.fault,
            "idAcquittement": self.ack_id,
            "detail": self.detail,
            "typeContenu": self.content_type,
            "tailleOctets": self.size,
            "retour": copy.deepcopy(self.retour),
            "corpsBrut": self._raw_text(),
        }

    def _raw_text(self) -> str | None:
        if self.retour is not None or not self.body:
            return None
        return self.body[:RAW_BODY_KEPT_CHARS].decode("utf-8", "replace")


def _text_field(retour: Any, name: str) -> str | None:
    value = retour.get(name) if isinstance(retour, dict) else None
    return value if isinstance(value, str) else None


def parse_json(body: bytes) -> Any:
    """The body as JSON, or None when it is empty or not JSON."""
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


class ReturnRecorder:
    """Thread-safe in-memory journal of the mock ASP callback, with the acknowledged return of each deposit."""

    def __init__(
        self, clock: Clock = utc_now, max_calls: int = MAX_CALLS_KEPT, max_bytes: int = MAX_BYTES_KEPT
    ) -> None:
        self.clock = clock
        self._max_calls, self._max_bytes = max_calls, max_bytes
        self._lock = threading.Lock()
        self._calls: collections.deque[tuple[ReceivedCall, int]] = collections.deque()
        self._bytes_kept = 0
        self.forgotten = 0
        """Calls dropped from the journal, oldest first, to stay within its bounds."""
        self._acknowledged: dict[str, tuple[dict[str, Any], Acknowledgement]] = {}

    def decide(self, retour: dict[str, Any], received_at: datetime) -> Decision:
        """Judge a contract-valid return against its deposit's, acknowledging it when it is the first."""
        id_depot, id_retour = str(retour["idDepot"]), str(retour["idRetour"])
        with self._lock:
            known = self._acknowledged.get(id_depot)
            if known is None:
                ack = Acknowledgement(str(uuid.uuid4()), id_retour, received_at)
                self._acknowledged[id_depot] = (retour, ack)
                return Decision(Verdict.FIRST, ack)
        first, ack = known
        if ack.id_retour != id_retour:
            return Decision(Verdict.MULTIPLE, ack)
        return Decision(Verdict.REDELIVERY if first == retour else Verdict.MODIFIED, ack)

    def record(self, call: ReceivedCall) -> None:
        kept = call.kept()
        with self._lock:
            self._calls.append((call, kept))
            self._bytes_kept += kept
            while len(self._calls) > self._max_calls or self._bytes_kept > self._max_bytes:
                self._bytes_kept -= self._calls.popleft()[1]
                self.forgotten += 1

    def size(self) -> int:
        """How many calls the journal holds."""
        with self._lock:
            return len(self._calls)

    def entries(self, id_depot: str | None = None) -> list[dict[str, Any]]:
        """Every call received, oldest first (for one deposit when `id_depot` is given)."""
        with self._lock:
            calls = [call for call, _ in self._calls]
        return [c.to_json() for c in calls if id_depot is None or c.id_depot == id_depot]

    def returns_for(self, id_depot: str) -> list[dict[str, Any]]:
        """The calls acknowledged for a deposit: its return, then each redelivery of it."""
        return [entry for entry in self.entries(id_depot) if entry["idAcquittement"] is not None]

    def clear(self) -> None:
        """Forget every call and every acknowledged return."""
        with self._lock:
            self._calls.clear()
            self._bytes_kept = self.forgotten = 0
            self._acknowledged.clear()
