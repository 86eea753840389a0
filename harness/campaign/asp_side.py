"""The ASP side's folder (`callback.dir`): made once by `recette certificats`, reused by every run.

It holds what must outlive one run for a platform on another machine to trust the ASP side in advance:

    tls/                     the ASP side's CA and its certificates (`RunCertificates`): the receiver's server
                             certificate (for the host of `callback.url` and the listening address), the ASP's
                             client certificate of the titulaire API, the recette team's; private keys mode 600
    emetteur/                the ASP-side issuer's signing key and the titulaire's client for returns (600)
    pour-le-titulaire/       what to hand to the vendor: the CA to trust, the ASP client certificate to
                             accept, the return client's settings (its secret: mode 600)

Only the host of `callback.url` (and the listening address) goes into it; the issuer is
`{callback.url}/oidc`, the audience of return tokens `callback.url` itself.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from joserfc.jwk import ECKey, RSAKey

from harness.foundations.tls import SERVER_NAMES, RunCertificates
from mocks.oidc import RegisteredClient, SigningKey, generate_signing_key

ISSUER_PATH = "/oidc"
RETURNS_SCOPE = "retours:ecrire"
RETURNS_CLIENT_ID = "titulaire-retours"
TLS = "tls"
SIGNING_KEY = Path("emetteur") / "cle-de-signature.jwk.json"
RETURNS_CLIENT = Path("emetteur") / "client-retours.json"
HANDOVER = "pour-le-titulaire"
HANDED_CA = "ac-asp.pem"
HANDED_CLIENT_CERT = "certificat-client-asp.pem"
HANDED_SETTINGS = "client-retours.json"
"""The return client's settings for the vendor (issuer, token endpoint, client id and secret, scope, audience)."""


class AspSideError(Exception):
    """The folder cannot serve: one line naming it and what to do."""


@dataclass(frozen=True)
class AspSide:
    """The ASP side's certificates, issuer key and return client, from its folder."""

    directory: Path
    callback_url: str
    certs: RunCertificates
    signing_key: SigningKey
    client: RegisteredClient
    """The titulaire's client at the ASP-side issuer (client_secret_basic, scope `retours:ecrire`)."""

    @classmethod
    def provision(cls, directory: Path, callback_url: str, listen_host: str) -> AspSide:
        """The folder's content, made where missing (idempotent); the server certificate re-issued by the same CA
        when it does not cover `callback_url`'s host or `listen_host`."""
        directory.mkdir(parents=True, exist_ok=True)
        if RunCertificates.existing(directory / TLS) is None:
            RunCertificates.create(directory / TLS, server_names(callback_url, listen_host))
        if not (directory / SIGNING_KEY).is_file():
            write_private(directory / SIGNING_KEY, json.dumps(generate_signing_key().as_dict(private=True)))
        if not (directory / RETURNS_CLIENT).is_file():
            client = {"client_id": RETURNS_CLIENT_ID, "client_secret": secrets.token_urlsafe(24)}
            write_private(directory / RETURNS_CLIENT, json.dumps(client))
        side = cls.load(directory, callback_url, listen_host)
        side.write_handover()
        return side

    @classmethod
    def load(cls, directory: Path, callback_url: str, listen_host: str) -> AspSide:
        """The folder `provision` made; an `AspSideError` when it is not (yet) one."""
        certs = RunCertificates.existing(directory / TLS)
        try:
            key = json.loads((directory / SIGNING_KEY).read_text(encoding="utf-8"))
            client = json.loads((directory / RETURNS_CLIENT).read_text(encoding="utf-8"))
            signing_key: SigningKey = (RSAKey if key.get("kty") == "RSA" else ECKey).import_key(key)
        except (OSError, ValueError, KeyError, AttributeError) as error:
            raise AspSideError(unprovisioned(directory, error)) from None
        if certs is None:
            raise AspSideError(unprovisioned(directory, f"certificats absents de {directory / TLS}"))
        registered = RegisteredClient(
            str(client["client_id"]), str(client["client_secret"]), (RETURNS_SCOPE,), audience(callback_url)
        )
        certs = certs.with_server_names(server_names(callback_url, listen_host))
        return cls(directory, audience(callback_url), certs, signing_key, registered)

    @property
    def issuer_url(self) -> str:
        return self.callback_url + ISSUER_PATH

    @property
    def token_url(self) -> str:
        return f"{self.issuer_url}/token"

    def returns_settings(self) -> dict[str, Any]:
        """What the vendor configures for its returns (the secret included: the handover file is mode 600)."""
        return {
            "url_retours": f"{self.callback_url}/v1/retours",
            "emetteur": self.issuer_url,
            "point_de_jeton": self.token_url,
            "client_id": self.client.client_id,
            "client_secret": self.client.client_secret,
            "methode": "client_secret_basic",
            "portee": RETURNS_SCOPE,
            "audience": self.client.audience,
        }

    def write_handover(self) -> Path:
        """`pour-le-titulaire/`: the CA to trust, the ASP client certificate to accept, the return client."""
        folder = self.directory / HANDOVER
        folder.mkdir(exist_ok=True)
        shutil.copyfile(self.certs.ca, folder / HANDED_CA)
        shutil.copyfile(self.certs.asp_client.cert, folder / HANDED_CLIENT_CERT)
        write_private(folder / HANDED_SETTINGS, json.dumps(self.returns_settings(), indent=2, ensure_ascii=False))
        return folder


def audience(callback_url: str) -> str:
    """The callback API's identifier: its base URL, without a trailing slash."""
    return callback_url.rstrip("/")


def server_names(callback_url: str, listen_host: str) -> list[str]:
    """The receiver's certificate names: the host of `callback_url`, the listening address, and loopback."""
    host = urlsplit(callback_url).hostname or ""
    listening = () if ipaddress.ip_address(listen_host).is_unspecified else (listen_host,)
    return list(dict.fromkeys(name for name in (host, *listening, *SERVER_NAMES) if name))


def unprovisioned(directory: Path, why: object) -> str:
    return f"dossier du côté ASP non préparé : {directory} ({why}) ; lancer d'abord « recette certificats --config »"


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path`, readable by its owner alone from its creation."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text + "\n")
