"""The two targets a campaign qualifies: the embedded reference, and a real platform from its configuration.

The scenarios only talk to a `Target` (`harness.foundations.target`): they deposit through its ASP
clients and read returns through its inspector. `reference` gives access to what only the embedded
reference lets a test control (its clock, its store, its faults); scenarios that need it are tagged
`@reference`, and it is None for a real platform.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import httpx

from harness.campaign.config import RunConfig
from harness.campaign.environment import READ_SCOPES as READ_ONLY_SCOPES
from harness.campaign.environment import Environment
from harness.campaign.receiver import ReturnReceiver
from harness.foundations.asp_client import AspClient, CallbackInspector, DepositMeter
from harness.foundations.billing import BillingTags
from harness.foundations.calendar import Calendar
from harness.foundations.clock import OffsetClock, utc_now
from harness.foundations.contracts import SERVICE_CONTRACT, contract_path
from harness.foundations.limits import TRANSACTION_LIMIT_BYTES
from harness.foundations.majors import Major, project_calendar
from harness.foundations.target import ResponseHook
from harness.foundations.tokens import ClientCredentialsAuth, discover_token_endpoint
from harness.reference.service import Titulaire
from harness.reference.versions import RELEASES
from harness.security import SecurityTarget
from mocks.depot import DepositServer

READ_ONLY_CLIENT = "asp-lecture"


@dataclass
class _AspSide:
    """What both targets share: the run's tags, the deposit meter and the hooks on the ASP clients."""

    tags: BillingTags
    major: Major = field(kw_only=True)
    """The major the run qualifies (`--version`, or the calendar's current one on the run's date)."""
    day: date | None = field(default=None, kw_only=True)
    """The run's date (`--date`); None: the reference's date (embedded), today (a real platform)."""
    calendar: Calendar = field(default_factory=project_calendar, kw_only=True)
    """The version calendar the platform is held to (the project's; a vendor's with `target.versions`)."""
    meter: DepositMeter = field(default_factory=DepositMeter, kw_only=True)
    on_request: Callable[[httpx.Request], None] | None = field(default=None, kw_only=True)
    on_response: ResponseHook | None = field(default=None, kw_only=True)

    url: str = field(init=False)
    verify: ssl.SSLContext = field(init=False)
    limit_bytes: int = field(init=False)
    tls_paths: dict[str, str] = field(init=False)
    service_contract: Path = field(default_factory=lambda: contract_path(SERVICE_CONTRACT), kw_only=True)
    """The platform's published service contract; by default the ASP's."""

    def auth_for(self, client_id: str) -> httpx.Auth | None:
        raise NotImplementedError

    def judged_day(self) -> date:
        """The date the calendar is read at."""
        return self.day or utc_now().date()

    def not_required(self, major: int) -> str | None:
        """Why the calendar does not require `major` on the run's date (a skip's reason); None: it does."""
        return self.calendar.status_on(major, self.judged_day())

    def asp_client(
        self, client_id: str = "asp-recette", authenticated: bool = True, major: Major | None = None
    ) -> AspClient:
        """An ASP client of the target (of `major`, by default the run's), tagging every request with the run's
        billing tags."""
        auth = self.auth_for(client_id) if authenticated else None
        return AspClient(
            self.url,
            self.verify,
            auth,
            self.tags.headers(),
            major=major or self.major,
            meter=self.meter,
            on_request=self.on_request,
            on_response=self.on_response,
        )


@dataclass
class EmbeddedTarget(_AspSide):
    """The reference titulaire of an embedded environment."""

    environment: Environment
    config: None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.tags = self.tags.on_embedded_reference()  # no titulaire platform processes anything: not billable
        self.url = self.environment.titulaire_url
        self.verify = self.environment.certs.client_context(self.environment.certs.asp_client)
        self.limit_bytes = self.environment.titulaire.settings.limit_bytes
        self.tls_paths = {k: str(v) for k, v in self.environment.state()["tls"].items()}

    @property
    def contract_version(self) -> str:
        """The version of the contract the reference serves on the run's major."""
        return RELEASES[self.major.prefix]

    @property
    def reference(self) -> Titulaire:
        return self.environment.titulaire

    @property
    def clock(self) -> OffsetClock | None:
        """The reference's clock, which a scenario may move forward."""
        clock = self.environment.options.clock
        return clock if isinstance(clock, OffsetClock) else None

    def auth_for(self, client_id: str) -> httpx.Auth:
        return ClientCredentialsAuth(self.environment.credentials(client_id), self.verify)

    @property
    def depot(self) -> DepositServer | None:
        """The ASP's deposit server the reference watches (mode dossier)."""
        return self.environment.depot

    def judged_day(self) -> date:
        """The reference's date, unless the run names one."""
        return self.day or self.environment.options.clock().date()

    def inspector(self) -> CallbackInspector:
        return self.environment.inspector()

    def security_target(self) -> SecurityTarget:
        return self.environment.security_target(self.tags.headers(), self.major)


@dataclass
class ExternalTarget(_AspSide):
    """A real titulaire platform, as `recette.toml` describes it; its returns reach `receiver`."""

    config: RunConfig
    receiver: ReturnReceiver
    reference: None = field(default=None, init=False)
    clock: None = field(default=None, init=False)
    contract_versions: dict[str, str] = field(default_factory=dict, init=False)
    """Each major → the contract version its health answer gives (the pre-flight's findings)."""
    depot: DepositServer | None = field(default=None, kw_only=True)
    """The ASP's deposit server the platform connects to (`[archives]` of its configuration); None: no archives."""

    def __post_init__(self) -> None:
        self.url = self.config.target
        self.verify = self.config.ssl_context()
        self.limit_bytes = TRANSACTION_LIMIT_BYTES
        self.service_contract = self.config.service_contract or self.service_contract
        self.tls_paths = {
            "ca": str(self.config.ca),
            "client_cert": str(self.config.client_cert),
            "client_key": str(self.config.client_key),
        }

    @property
    def contract_version(self) -> str:
        """The version of the contract the platform says it serves on the run's major."""
        return self.contract_versions.get(self.major.name, "non communiquée")

    def auth_for(self, client_id: str) -> httpx.Auth:
        """The configured client, over TLS trusting `oauth.ca`, sending `oauth.parametres` with every token request.

        As the read-only client it asks for the read scope alone (down-scoping, RFC 6749 §3.3): an issuer that
        grants the full scope anyway gives a token the scope check cannot judge by.
        """
        config = self.config
        verify = config.issuer_context()
        token_url = config.token_url or discover_token_endpoint(config.discovery_url or "", verify)
        scopes = READ_ONLY_SCOPES if client_id == READ_ONLY_CLIENT else None
        return ClientCredentialsAuth(config.credentials(token_url, scopes), verify)

    def inspector(self) -> CallbackInspector:
        return self.receiver.inspector()

    def security_target(self) -> SecurityTarget:
        target = self.config.security_target(self.major, self.tags.headers())
        return replace(target, client_authority=self.receiver.client_authority())


Target = EmbeddedTarget | ExternalTarget
"""A campaign's target."""
