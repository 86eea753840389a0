"""Fault injection of the deposit server (pannes): the next connections or transfers fail as the ASP asks.

Kinds, each for the next `count` occurrences, whatever the protocol:

- `connexion-refusee`: the connection is closed before authentication;
- `transfert-coupe`: a download stops after `after_bytes` bytes, the connection dropped;
- `disque-plein`: an upload is refused as if the disk were full.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

REFUSED_CONNECTION, CUT_TRANSFER, DISK_FULL = "connexion-refusee", "transfert-coupe", "disque-plein"
FAULT_KINDS = (REFUSED_CONNECTION, CUT_TRANSFER, DISK_FULL)
CUT_AFTER_BYTES = 1024


@dataclass
class _Armed:
    remaining: int
    after_bytes: int


class DepotFaults:
    """The faults armed on the deposit server (thread-safe: both servers take from it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: dict[str, _Armed] = {}

    def arm(self, kind: str, count: int = 1, after_bytes: int = CUT_AFTER_BYTES) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"panne inconnue {kind!r} : choisir parmi {', '.join(FAULT_KINDS)}")
        with self._lock:
            self._armed[kind] = _Armed(count, after_bytes)

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    def take(self, kind: str) -> int | None:
        """Consume one occurrence of `kind`: its byte threshold, or None when it is not armed."""
        with self._lock:
            armed = self._armed.get(kind)
            if armed is None or armed.remaining <= 0:
                return None
            armed.remaining -= 1
            return armed.after_bytes
