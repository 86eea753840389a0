"""The journal of the mock ASP callback (journal des retours): every call received, and the ack of each deposit.

The "exactly one return per deposit" rule is decided here, atomically: the first valid return of a deposit
is acknowledged; the same return delivered again gets the same acknowledgement; any other return for that
deposit is a violation.

Every call is appended to the journal file (`journal.py`) before its answer leaves; at start-up the view and
the acknowledged returns are rebuilt from that file, so a restart on the same directory loses nothing.
Clearing (DELETE) is a mark in the file, not an erasure: the view then shows the calls received after the
latest mark (all of them on demand), and the acknowledged returns are kept (a deposit that had its return
still has it: another return for it is still a « retour multiple »). No body can make the journal
unreadable: a body that is not JSON, or JSON that cannot be shown back as UTF-8 JSON (nested deeper than
`MAX_DEPTH`, lone surrogates), is kept as received (base64 in the file, `corpsBrut` in the view) and
flagged `illisible`.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

from harness.foundations.clock import Clock, utc_now
from mocks.asp.journal import JournalDigest, JournalFile

RAW_BODY_KEPT_CHARS = 100_000
"""How much of an unreadable body the journal keeps, as text (`corpsBrut`)."""
MAX_CALLS_KEPT = 10_000
MAX_BYTES_KEPT = 512 * 1024 * 1024
"""The view in memory keeps the latest calls within these bounds; older ones are forgotten (and counted).
The journal file keeps them all."""
MAX_DEPTH = 64
"""Deepest nesting of a body the journal shows as parsed JSON (a Retour nests a few levels)."""
NOT_JSON, NOT_SHOWABLE = "non-json", "non-conservable"
"""Why a body is `illisible`: not JSON at all, or JSON that cannot be shown back as UTF-8 JSON."""


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


@dataclass(frozen=True)
class Truncation:
    """A body not read whole (troncature): the journal keeps only its head, and says what was read of it."""

    read_bytes: int
    """Bytes read before the answer (0 when the announced size alone was over the limit)."""
    read_sha256: str
    """SHA-256 of those bytes: the sender can compare it with the first `read_bytes` bytes it sent."""
    declared_bytes: int | None
    """The announced size (Content-Length), or None (chunked)."""

    @classmethod
    def of(cls, read: bytes | bytearray, declared_bytes: int | None) -> Truncation:
        return cls(len(read), hashlib.sha256(read).hexdigest(), declared_bytes)

    def to_json(self) -> dict[str, Any]:
        return {"octetsLus": self.read_bytes, "sha256Lus": self.read_sha256, "octetsAnnonces": self.declared_bytes}


@dataclass
class ReceivedCall:
    """One call to POST /v1/retours as the ASP received it (appel reçu), and what the mock answered."""

    received_at: datetime
    body: bytes
    content_type: str
    retour: Any = None
    """The body parsed as JSON, or None when it is not JSON the journal can show (see `unreadable`)."""
    unreadable: str | None = None
    """Why the body is illisible (`NOT_JSON`, `NOT_SHOWABLE`), or None."""
    status: int | None = None
    """The HTTP status answered; None when the connection was dropped."""
    violations: list[str] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    redelivery: bool = False
    fault: str | None = None
    ack_id: str | None = None
    detail: str | None = None
    truncation: Truncation | None = None
    """Set when the body was not read whole (unauthenticated, or over the size limit): `body` is its head."""
    named_deposit: str | None = None
    """The deposit a return whose body names none belongs to, known otherwise (a return archive's notice)."""
    channel: str = "api"
    """How the return came (canal): `api` (POST /v1/retours) or `archive` (a return archive on the deposit server)."""

    @classmethod
    def of(cls, received_at: datetime, body: bytes, content_type: str) -> ReceivedCall:
        """The call with its body read as JSON (or flagged illisible)."""
        retour, unreadable = read_json(body)
        return cls(received_at, body, content_type, retour, unreadable)

    @property
    def id_depot(self) -> str | None:
        return _text_field(self.retour, "idDepot") or self.named_deposit

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
            "tailleOctets": len(self.body),
            "retour": self.retour,
            "illisible": self.unreadable is not None,
            "corpsBrut": self._raw_text(),
            "troncature": self.truncation.to_json() if self.truncation else None,
            "canal": self.channel,
        }

    def journal_line(self, number: int) -> dict[str, Any]:
        """The line of the journal file: the view, and the body exactly as received."""
        return {
            "ligne": "appel",
            "numero": number,
            "appel": {"numero": number, **self.to_json()},
            "corpsBase64": base64.b64encode(self.body).decode("ascii"),
            "corpsSha256": hashlib.sha256(self.body).hexdigest(),
        }

    def _raw_text(self) -> str | None:
        if self.retour is not None or not self.body:
            return None
        return self.body[:RAW_BODY_KEPT_CHARS].decode("utf-8", "replace")


def _text_field(retour: Any, name: str) -> str | None:
    value = retour.get(name) if isinstance(retour, dict) else None
    return value if isinstance(value, str) else None


def read_json(body: bytes) -> tuple[Any, str | None]:
    """The body as JSON and None; or None and why it is illisible (`NOT_JSON`, `NOT_SHOWABLE`); empty: (None, None)."""
    if not body:
        return None, None
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):  # invalid UTF-8 is a ValueError too
        return None, NOT_JSON
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")  # lone surrogates do not encode
    except (ValueError, RecursionError):
        return None, NOT_SHOWABLE
    return (value, None) if _depth(value) <= MAX_DEPTH else (None, NOT_SHOWABLE)


def _depth(value: Any) -> int:
    """How deep `value` nests (a scalar: 1), walked without recursion."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, depth = pending.pop()
        deepest = max(deepest, depth)
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        pending.extend((child, depth + 1) for child in children)
    return deepest


@dataclass(frozen=True)
class _Kept:
    """One call of the view in memory: its number, its deposit, its inspection view, its weight."""

    number: int
    id_depot: str | None
    view: dict[str, Any]
    weight: int


class ReturnRecorder:
    """Thread-safe journal of the mock ASP callback: the file `journal`, a bounded view of it in memory, and
    the acknowledged return of each deposit (both rebuilt from the file at start-up)."""

    def __init__(
        self,
        journal: Path,
        clock: Clock = utc_now,
        max_calls: int = MAX_CALLS_KEPT,
        max_bytes: int = MAX_BYTES_KEPT,
    ) -> None:
        self.clock = clock
        self._max_calls, self._max_bytes = max_calls, max_bytes
        self._lock = threading.Lock()
        self._file = JournalFile(journal)
        self._calls: collections.deque[_Kept] = collections.deque()
        self._bytes_kept = 0
        self.forgotten = 0
        """Calls dropped from the view in memory, oldest first, to stay within its bounds (the file keeps them)."""
        self._acknowledged: dict[str, tuple[dict[str, Any], Acknowledgement]] = {}
        self._last_number = self._cleared_after = 0
        self._replay()

    @property
    def journal(self) -> Path:
        return self._file.path

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
        """Append the call to the file (durably), then to the view; blocking (fsync): call it off the event loop."""
        with self._lock:
            self._last_number += 1
            line = call.journal_line(self._last_number)
            self._file.append(line)
            self._keep(line["appel"])

    def clear(self) -> None:
        """Mark the file: the view now starts after this mark; nothing is erased, no acknowledgement forgotten."""
        with self._lock:
            self._last_number += 1
            marked_at = self.clock().isoformat().replace("+00:00", "Z")
            self._file.append({"ligne": "effacement", "numero": self._last_number, "effaceLe": marked_at})
            self._cleared_after = self._last_number

    def size(self) -> int:
        """How many calls the view in memory holds (marks aside)."""
        with self._lock:
            return len(self._calls)

    def entries(self, id_depot: str | None = None, everything: bool = False) -> list[dict[str, Any]]:
        """The calls received since the latest mark (all the view holds when `everything`), oldest first;
        for one deposit when `id_depot` is given."""
        with self._lock:
            after = 0 if everything else self._cleared_after
            kept = [k for k in self._calls if k.number > after and (id_depot is None or k.id_depot == id_depot)]
        return [dict(k.view) for k in kept]

    def returns_for(self, id_depot: str) -> list[dict[str, Any]]:
        """The calls acknowledged for a deposit (since the latest mark): its return, then each redelivery of it."""
        return [entry for entry in self.entries(id_depot) if entry["idAcquittement"] is not None]

    def digest(self) -> JournalDigest:
        """The empreinte of the journal file, consistent with the calls recorded so far."""
        with self._lock:
            return self._file.digest()

    @property
    def unreadable_lines(self) -> int:
        """Lines of the file that could not be read back at start-up (kept in the file)."""
        return self._file.unreadable_lines

    def _keep(self, view: dict[str, Any]) -> None:
        retour = view.get("retour")
        weight = view["tailleOctets"] if retour is not None else len(view.get("corpsBrut") or "")
        id_depot = view.get("idDepot")
        self._calls.append(_Kept(view["numero"], id_depot if isinstance(id_depot, str) else None, view, weight))
        self._bytes_kept += weight
        while len(self._calls) > self._max_calls or self._bytes_kept > self._max_bytes:
            self._bytes_kept -= self._calls.popleft().weight
            self.forgotten += 1

    def _replay(self) -> None:
        """Rebuild the view, the latest mark and the acknowledged returns from the file."""
        for line in self._file.read():
            try:
                self._last_number = max(self._last_number, int(line["numero"]))
                if line["ligne"] == "effacement":
                    self._cleared_after = int(line["numero"])
                elif line["ligne"] == "appel":
                    self._keep(line["appel"])
                    self._remember_ack(line["appel"])
            except (KeyError, TypeError, ValueError):
                self._file.unreadable_lines += 1

    def _remember_ack(self, view: dict[str, Any]) -> None:
        retour, ack_id = view["retour"], view["idAcquittement"]
        if ack_id is None or view["redelivery"] or not isinstance(retour, dict):
            return
        received_at = datetime.fromisoformat(view["recuLe"])
        ack = Acknowledgement(ack_id, str(retour["idRetour"]), received_at)
        self._acknowledged.setdefault(str(retour["idDepot"]), (retour, ack))
