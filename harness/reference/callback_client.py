"""The titulaire's client of the ASP callback API: sends one return, retrying with backoff.

Retried: connection errors, timeouts, a token the ASP's issuer did not deliver, 429 and 5xx answers. Not
retried: any other 4xx (the ASP refused the return itself: retrying would send the same refused content) —
the caller opens an incident.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from harness.foundations.tokens import TokenRequestError
from harness.reference.settings import RetryPolicy

Sleep = Callable[[float], Awaitable[None]]
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


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
    ) -> None:
        self._url = url
        self._policy = policy
        self._sleep = sleep
        self._http = httpx.AsyncClient(verify=verify, auth=auth, transport=transport, timeout=policy.timeout_seconds)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def deliver(self, retour: dict[str, Any]) -> Delivery:
        """Send `retour` until the ASP acknowledges it or the retry budget is spent."""
        reason = "aucune tentative"
        for attempt in range(1, self._policy.attempts + 1):
            if attempt > 1:
                await self._sleep(self._policy.delay_before(attempt))
            try:
                response = await self._http.post(self._url, json=retour)
            except httpx.TransportError as error:
                reason = f"tentative {attempt} : erreur de transport ({type(error).__name__})"
                continue
            except TokenRequestError as error:  # the issuer refused us: the ASP must hear of it after the budget
                reason = f"tentative {attempt} : jeton d'accès non obtenu ({error})"
                continue
            if response.status_code == 202:
                return Delivery(ack_id=_ack_id(response, attempt), attempts=attempt)
            reason = f"tentative {attempt} : réponse HTTP {response.status_code} {_problem_code(response)}".rstrip()
            if response.status_code not in RETRYABLE_STATUSES:
                raise DeliveryFailed(reason + " (non réessayable)", attempt)
        raise DeliveryFailed(reason, self._policy.attempts)


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
