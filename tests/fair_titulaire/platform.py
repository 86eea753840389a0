"""The fair titulaire, started: its API server, its verifier of the ASP's tokens and its return courier."""

from __future__ import annotations

import json
import ssl
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import TracebackType

from tests.fair_titulaire.api import Api
from tests.fair_titulaire.bearer import BearerVerifier
from tests.fair_titulaire.delivery import CallbackSettings, Courier
from tests.fair_titulaire.records import Store
from tests.fair_titulaire.variations import Variation
from tests.fair_titulaire.wire import FairServer


@dataclass(frozen=True)
class FairSettings:
    """What the platform is configured with for its recette environment."""

    ca: Path
    """Our trust store: our own CA (our issuer's and our client certificates) and the ASP side's, handed over
    (`ac-asp.pem`: its callback server certificate and its client certificate of our API)."""
    server_cert: Path
    server_key: Path
    client_cert: Path
    """Our certificate towards the ASP's callback API and its issuer."""
    client_key: Path
    issuer: str
    """Our issuer: its JWKS signs the ASP's tokens on our API."""
    audience: str
    returns: Path
    """The ASP's handed-over return client (`client-retours.json`): return URL, token endpoint, client, secret."""
    retention: timedelta = timedelta(days=92)
    smtp: tuple[str, int] | None = None
    incident_mail: str = "incidents-recette@asp.example"
    variation: Variation = field(default_factory=Variation)


class FairTitulaire:
    """`with FairTitulaire(settings) as platform:` serves on `platform.url` until the block ends."""

    def __init__(self, settings: FairSettings) -> None:
        self.settings = settings
        self.store = Store()
        client = ssl.create_default_context(cafile=str(settings.ca))
        client.load_cert_chain(settings.client_cert, settings.client_key)
        handed = json.loads(settings.returns.read_text(encoding="utf-8"))
        callback = CallbackSettings(
            handed["url_retours"],
            handed["point_de_jeton"],
            (handed["client_id"], handed["client_secret"]),
            client,
            settings.smtp,
            settings.incident_mail,
        )
        self.courier = Courier(callback, self.store, settings.variation)
        verifier = BearerVerifier(settings.issuer, settings.audience, client)
        api = Api(verifier, self.store, self.courier, settings.variation, settings.retention)
        self.server = FairServer(self._server_context(), api)

    @property
    def url(self) -> str:
        return self.server.url

    def _server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.settings.server_cert, self.settings.server_key)
        context.load_verify_locations(cafile=str(self.settings.ca))
        context.verify_mode = ssl.CERT_REQUIRED
        return context

    def __enter__(self) -> FairTitulaire:
        self.server.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.courier.close()
        self.server.stop()
