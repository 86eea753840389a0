"""Fault injection (pannes) of the mock ASP callback: the next calls fail as a recette team asks.

Armed faults form a queue: each fault affects the next `nombre` calls to POST /v1/retours, then the next
fault applies. Kinds:

- `erreur-500`: a 500 problem+json (`erreur-interne`);
- `erreur-503`: a 503 problem+json (`service-indisponible`) with `Retry-After`;
- `delai`: the call waits `delaiSecondes`, then is handled normally;
- `coupure`: the connection is cut (TCP reset) without any HTTP response.
"""

from __future__ import annotations

import asyncio
import math
import socket
import struct
import threading
from dataclasses import dataclass, replace
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from harness.foundations.problems import Problem

SERVER_ERROR, UNAVAILABLE, DELAY, DROP = "erreur-500", "erreur-503", "delai", "coupure"
FAULT_KINDS = (SERVER_ERROR, UNAVAILABLE, DELAY, DROP)
FAULT_FIELDS = ("type", "nombre", "delaiSecondes", "reessayerApresSecondes")
TRANSPORT_KEY = "recette.transport"
"""Key in the ASGI scope of the server's transport of the connection (see `expose_transport`)."""
DISCONNECT_WAIT_SECONDS = 5.0


@dataclass(frozen=True)
class Fault:
    """One armed fault (panne): its kind, and how many calls it still affects."""

    kind: str
    remaining: int = 1
    delay_seconds: float = 0.0
    retry_after_seconds: int = 1

    def to_json(self) -> dict[str, Any]:
        armed: dict[str, Any] = {"type": self.kind, "restant": self.remaining}
        if self.kind == DELAY:
            armed["delaiSecondes"] = self.delay_seconds
        if self.kind == UNAVAILABLE:
            armed["reessayerApresSecondes"] = self.retry_after_seconds
        return armed


class FaultPlan:
    """The queue of armed faults, shared by the requests of the server (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[Fault] = []

    def arm(self, fault: Fault) -> None:
        with self._lock:
            self._queue.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()

    def armed(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.to_json() for fault in self._queue]

    def take(self) -> Fault | None:
        """The fault of the next call, if any (one call of it is used up)."""
        with self._lock:
            if not self._queue:
                return None
            fault = self._queue[0]
            if fault.remaining <= 1:
                self._queue.pop(0)
            else:
                self._queue[0] = replace(fault, remaining=fault.remaining - 1)
            return replace(fault, remaining=1)


def parse_fault(payload: Any) -> Fault:
    """The fault described by the JSON of POST /_inspection/pannes, else a 400 problem listing what is wrong."""
    if not isinstance(payload, dict):
        raise _invalid([("corps", "un objet JSON est attendu")])
    errors = [(f"corps.{key}", "propriété inconnue") for key in payload if key not in FAULT_FIELDS]
    kind = payload.get("type")
    if kind not in FAULT_KINDS:
        errors.append(("corps.type", f"valeurs permises : {', '.join(FAULT_KINDS)}"))
    count = payload.get("nombre", 1)
    if not _is_int(count) or count < 1:
        errors.append(("corps.nombre", "un entier ≥ 1 est attendu"))
    delay = payload.get("delaiSecondes")
    if kind == DELAY and not _is_duration(delay):
        errors.append(("corps.delaiSecondes", "obligatoire pour « delai » : un nombre de secondes ≥ 0"))
    retry_after = payload.get("reessayerApresSecondes", 1)
    if not _is_int(retry_after) or retry_after < 0:
        errors.append(("corps.reessayerApresSecondes", "un entier ≥ 0 est attendu"))
    if errors:
        raise _invalid(errors)
    return Fault(str(kind), int(count), float(delay or 0.0), int(retry_after))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_duration(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value >= 0


def _invalid(errors: list[tuple[str, str]]) -> Problem:
    described = [{"emplacement": where, "message": message} for where, message in errors]
    return Problem("requete-invalide", "Panne non reconnue.", {"erreurs": described})


def fault_problem(fault: Fault) -> Problem:
    """The problem answered for an `erreur-500` or `erreur-503` fault."""
    if fault.kind == UNAVAILABLE:
        return Problem(
            "service-indisponible",
            "Panne simulée : le service de retour de l'ASP est indisponible.",
            headers={"Retry-After": str(fault.retry_after_seconds)},
        )
    return Problem("erreur-interne", "Panne simulée : erreur interne du service de retour de l'ASP.")


def expose_transport(scope: Scope, send: Send) -> None:
    """Keep the server's transport of the connection in the scope, so that a `coupure` can cut it.

    uvicorn hands the application the bound `send` of its request cycle, which holds the transport. That
    attribute is not public, and none is: ASGI has no way to reset a connection, and uvicorn exposes no
    transport. Without it (another server, a uvicorn that moved it) `coupure` falls back to a 500.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is not None and hasattr(transport, "abort"):
        scope[TRANSPORT_KEY] = transport


class DroppedConnection(Response):
    """Not a response: the connection is reset (TCP RST) before anything is sent.

    Raising an exception would not do: uvicorn answers a 500 when the application fails before
    responding. The transport is aborted instead; once the server has seen the disconnection it sends
    nothing more.
    """

    def __init__(self) -> None:
        super().__init__(status_code=500)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        transport = scope.get(TRANSPORT_KEY)
        if transport is None:
            raise RuntimeError("coupure impossible : le serveur ASGI n'expose pas sa connexion (uvicorn requis)")
        _reset_on_close(transport)
        transport.abort()
        await asyncio.wait_for(_disconnection(receive), DISCONNECT_WAIT_SECONDS)


def _reset_on_close(transport: Any) -> None:
    """SO_LINGER 0: closing the socket sends a TCP reset (RST) rather than an orderly end (FIN)."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


async def _disconnection(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
