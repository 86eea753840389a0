"""The deposits a run made (dépôts suivis), as the ASP sent them: each one's return is judged at the end.

Every accepted deposit (202 on `POST /vN/depots`, of any major) is recorded with what was really sent, read
back from the request body: the `metadonnees` part and the SHA-256 of each `document` part. The fuzzer records its
deposits directly; the scenarios' deposits are observed on the ASP client (`observe`, an httpx response
hook), so that no scenario has to think about it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from harness.foundations.asp_client import Document
from harness.foundations.majors import Major, major_of
from harness.foundations.multipart import DOCUMENT_PART, METADATA_PART, MultipartReader, Part, boundary_of

DEPOSIT_ROUTE = "/depots"
"""The deposit route of every major (under its prefix)."""


@dataclass(frozen=True)
class SentDeposit:
    """What a deposit body carried: its metadata (None when unreadable), each document's SHA-256, its parts."""

    metadonnees: dict[str, Any] | None
    digests: list[str]
    parts: list[str] = field(default_factory=list)
    """The name of every part, in the order sent."""

    @classmethod
    def of(cls, metadonnees: dict[str, Any], documents: Sequence[Document]) -> SentDeposit:
        """What a deposit of `documents` with `metadonnees` carries, as the ASP built it."""
        digests = [hashlib.sha256(d.content).hexdigest() for d in documents]
        return cls(metadonnees, digests, [METADATA_PART] + [DOCUMENT_PART] * len(documents))


@dataclass(frozen=True)
class TrackedDeposit:
    """A deposit the titulaire accepted (202), to be matched with its single return."""

    id_depot: str
    accepted_at: datetime
    """When the harness received the 202 (UTC): the return's delay runs from here."""
    origin: str
    """Who made it: a scenario, a fuzzed operation…"""
    sent: SentDeposit | None = None
    """None when the body could not be read back (streamed): metadata and digests are then not compared."""
    major: Major | None = None
    """The major it was deposited in (its contract judges the return); None: unknown, every major's does."""


def read_deposit(body: bytes, content_type: str) -> SentDeposit | None:
    """The metadata and document digests of a multipart deposit body; None when it is not one."""
    boundary = boundary_of(content_type)
    if boundary is None:
        return None
    reader = _SentParts()
    parser = MultipartReader(boundary, reader)
    try:
        parser.write(body)
        parser.finalize()
    except Exception:  # noqa: BLE001 — python-multipart raises its own errors and ValueError: an unreadable body is None
        return None
    return SentDeposit(reader.metadonnees(), reader.digests, reader.parts)


class _SentParts:
    """The part handler keeping the `metadonnees` part (repeated ones appended) and hashing each `document` part."""

    def __init__(self) -> None:
        self.digests: list[str] = []
        self.parts: list[str] = []
        self._metadata: bytearray | None = None
        self._hash = hashlib.sha256()

    def metadonnees(self) -> dict[str, Any] | None:
        try:
            parsed = json.loads(self._metadata or b"")
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None

    def begin(self, part: Part) -> None:
        self.parts.append(part.name)
        if part.name == METADATA_PART and self._metadata is None:
            self._metadata = bytearray()
        self._hash = hashlib.sha256()

    def data(self, chunk: memoryview) -> None:
        if self.parts[-1] == METADATA_PART and self._metadata is not None:
            self._metadata += chunk
        elif self.parts[-1] == DOCUMENT_PART:
            self._hash.update(chunk)

    def end(self, part: Part) -> None:
        if part.name == DOCUMENT_PART:
            self.digests.append(self._hash.hexdigest())


@dataclass
class DepositLedger:
    """The deposits of a run, in the order they were accepted (thread-safe; one entry per idDepot)."""

    origin: str = "scénarios"
    """What observed deposits are attributed to (the campaign sets it to the running test)."""
    earlier: frozenset[str] = frozenset()
    """The idDepot of the deposits the run's earlier campaigns (on other majors) made and judged already."""
    _deposits: dict[str, TrackedDeposit] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, deposit: TrackedDeposit) -> None:
        """Keep a deposit; a replay (same Idempotency-Key, same idDepot) keeps the first record."""
        with self._lock:
            self._deposits.setdefault(deposit.id_depot, deposit)

    def record_exchange(self, body: bytes | None, content_type: str, receipt: Any, origin: str, major: Major) -> None:
        """Record a 202 deposit of `major` from its request body and its AccuseReception (ignored without an
        idDepot); its metadata is kept in the harness's (callback) model, the one its return is judged in."""
        id_depot = receipt.get("idDepot") if isinstance(receipt, dict) else None
        if not isinstance(id_depot, str):
            return
        sent = read_deposit(body, content_type) if body is not None else None
        if sent is not None and sent.metadonnees is not None:
            sent = dataclasses.replace(sent, metadonnees=major.internal_metadata(sent.metadonnees))
        self.record(TrackedDeposit(id_depot, datetime.now(UTC), origin, sent, major))

    def observe(self, response: httpx.Response) -> None:
        """httpx response hook of the ASP client: record the 202s of `POST /vN/depots`."""
        request = response.request
        major = major_of(request.url.path)
        if request.method != "POST" or response.status_code != 202 or major is None:
            return
        if not request.url.path.rstrip("/").endswith(major.path(DEPOSIT_ROUTE)):
            return
        response.read()
        try:
            receipt = response.json()
        except ValueError:
            return
        try:
            body: bytes | None = request.content
        except httpx.RequestNotRead:  # a streamed (chunked) body: not kept, not compared
            body = None
        self.record_exchange(body, request.headers.get("content-type", ""), receipt, self.origin, major)

    def deposits(self) -> list[TrackedDeposit]:
        with self._lock:
            return list(self._deposits.values())

    def known(self) -> set[str]:
        """Every idDepot the run made: this ledger's and the earlier campaigns' (their returns are not strays)."""
        with self._lock:
            return set(self._deposits) | self.earlier

    def __len__(self) -> int:
        with self._lock:
            return len(self._deposits)
