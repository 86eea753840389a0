"""What a campaign qualifies: a titulaire API, and the callback receiver that sees its returns.

The scenarios only talk to a `Target`: they deposit through its ASP clients and read returns through its
inspector. When the target is the embedded reference, `reference` gives access to what only the reference
lets a test control (its clock, its store, its faults); scenarios that need it are tagged `@reference`.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from harness.billing import BillingTags
from harness.client import AspClient, CallbackInspector, DepositMeter
from harness.clock import OffsetClock
from harness.environment import Environment
from harness.reference.service import Titulaire
from harness.tokens import ClientCredentialsAuth


@dataclass
class Target:
    """A titulaire under qualification, as the ASP sees it."""

    url: str
    contract_version: str
    limit_bytes: int
    tags: BillingTags
    verify: ssl.SSLContext
    tls_paths: dict[str, str]
    """CA, client certificate and key files (for reproduction commands)."""
    auth_for: Callable[[str], httpx.Auth | None]
    make_inspector: Callable[[], CallbackInspector]
    environment: Environment | None = None
    meter: DepositMeter = field(default_factory=DepositMeter)
    on_request: Callable[[httpx.Request], None] | None = None

    @classmethod
    def embedded(cls, env: Environment, tags: BillingTags) -> Target:
        """The reference titulaire of an embedded environment."""
        verify = env.certs.client_context(env.certs.asp_client)
        return cls(
            url=env.titulaire_url,
            contract_version="1.0.0",
            limit_bytes=env.titulaire.settings.limit_bytes,
            tags=tags,
            verify=verify,
            tls_paths={k: str(v) for k, v in env.state()["tls"].items()},
            auth_for=lambda client_id: ClientCredentialsAuth(env.credentials(client_id), verify),
            make_inspector=env.inspector,
            environment=env,
        )

    @property
    def clock(self) -> OffsetClock | None:
        """The reference's clock, which a scenario may move forward (None for an external platform)."""
        clock = self.environment.options.clock if self.environment else None
        return clock if isinstance(clock, OffsetClock) else None

    @property
    def reference(self) -> Titulaire | None:
        """The embedded reference titulaire, or None for an external platform."""
        return self.environment.titulaire if self.environment else None

    def asp_client(self, client_id: str = "asp-recette", authenticated: bool = True) -> AspClient:
        """An ASP client of the target, tagging every request with the run's billing tags."""
        auth = self.auth_for(client_id) if authenticated else None
        return AspClient(self.url, self.verify, auth, self.tags.headers(), meter=self.meter, on_request=self.on_request)

    def inspector(self) -> CallbackInspector:
        return self.make_inspector()
