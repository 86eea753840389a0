"""What the deposit server saw (inspection): every transfer, rename and removal, append-only.

Each entry is also appended to a JSON Lines file, so the evidence outlives the server and a recette team
reads it with any tool. Only the ASP side (this process) reads it: no route of the server exposes it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harness.foundations.clock import Clock, utc_now

UPLOAD, DOWNLOAD, RENAME, REMOVE, REFUSED = "depot", "telechargement", "renommage", "suppression", "refus"


@dataclass(frozen=True)
class Exchange:
    """One operation on the deposit server (échange)."""

    protocole: str
    """SFTP or FTPS."""
    utilisateur: str
    operation: str
    chemin: str
    """The path in the user's space (`/entrant/…`)."""
    octets: int = 0
    complet: bool = True
    """False for a transfer cut before its end."""
    cible: str | None = None
    """The new path of a rename."""
    detail: str | None = None
    horodatage: str = ""

    def to_json(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}


class Journal:
    """The append-only journal of exchanges (thread-safe: both servers write to it)."""

    def __init__(self, path: Path, clock: Clock = utc_now) -> None:
        self._path = path
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: list[Exchange] = []
        self._listeners: list[Callable[[Exchange], None]] = []
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)

    def record(self, exchange: Exchange) -> None:
        stamped = Exchange(**{**asdict(exchange), "horodatage": self._clock().isoformat()})
        with self._lock:
            self._entries.append(stamped)
            with self._path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(stamped.to_json(), ensure_ascii=False) + "\n")
        for listener in self._listeners:
            listener(stamped)

    def listen(self, listener: Callable[[Exchange], None]) -> None:
        """Call `listener` with every exchange recorded from now on (on the recording thread: keep it short)."""
        self._listeners.append(listener)

    def entries(self, user: str | None = None) -> list[Exchange]:
        """Every exchange so far (of `user` when given), oldest first."""
        with self._lock:
            return [e for e in self._entries if user is None or e.utilisateur == user]

    @property
    def path(self) -> Path:
        return self._path
