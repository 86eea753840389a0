"""The titulaire's client of the ASP callback API: sends one return, retrying with backoff.

Retried: connection errors, timeouts, a token the ASP's issuer did not deliver, 429 and 5xx answers, after
the ASP's `Retry-After` when it gives one, until the policy's budget in time is spent. Not retried: any
other 4xx (the ASP refused the return itself: retrying would send the same refused content) — the caller
opens an incident.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from harness.foundations.limits import TRANSACTION_LIMIT_BYTES
from harness.foundations.tokens import TokenRequestError
from harness.reference.settings import RetryPolicy

Sleep = Callable[[float], Awaitable[None]]
Monotonic = Callable[[], float]
JSON_HEADERS = {"Content-Type": "application/json"}
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
ACK_RESERVE_BYTES = 4096
"""Room kept in the transaction for the ASP's acknowledgement (an Acquittement is a few hundred bytes)."""


@dataclass(frozen=True)
class Delivery:
    """The ASP acknowledged the return (acquittement)."""

    ack_id: str
    attempts: int


class DeliveryFailed(Exception):
    """The return could not be delivered; `attempts` were made."""

    def __init__(self, reason: str, attempts: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.attempts = attempts


class CallbackClient:
    """POSTs returns (retours) to the ASP callback URL, within a retry budget."""

    def __init__(
        self,
        url: str,
        policy: RetryPolicy,
        verify: ssl.SSLContext | bool = True,
        auth: httpx.Auth | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        monotonic: Monotonic = time.monotonic,
        limit_bytes: int = TRANSACTION_LIMIT_BYTES,
    ) -> None:
        self._url = url
        self._limit_bytes = limit_bytes
        self._policy = policy
        self._sleep = sleep
        self._monotonic = monotonic
        self._http = httpx.AsyncClient(verify=verify, auth=auth, transport=transport, timeout=policy.timeout_seconds)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def deliver(self, retour: dict[str, Any]) -> Delivery:
        """Send `retour` until the ASP acknowledges it or the retry budget is spent.

        A return whose transaction could not respect the limit is never sent (not retryable).
        """
        body = encoded(retour)
        if len(body) + ACK_RESERVE_BYTES > self._limit_bytes:
            raise DeliveryFailed(
                f"retour de {len(body)} octets : la transaction dépasserait la limite de {self._limit_bytes} octets "
                "(non envoyé, non réessayable)",
                0,
            )
        deadline = self._monotonic() + self._policy.budget_seconds
        attempt = 0
        while True:
            attempt += 1
            reason, wait = await self._attempt(body, attempt)
            if isinstance(reason, Delivery):
                return reason
            asked = wait if self._policy.honour_retry_after else None
            delay = asked if asked is not None else self._policy.delay_before(attempt + 1)
            if attempt == self._policy.attempts or self._monotonic() + delay > deadline:
                raise DeliveryFailed(reason, attempt)
            await self._sleep(delay)

    async def _attempt(self, body: bytes, attempt: int) -> tuple[Delivery | str, float | None]:
        """One POST: the delivery, or why it failed and the `Retry-After` the ASP asked (raises if not retryable)."""
        try:
            response = await self._http.post(self._url, content=body, headers=JSON_HEADERS)
        except httpx.TransportError as error:
            return f"tentative {attempt} : erreur de transport ({type(error).__name__})", None
        except TokenRequestError as error:  # the issuer refused us: the ASP must hear of it after the budget
            return f"tentative {attempt} : jeton d'accès non obtenu ({error})", None
        if response.status_code == 202:
            return Delivery(ack_id=_ack_id(response, attempt), attempts=attempt), None
        reason = f"tentative {attempt} : réponse HTTP {response.status_code} {_problem_code(response)}".rstrip()
        if response.status_code not in RETRYABLE_STATUSES:
            raise DeliveryFailed(reason + " (non réessayable)", attempt)
        return reason, retry_after(response.headers.get("retry-after"))


def encoded(retour: dict[str, Any]) -> bytes:
    """The return as sent: compact UTF-8 JSON; NaN or Infinity cannot be sent (ValueError)."""
    return json.dumps(retour, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def retry_after(value: str | None) -> float | None:
    """Seconds asked by a `Retry-After` header (delay-seconds or HTTP-date, RFC 9110), None if absent or unreadable."""
    if value is None:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _ack_id(response: httpx.Response, attempt: int) -> str:
    try:
        return str(response.json()["idAcquittement"])
    except (ValueError, KeyError, TypeError) as error:
        raise DeliveryFailed(f"tentative {attempt} : acquittement illisible", attempt) from error


def _problem_code(response: httpx.Response) -> str:
    try:
        return str(response.json().get("code", ""))
    except (ValueError, AttributeError):
        return ""
