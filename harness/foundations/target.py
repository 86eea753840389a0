"""What the tools see of a titulaire under qualification (the `Target` protocol).

The campaign implements it twice (`harness.campaign.target`): the embedded reference, and a real
platform described by its configuration. The tools (fuzzer, conformance, security, load) only use this.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import httpx

from harness.foundations.asp_client import AspClient, CallbackInspector, DepositMeter
from harness.foundations.billing import BillingTags
from harness.foundations.calendar import Calendar
from harness.foundations.majors import Major

ResponseHook = Callable[[httpx.Response], None]


class Target(Protocol):
    """A titulaire API under qualification, as the ASP sees it."""

    url: str
    major: Major
    """The major under qualification (its routes' prefix, its contract)."""
    limit_bytes: int
    tags: BillingTags
    verify: ssl.SSLContext
    tls_paths: dict[str, str]
    """CA, client certificate and key files (for reproduction commands)."""
    service_contract: Path
    """The platform's service contract: its deadlines bound every wait of the campaign (`delaiMaxRetour`…)."""
    meter: DepositMeter
    on_request: Callable[[httpx.Request], None] | None
    on_response: ResponseHook | None
    """Sees every answer to the ASP clients (the campaign tracks the deposits whose returns it will judge)."""

    @property
    def contract_version(self) -> str:
        """The `info.version` of the contract the platform serves on `major` (or « non communiquée »)."""
        ...

    @property
    def calendar(self) -> Calendar:
        """The version calendar the platform is held to."""
        ...

    def not_required(self, major: int) -> str | None:
        """Why the calendar does not require `major` on the run's date; None: it does."""
        ...

    def auth_for(self, client_id: str) -> httpx.Auth | None:
        """The OAuth2 client credentials of `client_id` against this target."""
        ...

    def asp_client(
        self, client_id: str = "asp-recette", authenticated: bool = True, major: Major | None = None
    ) -> AspClient:
        """An ASP client of the target (of `major`, by default the run's), tagging every request with the run's
        billing tags."""
        ...

    def inspector(self) -> CallbackInspector:
        """What the ASP side received from this target."""
        ...
