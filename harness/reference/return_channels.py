"""Where each return goes (canal de retour): the ASP's callback API, or, for the returns of archives when the
project agreed so, a return archive on the ASP's deposit server. The outbox delivers through `ReturnChannels`
alone, so its guarantees (one frozen return, at least once, leases, retry budget, incident) hold on both."""

from __future__ import annotations

from typing import Any, Protocol

from harness.reference.callback_client import Delivery
from harness.reference.faults.base import Fault, FaultSet


class ReturnChannel(Protocol):
    """Delivers one return until the ASP acknowledges it (`Delivery`), or raises `DeliveryFailed`."""

    async def deliver(self, retour: dict[str, Any]) -> Delivery: ...

    async def aclose(self) -> None: ...


class ReturnChannels:
    """The returns of archives (`modeEchange: DOSSIER`) on `archive` when it is given, every other on `api`."""

    def __init__(
        self, api: ReturnChannel, archive: ReturnChannel | None = None, faults: FaultSet | None = None
    ) -> None:
        self._api = api
        self._archive = archive
        self._faults = faults or FaultSet()

    async def deliver(self, retour: dict[str, Any]) -> Delivery:
        return await self._channel(retour).deliver(retour)

    def _channel(self, retour: dict[str, Any]) -> ReturnChannel:
        if self._archive is None or retour.get("modeEchange") != "DOSSIER":
            return self._api
        return self._archive if self._faults.apply(Fault.return_channel, "archive") == "archive" else self._api

    async def aclose(self) -> None:
        await self._api.aclose()
        if self._archive is not None:
            await self._archive.aclose()
