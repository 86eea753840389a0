"""The embedded qualification environment of one run, started on 127.0.0.1 on free ports.

    harness (acts as the ASP) ──HTTPS + mTLS + OAuth2──▶ reference titulaire API
    mock ASP callback API ◀──HTTPS + mTLS + OAuth2── the titulaire's single return per deposit
    mock OIDC issuer (tokens), SMTP catcher (incident mails)
    ASP deposit server (SFTP, FTPS) ◀── the reference titulaire fetches archives, publishes its notices (and,
                                        on the return-archive channel, its returns, acknowledged in entrant/)

Certificates are made at start-up into the run directory. `state()` describes it all for scripts. The mock
callback's journal is a file of the run directory (`asp/journal-retours.jsonl`): an environment started
again on the same directory finds every return it had received; only the recette team's certificate
(`tls.recette_cert`) may read it.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import secrets
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from harness.foundations.asp_client import AspClient, CallbackInspector, DepositMeter
from harness.foundations.clock import Clock, utc_now
from harness.foundations.contracts import ASP_CALLBACK_V1, load_yaml
from harness.foundations.majors import Major, current_major
from harness.foundations.running import StackedRunning
from harness.foundations.servers import LOOPBACK, BackgroundServer
from harness.foundations.tls import RunCertificates, certificate_subject
from harness.foundations.token_verifier import TokenVerifier
from harness.foundations.tokens import ClientCredentials, ClientCredentialsAuth
from harness.reference.app import create_app as create_titulaire_app
from harness.reference.service import Titulaire
from harness.reference.settings import ArchiveLimits, ArchiveSettings, ReferenceSettings, RetryPolicy
from harness.security import ClientCredentialsSource, ProbeRequest, SecurityTarget, health_probe
from mocks.asp import JOURNAL_FILE, ReturnRecorder
from mocks.asp import create_app as create_callback_app
from mocks.depot import DepositServer
from mocks.oidc import Issuer, RegisteredClient
from mocks.oidc import create_app as create_issuer_app
from mocks.smtp import SmtpCatcher

TITULAIRE_AUDIENCE = "https://titulaire.recette.local"
FULL_SCOPES = ("depots:ecrire", "depots:lire")
READ_SCOPES = ("depots:lire",)
CALLBACK_AUDIENCE = "https://callback.asp.recette.local"
CALLBACK_CLIENT_ID = "titulaire"
CALLBACK_SCOPES = ("retours:ecrire",)
TITULAIRE_SPACE = "titulaire-reference"
"""The reference's user (and space) on the ASP's deposit server."""
RECETTE_ARCHIVE_LIMITS = ArchiveLimits(entry_bytes=26_000_000, total_bytes=30_000_000)
"""The sizes the embedded reference agrees to: room for the 25 MB transaction the API refuses, small enough for
the campaign to go beyond each within seconds."""
RECETTE_RETRIES = RetryPolicy(budget_seconds=10.0, max_delay_seconds=2.0)
"""The embedded reference gives up within seconds: its scenarios arm outages it must not outlast."""


@dataclass(frozen=True)
class EnvironmentOptions:
    """What a run may change in the reference titulaire (every field has the specification's default)."""

    reference: dict[str, Any] = field(default_factory=dict)
    """Overrides of `ReferenceSettings` fields (limit_bytes, retention, retry…)."""
    clock: Clock = utc_now
    archives: str | None = "sftp"
    """How the reference watches the ASP's deposit server (`sftp`, `ftps`); None: the API mode only."""
    archive_limits: ArchiveLimits = RECETTE_ARCHIVE_LIMITS
    """What one archive may make the reference extract (the sizes agreed with the project)."""
    return_channel: str = "api"
    """Where the reference sends the return of an archive (canal de retour): `api` or `archive`."""


def callback_path() -> str:
    """The route of the ASP's callback API where returns are posted, as its contract names it."""
    return next(iter(load_yaml(ASP_CALLBACK_V1)["paths"]))


class Environment(StackedRunning):
    """Starts the SMTP catcher, the OIDC issuer, the mock ASP callback and the reference titulaire."""

    def __init__(self, run_dir: Path, options: EnvironmentOptions | None = None) -> None:
        self.run_dir = run_dir
        self.options = options or EnvironmentOptions()
        self._stack = ExitStack()
        self.certs: RunCertificates
        self.smtp: SmtpCatcher
        self.issuer: Issuer
        self.recorder: ReturnRecorder
        self.clients: dict[str, RegisteredClient] = {}
        self.depot: DepositServer | None = None
        """The ASP's deposit server (mode dossier), when `options.archives` names a protocol."""

    # -- lifetime ------------------------------------------------------------------------------------

    def _start(self) -> None:
        self.certs = RunCertificates.create(self.run_dir / "tls")
        self.smtp = self._stack.enter_context(SmtpCatcher())
        titulaire_space = (TITULAIRE_SPACE, self.certs.titulaire_client)
        self.depot = (
            self._stack.enter_context(
                DepositServer(self.run_dir / "depot", self.certs.ca, self.certs.server, titulaire_space)
            )
            if self.options.archives
            else None
        )
        self.clients = {
            "asp-recette": RegisteredClient("asp-recette", secrets.token_urlsafe(24), FULL_SCOPES, TITULAIRE_AUDIENCE),
            "asp-lecture": RegisteredClient("asp-lecture", secrets.token_urlsafe(24), READ_SCOPES, TITULAIRE_AUDIENCE),
        }
        self.issuer = Issuer([*self.clients.values(), self._titulaire_registration()])
        issuer_server = self._serve(create_issuer_app(self.issuer), "oidc")
        self.issuer.url = issuer_server.url
        verifier = TokenVerifier(
            self.issuer.url, CALLBACK_AUDIENCE, self.certs.client_context(self.certs.asp_client), realm="asp"
        )
        self.recorder = ReturnRecorder(self.run_dir / "asp" / JOURNAL_FILE)
        if self.depot is not None:
            self.depot.read_returns(self.recorder, agreed=self.options.return_channel == "archive")
        inspectors = {self.certs.recette_thumbprint()}
        callback_app = create_callback_app(
            self.recorder, inspectors=inspectors, mails=self.smtp.messages, verifier=verifier
        )
        self.callback_server = self._serve(callback_app, "asp-callback")
        self.titulaire = Titulaire(self._reference_settings(), self.options.clock)
        self.titulaire_server = self._stack.enter_context(
            BackgroundServer(
                create_titulaire_app(self.titulaire),
                self.titulaire.server_context(self.certs.ca, self.certs.server),
                "titulaire",
                header_limits=self.titulaire.settings.header_limits(),
            )
        )

    def _titulaire_registration(self) -> RegisteredClient:
        """The titulaire's client of the ASP callback: tls_client_auth, tokens bound to its certificate."""
        subject = certificate_subject(self.certs.titulaire_client.cert.read_bytes())
        return RegisteredClient(CALLBACK_CLIENT_ID, "", CALLBACK_SCOPES, CALLBACK_AUDIENCE, tls_subject=subject)

    def _serve(self, app: Any, name: str) -> BackgroundServer:
        server = BackgroundServer(app, self.certs.server_context(), name)
        return self._stack.enter_context(server)

    def _reference_settings(self) -> ReferenceSettings:
        settings = ReferenceSettings(
            data_dir=self.run_dir / "titulaire",
            callback_url=self.callback_server.url + callback_path(),
            smtp_host=self.smtp.host,
            smtp_port=self.smtp.port,
            ca_file=self.certs.ca,
            client_cert=self.certs.titulaire_client.cert,
            client_key=self.certs.titulaire_client.key,
            issuer_url=self.issuer.url,
            audience=TITULAIRE_AUDIENCE,
            callback_token_url=self.token_url,
            callback_client_id=CALLBACK_CLIENT_ID,
            retry=RECETTE_RETRIES,
            archives=self._archive_settings(),
        )
        return dataclasses.replace(settings, **self.options.reference)

    def _archive_settings(self) -> ArchiveSettings | None:
        """The reference reaches the deposit server as any titulaire: its key (SFTP) or password (FTPS)."""
        protocol = self.options.archives
        if protocol is None or self.depot is None:
            return None
        access = self.depot.access
        port = self.depot.sftp_port if protocol == "sftp" else self.depot.ftps_port
        return ArchiveSettings(
            protocol,
            LOOPBACK,
            port,
            access.user,
            access.key,
            self.depot.known_hosts,
            access.password,
            limits=self.options.archive_limits,
            return_channel=self.options.return_channel,
        )

    # -- what runs against it ------------------------------------------------------------------------

    @property
    def titulaire_url(self) -> str:
        return self.titulaire_server.url

    @property
    def token_url(self) -> str:
        return f"{self.issuer.url}/token"

    def credentials(self, client_id: str = "asp-recette") -> ClientCredentials:
        client = self.clients[client_id]
        return ClientCredentials(self.token_url, client.client_id, client.client_secret, client.scopes)

    def asp_client(
        self,
        client_id: str = "asp-recette",
        headers: dict[str, str] | None = None,
        meter: DepositMeter | None = None,
        major: Major | None = None,
    ) -> AspClient:
        """An ASP client of the reference titulaire (of `major`, by default the current one on its clock's date)."""
        verify = self.certs.client_context(self.certs.asp_client)
        auth: httpx.Auth = ClientCredentialsAuth(self.credentials(client_id), verify)
        major = major or self.current_major()
        return AspClient(self.titulaire_url, verify, auth, headers, major=major, meter=meter)

    def current_major(self) -> Major:
        """The major the project's calendar serves on the reference's date (its clock)."""
        return current_major(self.options.clock().date())

    def security_target(self, headers: Mapping[str, str] | None = None, major: Major | None = None) -> SecurityTarget:
        """The reference titulaire API (`major`, by default the current one), as the security suite probes it:
        every check applies."""
        return SecurityTarget(
            url=self.titulaire_url,
            ca=self.certs.ca,
            client=self.certs.asp_client,
            tokens=ClientCredentialsSource(self.credentials(), self.certs.client_context(self.certs.asp_client)),
            probe=health_probe(major or self.current_major()),
            forger=functools.partial(self.issuer.issue, "asp-recette"),
            client_authority=self.certs.authority,
            headers=dict(headers or {}),
        )

    def callback_security_target(self) -> SecurityTarget:
        """The mock ASP callback API, probed as the titulaire calls it."""
        verify = self.certs.client_context(self.certs.titulaire_client)
        return SecurityTarget(
            url=self.callback_server.url,
            ca=self.certs.ca,
            client=self.certs.titulaire_client,
            tokens=ClientCredentialsSource(ClientCredentials(self.token_url, CALLBACK_CLIENT_ID), verify),
            forger=functools.partial(self.issuer.issue, CALLBACK_CLIENT_ID),
            client_authority=self.certs.authority,
            probe=ProbeRequest("POST", callback_path(), b"{}", "application/json"),
            scope=CALLBACK_SCOPES[0],
            other_scope="depots:lire",
        )

    def inspector(self) -> CallbackInspector:
        """The recette team's reader of the mock callback (its own client certificate)."""
        return CallbackInspector(self.callback_server.url, self.certs.client_context(self.certs.recette_client))

    def state(self) -> dict[str, Any]:
        """The JSON description scripts rely on (`recette serve --state-file`); keys are stable."""
        return {
            "titulaire": {"url": self.titulaire_url},
            "asp_callback": {"url": self.callback_server.url, "journal": str(self.recorder.journal)},
            "tls": {
                "ca": str(self.certs.ca),
                "client_cert": str(self.certs.asp_client.cert),
                "client_key": str(self.certs.asp_client.key),
                "recette_cert": str(self.certs.recette_client.cert),
                "recette_key": str(self.certs.recette_client.key),
            },
            "smtp": {"host": self.smtp.host, "port": self.smtp.port},
            **({"depot": self.depot.state()} if self.depot else {}),
            "oauth": {
                "token_url": self.token_url,
                "issuer": self.issuer.url,
                "clients": [
                    {"client_id": c.client_id, "client_secret": c.client_secret, "scopes": list(c.scopes)}
                    for c in self.clients.values()
                ],
            },
        }

    def write_state(self, path: Path) -> None:
        """Write `state()` to `path`, readable by its owner alone from its creation (it holds client secrets)."""
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)  # a file that existed keeps its mode through O_CREAT
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(json.dumps(self.state(), indent=2, ensure_ascii=False) + "\n")
