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
from harness.config import RunConfig
from harness.environment import READ_SCOPES as READ_ONLY_SCOPES
from harness.environment import Environment
from harness.receiver import ReturnReceiver
from harness.reference.service import Titulaire
from harness.reference.settings import DEFAULT_LIMIT_BYTES as TRANSACTION_LIMIT_BYTES
from harness.reference.versions import RELEASES
from harness.tokens import ClientCredentials, ClientCredentialsAuth, discover_token_endpoint

READ_ONLY_CLIENT = "asp-lecture"


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
    config: RunConfig | None = None
    """The configuration of an external target (None for the embedded reference)."""
    meter: DepositMeter = field(default_factory=DepositMeter)
    on_request: Callable[[httpx.Request], None] | None = None
    on_response: Callable[[httpx.Response], None] | None = None
    """Sees every answer to the ASP clients (the campaign tracks the deposits whose returns it will judge)."""

    @classmethod
    def embedded(cls, env: Environment, tags: BillingTags) -> Target:
        """The reference titulaire of an embedded environment."""
        verify = env.certs.client_context(env.certs.asp_client)
        return cls(
            url=env.titulaire_url,
            contract_version=RELEASES["/v1"],
            limit_bytes=env.titulaire.settings.limit_bytes,
            tags=tags,
            verify=verify,
            tls_paths={k: str(v) for k, v in env.state()["tls"].items()},
            auth_for=lambda client_id: ClientCredentialsAuth(env.credentials(client_id), verify),
            make_inspector=env.inspector,
            environment=env,
        )

    @classmethod
    def external(cls, config: RunConfig, tags: BillingTags, receiver: ReturnReceiver) -> Target:
        """A real titulaire platform, as `recette.toml` describes it; its returns reach `receiver`."""
        verify = config.ssl_context()

        def auth_for(client_id: str) -> httpx.Auth:
            """The configured client; as the read-only client, it asks for the read scope alone."""
            token_url = config.token_url or discover_token_endpoint(config.discovery_url or "", verify)
            scopes = READ_ONLY_SCOPES if client_id == READ_ONLY_CLIENT else config.scopes
            credentials = ClientCredentials(token_url, config.client_id, config.client_secret, scopes)
            return ClientCredentialsAuth(credentials, verify)

        return cls(
            url=config.target,
            contract_version="non communiquée",
            limit_bytes=TRANSACTION_LIMIT_BYTES,
            tags=tags,
            verify=verify,
            tls_paths={
                "ca": str(config.ca),
                "client_cert": str(config.client_cert),
                "client_key": str(config.client_key),
            },
            auth_for=auth_for,
            make_inspector=receiver.inspector,
            config=config,
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
        return AspClient(
            self.url,
            self.verify,
            auth,
            self.tags.headers(),
            meter=self.meter,
            on_request=self.on_request,
            on_response=self.on_response,
        )

    def inspector(self) -> CallbackInspector:
        return self.make_inspector()
