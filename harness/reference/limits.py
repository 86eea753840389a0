"""The 20 MB limit on a full transaction (request body + response body), as an ASGI middleware.

- A declared `Content-Length` over the limit gets 413 before the body is read: a client that sent
  `Expect: 100-continue` is never told to continue, so it never uploads the body.
- A body without a declared length (chunked) is counted as it is read; once it crosses the limit, the
  application's read raises the 413 problem and nothing more is stored.
- A client that sends the body anyway still receives the explicit 413: `ProblemResponse` sends it, then
  the rest of the body is read and discarded here, bounded in bytes and time (a lingering close).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from harness.foundations.problems import DRAIN_HOOK, Problem

ResponseReserve = Callable[[int], int]
"""Size of the largest response body the application may answer to a request body of n bytes.

`n + reserve(n)` must not decrease as n grows (a receipt grows with the digits of the size it states):
the largest body that fits is then found once, and each chunk of a body is checked by one comparison.
"""


def too_large(limit_bytes: int) -> Problem:
    return Problem(
        "transaction-trop-volumineuse",
        f"La transaction dépasse la limite de {limit_bytes} octets (corps de la requête et de la réponse). "
        "Utilisez le mode dossier (archives sur SFTP) pour ce volume.",
        extensions={"limiteOctets": limit_bytes},
    )


class TrackedBody:
    """The request body as the application reads it: counted, bounded, and drainable."""

    def __init__(self, scope: Scope, receive: Receive, limit: TransactionLimit) -> None:
        self._receive = receive
        self._limit = limit
        headers = dict(scope.get("headers", []))
        self._declared = _declared_length(headers)
        self._chunked = b"chunked" in headers.get(b"transfer-encoding", b"").lower()
        self._expects_continue = headers.get(b"expect", b"").lower() == b"100-continue"
        self._read_started = False
        self.received = 0
        self.complete = not self._chunked and not self._declared

    @property
    def declared(self) -> int | None:
        return self._declared

    @property
    def pending(self) -> bool:
        """True when body bytes may still be on their way and nobody will read them."""
        if self.complete:
            return False
        # With Expect: 100-continue, the client only sends once the body is first read.
        return self._read_started or not self._expects_continue

    async def receive(self) -> Message:
        """The application's `receive`: counts the bytes and refuses the body once it crosses the limit."""
        self._read_started = True
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            self.complete = not message.get("more_body", False)
            if not self._limit.fits(self.received):
                raise too_large(self._limit.limit_bytes)
        elif message["type"] == "http.disconnect":
            self.complete = True
        return message

    async def discard(self) -> None:
        """Read and drop what is left of the body, within the drain bounds; then give up."""
        budget = self._limit.drain_max_bytes
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._limit.drain_seconds):
                while not self.complete and budget > 0:
                    self._read_started = True
                    message = await self._receive()
                    budget -= len(message.get("body", b""))
                    self.complete = message["type"] != "http.request" or not message.get("more_body", False)


class TransactionLimit:
    """ASGI middleware enforcing `request body + response body <= limit_bytes` on every request."""

    def __init__(
        self,
        app: ASGIApp,
        limit_bytes: int,
        response_reserve: ResponseReserve,
        drain_max_bytes: int,
        drain_seconds: float,
        refuse_on_declared_size: bool = True,
    ) -> None:
        self.app = app
        self.refuse_on_declared_size = refuse_on_declared_size
        self.limit_bytes = limit_bytes
        self.response_reserve = response_reserve
        self.drain_max_bytes = drain_max_bytes
        self.drain_seconds = drain_seconds
        self.max_body_bytes = _largest_fitting_body(limit_bytes, response_reserve)

    def fits(self, body_bytes: int) -> bool:
        """`body_bytes + reserve(body_bytes) <= limit_bytes`, in one comparison (it runs for every chunk)."""
        return body_bytes <= self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = TrackedBody(scope, receive, self)
        scope.setdefault("state", {})[DRAIN_HOOK] = body
        if self.refuse_on_declared_size and body.declared is not None and not self.fits(body.declared):
            await too_large(self.limit_bytes).response(scope.get("path"))(scope, body.receive, send)
            return
        await self.app(scope, body.receive, send)


def _largest_fitting_body(limit_bytes: int, reserve: ResponseReserve) -> int:
    """The largest n with n + reserve(n) <= limit_bytes (-1 when not even an empty body fits): a binary search."""
    low, high = -1, limit_bytes  # low fits (or is -1), high + 1 does not
    while low < high:
        middle = (low + high + 1) // 2
        if middle + reserve(middle) <= limit_bytes:
            low = middle
        else:
            high = middle - 1
    return low


def _declared_length(headers: dict[bytes, bytes]) -> int | None:
    raw = headers.get(b"content-length")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return None
