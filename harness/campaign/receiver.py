"""The ASP side for a real titulaire platform: our return receiver (the mock ASP callback API), its issuer and
its SMTP catcher, listening where `callback.listen` says (default: 127.0.0.1, the port of `callback.url`).

The platform reaches the receiver at `callback.url` (directly, or through a proxy forwarding to the listening
address): it presents a client certificate signed by `callback.client_ca` (default: `target.ca`).

With `callback.dir` (made by `recette certificats`), the ASP side is the one the vendor was handed in advance:
its CA signs our server certificate (`callback.cert` overrides it), the ASP-side issuer at `{callback.url}/oidc`
(discovery, JWKS, token endpoint) gives the titulaire's return client `retours:ecrire` tokens whose audience is
`callback.url`, the receiver refuses any return without a valid one (401/403 problem+json, recorded), and the
SMTP catcher (`incidents.smtp_listen`, default the receiver's port + 1) catches the platform's incident mails.
With `callback.issuer` too, the tokens demanded are those of the ASP's own identity provider (its discovery and
keys, over TLS trusting `callback.issuer_ca`), for `callback.audience` (default `callback.url`), and the ASP-side
issuer is not served. Without `callback.dir`, a CA made for the run and no token on the returns (a warning says so).

Only our inspector, with the recette team's certificate, reads what the receiver received; its journal file is
`journal` (the run's `asp/journal-retours.jsonl`, kept with its reports).
"""

from __future__ import annotations

import ipaddress
import ssl
from contextlib import ExitStack
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.routing import Mount

from harness.campaign.asp_side import ISSUER_PATH, RETURNS_SCOPE, AspSide, audience, server_names
from harness.campaign.config import RunConfig
from harness.foundations.asp_client import CallbackInspector
from harness.foundations.running import StackedRunning
from harness.foundations.servers import LOOPBACK, BackgroundServer
from harness.foundations.tls import CertificatePair, RunCertificates, issued_by
from harness.foundations.token_verifier import TokenVerifier
from mocks.asp import JOURNAL_FILE, ReturnRecorder
from mocks.asp import create_app as create_callback_app
from mocks.oidc import Issuer
from mocks.oidc import create_app as create_issuer_app
from mocks.smtp import SmtpCatcher

WITHOUT_ASP_SIDE = (
    "callback.dir absent : l'AC du récepteur est faite pour cette exécution (la plateforme ne peut pas s'y fier "
    "d'avance) et les retours ne sont pas authentifiés par OAuth 2.0 ; préparer le côté ASP avec "
    "« recette certificats --config »"
)


class ReturnReceiver(StackedRunning):
    """Started for a run against an external target (or alone, `recette serve --cote-asp`)."""

    def __init__(self, config: RunConfig, directory: Path, journal: Path | None = None) -> None:
        """`directory`: the run's certificates when there is no `callback.dir`; `journal`: the journal file
        (default: in `directory`). An `AspSideError` when `callback.dir` is not a prepared folder."""
        self.config = config
        host, _ = config.receiver_address()
        self.side = AspSide.load(config.callback_dir, config.callback_url, host) if config.callback_dir else None
        self.certs = (
            self.side.certs if self.side else RunCertificates.create(directory, server_names(config.callback_url, host))
        )
        self.recorder = ReturnRecorder(journal or directory / JOURNAL_FILE)
        self.issuer: Issuer | None = None
        self.smtp: SmtpCatcher | None = None
        self.server: BackgroundServer | None = None
        self._stack = ExitStack()

    def _start(self) -> None:
        host, port = self.config.receiver_address()
        inspectors = {self.certs.recette_thumbprint()}
        if self.side is None:
            app = create_callback_app(self.recorder, inspectors=inspectors)
        else:
            app = self._asp_side_app(self.side, inspectors)
        server = BackgroundServer(app, self._server_context(), "recepteur-retours", port=port, host=host)
        self.server = self._stack.enter_context(server)

    def _asp_side_app(self, side: AspSide, inspectors: set[str]) -> Starlette:
        """The SMTP catcher started; the receiver demanding tokens of the ASP's identity provider
        (`callback.issuer`), or else of the ASP-side issuer, mounted beside it."""
        smtp_host, smtp_port = self.config.smtp_address()
        self.smtp = self._stack.enter_context(SmtpCatcher(host=smtp_host, port=smtp_port))
        routes: list[Mount] = []
        if self.config.callback_issuer:
            verifier = identity_provider_verifier(self.config)
        else:
            self.issuer = Issuer([side.client], signing_key=side.signing_key)
            self.issuer.url = side.issuer_url
            routes.append(Mount(ISSUER_PATH, create_issuer_app(self.issuer)))
            verifier = TokenVerifier(
                side.issuer_url,
                side.client.audience,
                ssl.create_default_context(),
                realm="asp",
                transport=httpx.ASGITransport(app=Starlette(routes=routes)),  # our issuer, in this process
            )
        callback = create_callback_app(
            self.recorder, inspectors=inspectors, mails=self.smtp.messages, verifier=verifier
        )
        return Starlette(routes=[*routes, Mount("/", callback)])

    def inspector(self, url: str | None = None) -> CallbackInspector:
        """Reads the receiver at its listening address (or at `url`, e.g. `callback.url`), pinning its own
        certificate (whatever its CA and names)."""
        assert self.server is not None, "récepteur non démarré"
        context = self.certs.client_context(self.certs.recette_client)
        if self.config.callback_cert is not None:
            context.check_hostname = False  # reached at its address, not at its public name; the certificate is pinned
            context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
            context.load_verify_locations(cafile=self.config.callback_cert)
        host = LOOPBACK if ipaddress.ip_address(self.server.host).is_unspecified else self.server.host
        return CallbackInspector(url or f"https://{host}:{self.server.port}", context)

    def announcement(self) -> list[str]:
        """What the vendor configures, and where each part of the ASP side listens (printed before any suite)."""
        assert self.server is not None, "récepteur non démarré"
        url = self.config.callback_url
        lines = [f"Récepteur de retours   : {url}/v1/retours (écoute {self.server.host}:{self.server.port})"]
        if self.side is None:
            return [*lines, f"Attention : {WITHOUT_ASP_SIDE}"]
        assert self.smtp is not None
        if self.config.callback_issuer:
            issuer = (
                f"{self.config.callback_issuer} (fournisseur d'identité de l'ASP, portée {RETURNS_SCOPE}, "
                f"audience {returns_audience(self.config)})"
            )
        else:
            issuer = (
                f"{self.side.issuer_url} (client {self.side.client.client_id}, "
                f"portée {self.side.client.scopes[0]}, audience {self.side.client.audience})"
            )
        return [
            *lines,
            f"Émetteur des retours   : {issuer}",
            f"Courriels d'incident   : SMTP {self.smtp.host}:{self.smtp.port}",
            f"AC du côté ASP         : {self.certs.ca}",
        ]

    def client_authority(self) -> CertificatePair | None:
        """The ASP side's CA (certificate and key) when it issued our client certificate of the titulaire API (the
        one `recette certificats` hands over): the security suite can then present an expired certificate of the
        agreed CA. None without `callback.dir`, or when `client.cert` comes from another CA."""
        authority = self.side.certs.authority if self.side else None
        if authority is None or not issued_by(self.config.client_cert, authority.cert):
            return None
        return authority

    def server_pair(self) -> CertificatePair:
        """The certificate the ASP side presents to the platform: `callback.cert`, else one of the run's CA."""
        config = self.config
        if config.callback_cert and config.callback_key:
            return CertificatePair(config.callback_cert, config.callback_key)
        return self.certs.server

    def _server_context(self) -> ssl.SSLContext:
        config = self.config
        pair = self.server_pair()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(pair.cert, pair.key)
        context.load_verify_locations(cafile=config.callback_client_ca or config.ca)
        context.load_verify_locations(cafile=self.certs.ca)  # our own inspector
        context.verify_mode = ssl.CERT_REQUIRED
        return context


def identity_provider_verifier(config: RunConfig) -> TokenVerifier:
    """The check of the return tokens issued by the ASP's identity provider (`callback.issuer`), reached over
    TLS trusting `callback.issuer_ca` (default: the system's trust store)."""
    assert config.callback_issuer is not None
    context = ssl.create_default_context(cafile=config.callback_issuer_ca)
    return TokenVerifier(config.callback_issuer, returns_audience(config), context, realm="asp")


def returns_audience(config: RunConfig) -> str:
    """The audience the return tokens must carry: `callback.audience`, else `callback.url`."""
    return config.callback_audience or audience(config.callback_url)
