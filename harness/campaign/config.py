"""Settings of a run against a real titulaire platform (`recette run --target/--config`).

They come from a TOML file (`recette.example.toml` documents it), then from environment variables, then
from the command line, each source overriding the previous one: three pydantic-settings sources, validated
by the `RunConfig` settings model. Everything is checked before any
traffic: a missing or contradictory setting, an unreadable file or certificate is a `ConfigError` whose
one-line message names the setting (its TOML key and its variable). The client secret never appears in a
repr, a message or a summary.

| TOML key             | variable                | meaning                                                     |
| -------------------- | ----------------------- | ----------------------------------------------------------- |
| `target.url`         | `RECETTE_TARGET`        | base URL of the titulaire API (https)                       |
| `target.ca`          | `RECETTE_CA`            | CA bundle that signs the target's server certificate        |
| `target.contract`    | `RECETTE_CONTRACT`      | its contract (2.0, 3.0.x) to fuzz; default: the ASP's (major) |
| `target.version`     | `RECETTE_VERSION`       | the major to qualify (`v1`, `v2`); default: the calendar's |
| `target.versions`    | `RECETTE_VERSIONS`      | the platform's published calendar (versions.yaml); default: ours |
| `client.cert`        | `RECETTE_CLIENT_CERT`   | our client certificate (PEM), issued by the agreed CA       |
| `client.key`         | `RECETTE_CLIENT_KEY`    | its private key (PEM, not encrypted)                        |
| `oauth.token_url`    | `RECETTE_TOKEN_URL`     | token endpoint of the target's issuer…                      |
| `oauth.discovery_url`| `RECETTE_DISCOVERY_URL` | …or its OIDC discovery document (exactly one of the two)    |
| `oauth.client_id`    | `RECETTE_CLIENT_ID`     | our client at that issuer                                   |
| `oauth.client_secret`| `RECETTE_CLIENT_SECRET` | its secret (client_secret_basic); prefer the variable       |
| `oauth.auth_method`  | `RECETTE_AUTH_METHOD`   | `client_secret_basic` (default) or `tls_client_auth`        |
| `oauth.scopes`       | `RECETTE_SCOPES`        | scopes to ask for (list, or space-separated in the variable)|
| `callback.url`       | `RECETTE_CALLBACK_URL`  | public base URL where the target reaches our return receiver|
| `callback.cert`      | `RECETTE_CALLBACK_CERT` | the receiver's server certificate for that URL (optional)   |
| `callback.key`       | `RECETTE_CALLBACK_KEY`  | its private key (with `callback.cert`)                      |
| `callback.client_ca` | `RECETTE_CALLBACK_CLIENT_CA` | CA of the target's client certificates (default: `target.ca`) |
| `target.titulaire`   | `RECETTE_TITULAIRE`     | the titulaire's name, as the PV names it                    |
| `target.platform`    | `RECETTE_PLATFORM_NAME` | the platform's name (product, instance), for the PV        |
| `target.environment` | `RECETTE_ENVIRONMENT_LABEL` | the environment's label; default « environnement de recette » |
| `incidents.mail`     | `RECETTE_INCIDENT_MAIL` | the ASP's incident address the platform alerts           |
| `oauth.read_client_id` | `RECETTE_READ_CLIENT_ID` | a client registered with the read scope only (scope check) |
| `oauth.read_client_secret` | `RECETTE_READ_CLIENT_SECRET` | its secret (client_secret_basic); prefer the variable |
| `oauth.other_audience` | `RECETTE_OTHER_AUDIENCE` | an audience the issuer mints for our client, not the API's |
| `oauth.test_signing_key` | `RECETTE_TEST_SIGNING_KEY` | the recette issuer's test signing key (PEM or JWK) |
| `oauth.test_key_id`  | `RECETTE_TEST_KEY_ID`   | the `kid` of that key (default: the JWK's own)              |
| `oauth.ca`           | `RECETTE_OAUTH_CA`      | CA of the target's issuer (default: `target.ca`)       |
| `oauth.parametres`   | `RECETTE_TOKEN_PARAMETERS` | extra token-form parameters (table)   |
| `target.service_contract` | `RECETTE_SERVICE_CONTRACT` | its service contract (bounds the waits); default: ASP's |
| `callback.listen`    | `RECETTE_CALLBACK_LISTEN` | address:port of the ASP side; default 127.0.0.1:(port of the URL) |
| `callback.dir`       | `RECETTE_CALLBACK_DIR`  | the ASP side's folder (`recette certificats`)               |
| `incidents.smtp_listen` | `RECETTE_SMTP_LISTEN` | address:port of its SMTP catcher; default: port + 1 |
| `callback.issuer`    | `RECETTE_CALLBACK_ISSUER` | the ASP's identity provider of return tokens (with callback.dir) |
| `callback.issuer_ca` | `RECETTE_CALLBACK_ISSUER_CA` | CA of that provider (default: the system's trust store) |
| `callback.audience`  | `RECETTE_CALLBACK_AUDIENCE` | audience of the return tokens (default: `callback.url`) |

`RECETTE_CONFIG` names the TOML file when no path is given.
"""

from __future__ import annotations

import ipaddress
import json
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from harness.foundations.calendar import Calendar, PolicyError, load_calendar
from harness.foundations.document import unusable_contract
from harness.foundations.majors import Major, project_calendar
from harness.foundations.servers import LOOPBACK
from harness.foundations.service_contract import ServiceContractError, load_service_contract
from harness.foundations.tls import CertificatePair, client_context
from harness.foundations.tokens import ClientCredentials
from harness.security import ClientCredentialsSource, SecurityTarget, health_probe, write_probe
from harness.security.forging import IssuerKeyForger, SigningKeyError, load_signing_key
from mocks.depot import Listening
from mocks.depot.archives import Sizes

CONFIG_VARIABLE = "RECETTE_CONFIG"
ENV_PREFIX = "RECETTE_"
AUTH_METHODS = ("client_secret_basic", "tls_client_auth")
DEFAULT_SCOPES = ("depots:ecrire", "depots:lire")
MASK = "***"
RECETTE_ENVIRONMENT = "environnement de recette"
"""The label of the qualification platform the specification asks for (billed apart)."""


class ConfigError(ValueError):
    """A run configuration that cannot work; its message is one line naming the setting."""


@dataclass(frozen=True)
class Setting:
    """One setting: its `RunConfig` field and its TOML key; its variable is the field's, prefixed."""

    field: str
    key: str

    @property
    def variable(self) -> str:
        return f"{ENV_PREFIX}{self.field.upper()}"

    @property
    def label(self) -> str:
        return f"{self.key} ({self.variable})"


SETTINGS = tuple(
    Setting(name, key)
    for name, key in (
        ("target", "target.url"),
        ("ca", "target.ca"),
        ("contract", "target.contract"),
        ("version", "target.version"),
        ("versions", "target.versions"),
        ("client_cert", "client.cert"),
        ("client_key", "client.key"),
        ("token_url", "oauth.token_url"),
        ("discovery_url", "oauth.discovery_url"),
        ("client_id", "oauth.client_id"),
        ("client_secret", "oauth.client_secret"),
        ("auth_method", "oauth.auth_method"),
        ("scopes", "oauth.scopes"),
        ("callback_url", "callback.url"),
        ("callback_cert", "callback.cert"),
        ("callback_key", "callback.key"),
        ("callback_client_ca", "callback.client_ca"),
        ("titulaire", "target.titulaire"),
        ("platform_name", "target.platform"),
        ("environment_label", "target.environment"),
        ("incident_mail", "incidents.mail"),
        ("read_client_id", "oauth.read_client_id"),
        ("read_client_secret", "oauth.read_client_secret"),
        ("other_audience", "oauth.other_audience"),
        ("test_signing_key", "oauth.test_signing_key"),
        ("test_key_id", "oauth.test_key_id"),
        ("oauth_ca", "oauth.ca"),
        ("token_parameters", "oauth.parametres"),
        ("service_contract", "target.service_contract"),
        ("callback_listen", "callback.listen"),
        ("callback_dir", "callback.dir"),
        ("smtp_listen", "incidents.smtp_listen"),
        ("callback_issuer", "callback.issuer"),
        ("callback_issuer_ca", "callback.issuer_ca"),
        ("callback_audience", "callback.audience"),
    )
)
BY_FIELD = {setting.field: setting for setting in SETTINGS}
BY_KEY = {setting.key: setting for setting in SETTINGS}
PATHS = (
    "ca",
    "contract",
    "versions",
    "client_cert",
    "client_key",
    "callback_cert",
    "callback_key",
    "callback_client_ca",
    "test_signing_key",
    "oauth_ca",
    "service_contract",
    "callback_dir",
    "callback_issuer_ca",
)


# -- the checks of one value (a ValueError's message follows the setting's label) -------------------------


def https_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"une URL https:// est attendue (schéma reçu : {parts.scheme or 'aucun'})")
    if parts.username or parts.password:
        raise ValueError("pas d'identifiants dans l'URL")
    return value.rstrip("/")


def readable_file(path: Path) -> Path:
    path = path.expanduser()
    try:
        with path.open("rb"):
            pass
    except OSError as error:
        raise ValueError(f"fichier illisible : {path} ({error.strerror})") from None
    return path


def ca_bundle(path: Path) -> Path:
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=path)
    except (ssl.SSLError, ValueError):
        raise ValueError(f"aucun certificat d'AC lisible dans {path}") from None
    return path


def usable_contract(path: Path) -> Path:
    if why := unusable_contract(path):
        raise ValueError(f"contrat inutilisable : {why}")
    return path


def known_major(value: str) -> str:
    Major(value)  # raises UnknownMajor (a ValueError) naming the known ones
    return value


def readable_calendar(path: Path) -> Path:
    try:
        load_calendar(path)
    except PolicyError as error:
        raise ValueError(f"calendrier des versions inutilisable : {error}") from None
    return path


def readable_service_contract(path: Path) -> Path:
    try:
        load_service_contract(path)
    except ServiceContractError as error:
        raise ValueError(f"contrat de service inutilisable : {error}") from None
    return path


def calendar_of(config: RunConfig | None) -> Calendar:
    """The calendar a run holds the platform to: its own (`target.versions`), else the project's."""
    return load_calendar(config.versions) if config and config.versions else project_calendar()


def known_auth_method(value: str) -> str:
    if value not in AUTH_METHODS:
        raise ValueError(f"« {value} » inconnu ; valeurs permises : {', '.join(AUTH_METHODS)}")
    return value


def scope_list(value: Any) -> Any:
    """Scopes given as one string are separated by spaces or commas."""
    return tuple(value.replace(",", " ").split()) if isinstance(value, str) else value


def some_scopes(scopes: tuple[str, ...]) -> tuple[str, ...]:
    if not scopes:
        raise ValueError("au moins une portée est attendue")
    return scopes


def mail_address(value: str) -> str:
    if value.count("@") != 1 or not all(value.split("@")) or any(c.isspace() for c in value):
        raise ValueError(f"une adresse de courriel est attendue (reçu : {value!r})")
    return value


def signing_key_file(path: Path) -> Path:
    try:
        load_signing_key(path)
    except SigningKeyError as error:
        raise ValueError(str(error)) from None
    return path


def socket_address(value: str) -> str:
    """`address:port`, the address an IPv4 or IPv6 (`[::1]:8443`) one, the port 0 to 65535."""
    split_address(value)
    return value


def split_address(value: str) -> tuple[str, int]:
    host, separator, port = value.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    try:
        ipaddress.ip_address(host)
        number = int(port)
    except ValueError:
        raise ValueError(f"adresse:port attendu, l'adresse en chiffres (reçu : {value!r})") from None
    if not separator or not 0 <= number <= 65535:
        raise ValueError(f"adresse:port attendu, le port de 0 à 65535 (reçu : {value!r})")
    return host, number


HttpsUrl = Annotated[str, AfterValidator(https_url)]
File = Annotated[Path, AfterValidator(readable_file)]
Scopes = Annotated[tuple[str, ...], BeforeValidator(scope_list), AfterValidator(some_scopes)]


# -- the recette proxy: the `[proxy]` table (`recette proxy --config`, `recette run --journal --config`) ------
#
# | TOML key                    | meaning                                                                   |
# | --------------------------- | ------------------------------------------------------------------------- |
# | `proxy.ecoute_titulaire`    | address:port of the leg in front of the titulaire (default 127.0.0.1:0)   |
# | `proxy.ecoute_retour`       | address:port of the leg in front of the ASP's callback API (same default) |
# | `proxy.corps_max`           | bodies kept beside the journal up to this many bytes (default 65536)      |
# | `proxy.refuser_hors_limite` | refuse a transaction over 20 MB with the 413 problem+json (default false) |
#
# Port 0 is a free one. Its variable, `RECETTE_PROXY`, holds the table as JSON.


class ProxyTable(BaseModel):
    """The `[proxy]` table."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    ecoute_titulaire: Annotated[str, AfterValidator(socket_address)] = f"{LOOPBACK}:0"
    ecoute_retour: Annotated[str, AfterValidator(socket_address)] = f"{LOOPBACK}:0"
    corps_max: int = Field(default=64 * 1024, ge=0)
    refuser_hors_limite: bool = False


def proxy_table(value: Any) -> Any:
    return checked_table(ProxyTable, "proxy", value)


def checked_table(model: type[BaseModel], name: str, value: Any) -> Any:
    """The `[name]` table (or its JSON, from the variable) checked by `model`, its first defect one line
    naming its key."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValueError(f"un objet JSON est attendu (la table [{name}])") from None
    if not isinstance(value, dict):
        return value
    try:
        return model(**value)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        message = str(first.get("ctx", {}).get("error", first["msg"]))
        raise ValueError(f"[{name}] {where} : {message}" if where else message) from None


class RunConfig(BaseSettings):
    """A checked configuration of a run against a real titulaire platform.

    Built directly, it takes only its arguments; `load_config` gives it the TOML file and the environment.
    """

    model_config = SettingsConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    target: HttpsUrl
    ca: Annotated[File, AfterValidator(ca_bundle)]
    contract: Annotated[File, AfterValidator(usable_contract)] | None = None
    """The platform's own contract, fuzzed by the `contrat` suite; None: the ASP's, of the run's major."""
    version: Annotated[str, AfterValidator(known_major)] | None = None
    """The major to qualify; None: the calendar's current one on the run's date."""
    versions: Annotated[File, AfterValidator(readable_calendar)] | None = None
    """The platform's version calendar (`versions.yaml`), its live headers are judged by; None: the ASP's."""
    client_cert: File
    client_key: File
    token_url: HttpsUrl | None = None
    discovery_url: HttpsUrl | None = None
    client_id: str
    client_secret: str = Field(default="", repr=False)
    auth_method: Annotated[str, AfterValidator(known_auth_method)] = AUTH_METHODS[0]
    scopes: Scopes = DEFAULT_SCOPES
    callback_url: HttpsUrl
    callback_cert: File | None = None
    """The receiver's certificate for `callback_url`; None: one signed by the run's CA, for 127.0.0.1."""
    callback_key: File | None = None
    callback_client_ca: File | None = None
    """CA of the client certificates the target presents to our receiver; None: `ca`."""
    titulaire: str | None = None
    """The titulaire's name (the PV's « Titulaire »); None: not given."""
    platform_name: str | None = None
    """The platform's name (product or instance) the PV identifies; None: not given."""
    environment_label: str = RECETTE_ENVIRONMENT
    """The environment the platform runs in, as the PV labels it."""
    incident_mail: Annotated[str, AfterValidator(mail_address)] | None = None
    """The ASP's incident address the platform alerts; None: the incident mails are a reservation."""
    read_client_id: str | None = None
    """A client of the issuer registered with the read scope only; None: down-scoping alone, else a reservation."""
    read_client_secret: str = Field(default="", repr=False)
    other_audience: str | None = None
    """An audience the issuer mints for our client that is not the API's (the wrong-audience check)."""
    test_signing_key: Annotated[File, AfterValidator(signing_key_file)] | None = None
    """The recette issuer's test signing key (PEM or JWK): the checks that forge tokens; None: reservations."""
    test_key_id: str | None = None
    """The `kid` forged tokens carry (default: the key's own)."""
    oauth_ca: Annotated[File, AfterValidator(ca_bundle)] | None = None
    """CA of the target's issuer (discovery and token endpoint); None: `ca`."""
    token_parameters: dict[str, str] = Field(default_factory=dict)
    """Extra form parameters of every token request (`audience`, `resource`…), which many issuers require."""
    service_contract: Annotated[File, AfterValidator(readable_service_contract)] | None = None
    """The platform's published service contract, whose deadlines bound every wait; None: the ASP's."""
    callback_listen: Annotated[str, AfterValidator(socket_address)] | None = None
    """Where the ASP side (receiver, its issuer) listens; None: 127.0.0.1 on the port of `callback_url`."""
    callback_dir: Path | None = None
    """The ASP side's folder (`recette certificats`): its CA, keys and the titulaire's return client; None: a CA
    per run, no token on the returns (a warning)."""
    smtp_listen: Annotated[str, AfterValidator(socket_address)] | None = None
    """Where the ASP's SMTP catcher listens (with `callback_dir`); None: the receiver's address, its port + 1."""
    callback_issuer: Annotated[str, AfterValidator(https_url)] | None = None
    """The ASP's own identity provider (OIDC issuer), whose tokens the receiver demands on every return; None:
    with `callback_dir`, the ASP-side issuer at `{callback_url}/oidc`."""
    callback_issuer_ca: Annotated[File, AfterValidator(ca_bundle)] | None = None
    """CA of `callback_issuer` (discovery and keys); None: the system's trust store."""
    callback_audience: str | None = None
    """The audience of the return tokens; None: `callback_url`."""

    def receiver_address(self) -> tuple[str, int]:
        """Where the receiver listens: `callback.listen`, else 127.0.0.1 on the port of `callback.url`."""
        if self.callback_listen:
            return split_address(self.callback_listen)
        return LOOPBACK, urlsplit(self.callback_url).port or 443

    def smtp_address(self) -> tuple[str, int]:
        """Where the SMTP catcher listens: `incidents.smtp_listen`, else the receiver's address and port + 1."""
        if self.smtp_listen:
            return split_address(self.smtp_listen)
        host, port = self.receiver_address()
        return host, port + 1 if port else 0

    archives: Annotated[ArchiveExchange, BeforeValidator(archive_exchange)] | None = None
    """The archive mode (`[archives]`): how the platform reaches the harness's deposit server; None: no archives."""
    proxy: Annotated[ProxyTable, BeforeValidator(proxy_table)] | None = None
    """The recette proxy (`[proxy]`): its listen addresses, kept bodies, over-limit refusal; None: the defaults."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only the arguments: `load_config` merges the file, the environment and the command line."""
        return (init_settings,)

    @model_validator(mode="after")
    def consistent(self) -> RunConfig:
        """The settings that go together: one token endpoint, the secret of the method, matching pairs."""
        token, discovery = BY_FIELD["token_url"].label, BY_FIELD["discovery_url"].label
        secret, method = BY_FIELD["client_secret"].label, BY_FIELD["auth_method"].label
        cert, key = BY_FIELD["client_cert"].label, BY_FIELD["client_key"].label
        if self.token_url and self.discovery_url:
            raise ValueError(f"réglages contradictoires : {token} et {discovery} ; n'en donner qu'un")
        if not self.token_url and not self.discovery_url:
            raise ValueError(f"réglage manquant : {token} ou {discovery}")
        if self.auth_method == "client_secret_basic" and not self.client_secret:
            raise ValueError(f"réglage manquant : {secret} (méthode client_secret_basic)")
        if self.auth_method == "tls_client_auth" and self.client_secret:
            raise ValueError(f"réglages contradictoires : {secret} avec {method} = tls_client_auth")
        if not key_matches(self.client_cert, self.client_key):
            raise ValueError(
                f"réglages contradictoires : {cert} et {key} ; certificat ou clé illisible, "
                "clé chiffrée, ou clé qui n'est pas celle du certificat"
            )
        if (self.callback_cert is None) != (self.callback_key is None):
            cert, key = BY_FIELD["callback_cert"].label, BY_FIELD["callback_key"].label
            raise ValueError(f"réglages incomplets : {cert} et {key} vont ensemble")
        self._consistent_recette_means()
        self._consistent_returns_issuer()
        return self

    def _consistent_recette_means(self) -> None:
        """The read-only client has an id with its secret; a key id goes with a signing key."""
        reader, reader_secret = BY_FIELD["read_client_id"].label, BY_FIELD["read_client_secret"].label
        if self.read_client_secret and not self.read_client_id:
            raise ValueError(f"réglage manquant : {reader} (avec {reader_secret})")
        if self.read_client_id and self.auth_method == "client_secret_basic" and not self.read_client_secret:
            raise ValueError(f"réglage manquant : {reader_secret} (méthode client_secret_basic)")
        if self.test_key_id and not self.test_signing_key:
            key, kid = BY_FIELD["test_signing_key"].label, BY_FIELD["test_key_id"].label
            raise ValueError(f"réglage manquant : {key} (avec {kid})")

    def _consistent_returns_issuer(self) -> None:
        """The ASP's identity provider comes with the ASP side's folder; its CA and audience with it."""
        issuer = BY_FIELD["callback_issuer"].label
        if self.callback_issuer and not self.callback_dir:
            raise ValueError(f"réglage manquant : {BY_FIELD['callback_dir'].label} (avec {issuer})")
        for companion in ("callback_issuer_ca", "callback_audience"):
            if getattr(self, companion) and not self.callback_issuer:
                raise ValueError(f"réglage manquant : {issuer} (avec {BY_FIELD[companion].label})")

    def ssl_context(self) -> ssl.SSLContext:
        """TLS ≥ 1.2, trusting `ca`, presenting our client certificate."""
        return client_context(self.ca, CertificatePair(self.client_cert, self.client_key))

    def issuer_context(self) -> ssl.SSLContext:
        """TLS ≥ 1.2 towards the target's issuer: trusting `oauth_ca` (default `ca`), with our client certificate."""
        return client_context(self.oauth_ca or self.ca, CertificatePair(self.client_cert, self.client_key))

    def credentials(self, token_url: str, scopes: tuple[str, ...] | None = None) -> ClientCredentials:
        """Our client at the target's issuer, asking for `scopes` (default: the configured ones)."""
        parameters = tuple(self.token_parameters.items())
        return ClientCredentials(token_url, self.client_id, self.client_secret, scopes or self.scopes, parameters)

    def security_target(self, major: Major, headers: Mapping[str, str] | None = None) -> SecurityTarget:
        """The platform's `major`, as the security suite probes it: tokens from its issuer, and what the vendor
        provided for its recette environment (test signing key, read-only client, another audience)."""
        pair = CertificatePair(self.client_cert, self.client_key)
        verify = self.issuer_context()
        source = ClientCredentialsSource(self.credentials(self.token_url or ""), verify, self.discovery_url)
        reader = None
        if self.read_client_id:
            # no scope asked: the client's own, the read scope alone
            read_credentials = ClientCredentials(
                self.token_url or "",
                self.read_client_id,
                self.read_client_secret,
                (),
                tuple(self.token_parameters.items()),
            )
            reader = ClientCredentialsSource(read_credentials, verify, self.discovery_url)
        forger = None
        if self.test_signing_key:
            forger = IssuerKeyForger(load_signing_key(self.test_signing_key), source, self.test_key_id)
        return SecurityTarget(
            self.target,
            self.ca,
            pair,
            source,
            health_probe(major),
            forger=forger,
            read_tokens=reader,
            write=write_probe(major),
            other_audience=self.other_audience,
            audience_tokens=source.token_for_audience,
            headers=dict(headers or {}),
        )

    def summary(self) -> dict[str, Any]:
        """The settings for a report or a log, the secret masked."""
        shown: dict[str, Any] = {}
        for setting in SETTINGS:
            value = getattr(self, setting.field)
            if setting.field in ("client_secret", "read_client_secret"):
                value = MASK if value else None
            if isinstance(value, dict):
                value = dict(value) or None
            shown[setting.key] = list(value) if isinstance(value, tuple) else str(value) if value else value
        return shown


def key_matches(cert: Path, key: Path) -> bool:
    """The certificate and the key load, the key is not encrypted, and it is the certificate's."""
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_cert_chain(cert, key, password=no_password)
    except (ssl.SSLError, ValueError, TypeError):
        return False
    return True


def no_password() -> bytes:
    """Never prompt for the passphrase of an encrypted key: refuse it."""
    raise ValueError("encrypted private key")


# -- the three sources -----------------------------------------------------------------------------------


def load_config(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> RunConfig:
    """The run configuration: the TOML file, then the environment, then `overrides` (None values ignored)."""
    environ = os.environ if environ is None else environ
    if path is None and environ.get(CONFIG_VARIABLE):
        path = Path(environ[CONFIG_VARIABLE])
    given = {name: value for name, value in (overrides or {}).items() if value not in (None, "", ())}
    values = toml_source(path)() if path is not None else {}
    values |= Environment(RunConfig, environ)()
    values |= InitSettingsSource(RunConfig, given)()
    try:
        return RunConfig(**values)
    except ValidationError as error:
        raise config_error(error.errors()[0]) from None


def toml_source(path: Path) -> InitSettingsSource:
    """A `recette.toml`, read by pydantic-settings: its tables flattened to settings, relative paths from its folder."""
    if not path.exists():
        raise ConfigError(f"fichier de configuration illisible : {path} (fichier absent)")
    try:
        document = TomlConfigSettingsSource(RunConfig, toml_file=path).toml_data
    except OSError as error:
        raise ConfigError(f"fichier de configuration illisible : {path} ({error.strerror or error})") from None
    except ValueError as error:  # tomllib.TOMLDecodeError, UnicodeDecodeError
        raise ConfigError(f"fichier de configuration illisible : {path} : {error}") from None
    values: dict[str, Any] = {}
    for key, value in leaves(document, tables=TABLE_KEYS):
        setting = BY_KEY.get(key)
        if setting is None:
            raise ConfigError(f"clé inconnue dans {path} : {key} (clés permises : {', '.join(BY_KEY)})")
        values[setting.field] = path.parent / value if setting.field in PATHS and isinstance(value, str) else value
        if setting.field == "archives" and isinstance(value, dict):
            values["archives"] = archive_table_paths(value, path.parent)
    return InitSettingsSource(RunConfig, values)


TABLE_KEYS = frozenset({"oauth.parametres"})
"""Settings whose value is a TOML table (kept whole, not flattened)."""


def leaves(table: Mapping[str, Any], prefix: str = "", tables: frozenset[str] = frozenset()) -> list[tuple[str, Any]]:
    """(dotted key, value) of every leaf of a TOML document; a table named in `tables` is one leaf."""
    found = []
    for name, value in table.items():
        if isinstance(value, dict) and f"{prefix}{name}" not in tables:
            found += leaves(value, f"{prefix}{name}.", tables)
        else:
            found.append((f"{prefix}{name}", value))
    return found


class Environment(PydanticBaseSettingsSource):
    """The `RECETTE_*` variables of `environ`, blank ones ignored.

    Not pydantic-settings' `EnvSettingsSource`: it reads only `os.environ`, and the environment is an input here.
    """

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self.environ = environ

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        value = self.environ.get(f"{ENV_PREFIX}{field_name.upper()}", "")
        return (value if value.strip() else None), field_name, False

    def __call__(self) -> dict[str, Any]:
        found = {name: self.get_field_value(field, name)[0] for name, field in self.settings_cls.model_fields.items()}
        return {name: value for name, value in found.items() if value is not None}


# -- a refusal, in one line ------------------------------------------------------------------------------


def config_error(error: ErrorDetails) -> ConfigError:
    """The `ConfigError` of pydantic's first error: the setting's label, then what is wrong with it."""
    if not error["loc"]:  # from `RunConfig.consistent`, whose message names its settings
        return ConfigError(str(error["ctx"]["error"]))
    name = str(error["loc"][0])
    if name not in BY_FIELD:
        return ConfigError(f"réglage inconnu en ligne de commande : {name}")
    label = BY_FIELD[name].label
    if error["type"] == "missing":
        return ConfigError(f"réglage manquant : {label}")
    if error["type"] == "value_error":
        return ConfigError(f"{label} : {error['ctx']['error']}")
    expected = "une liste de portées (chaînes)" if name == "scopes" else "une chaîne de caractères"
    return ConfigError(f"{label} : {expected} est attendue")


# -- the archive mode: the `[archives]` table ------------------------------------------------------------
#
# | TOML key                     | meaning                                                                 |
# | ---------------------------- | ----------------------------------------------------------------------- |
# | `archives.protocole`         | `sftp` or `ftps`: how the platform reaches the ASP's deposit server      |
# | `archives.cle_publique`      | SFTP: the platform's SSH public key (OpenSSH format)                    |
# | `archives.certificat_client` | FTPS: its client certificate, or the CA that signs it (PEM)             |
# | `archives.mot_de_passe`      | FTPS: the password agreed with it                                       |
# | `archives.canal_retour`      | `api` (the ASP's callback API) or `archive` (`sortant/<id>.retour.zip`) |
# | `archives.adresse`           | where the deposit server listens (default 127.0.0.1)                    |
# | `archives.port`              | its port for the protocol (default: a free one, written in the reports) |
# | `archives.utilisateur`       | the platform's user (space) on the server (default `titulaire`)         |
# | `archives.limites`           | the sizes agreed (`entrees`, `octets_par_entree`, `octets_total`, `taux`)|

ARCHIVE_PATHS = ("cle_publique", "certificat_client")
ReturnChannel = Literal["api", "archive"]
RETURN_CHANNELS: tuple[str, ...] = get_args(ReturnChannel)
"""Return channels the harness judges (`archive_convention.RETURN_CHANNELS`): the callback API, or a return
archive put back on the deposit server and acknowledged there."""


class ArchiveSizes(BaseModel):
    """The sizes agreed with the titulaire (`[archives.limites]`): the unsafe archives go just beyond each."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    entrees: int = Field(gt=0)
    octets_par_entree: int = Field(gt=0)
    octets_total: int = Field(gt=0)
    taux: float = Field(gt=1)


class ArchiveExchange(BaseModel):
    """The `[archives]` table: the platform's protocol and credentials on the ASP's deposit server."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    protocole: Literal["sftp", "ftps"]
    cle_publique: File | None = None
    certificat_client: Annotated[File, AfterValidator(ca_bundle)] | None = None
    mot_de_passe: str | None = Field(default=None, repr=False)
    canal_retour: ReturnChannel = "api"
    adresse: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535)
    utilisateur: str = Field(default="titulaire", pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
    limites: ArchiveSizes | None = None

    @model_validator(mode="after")
    def credentials_of_the_protocol(self) -> ArchiveExchange:
        if self.protocole == "sftp" and self.cle_publique is None:
            raise ValueError("réglage manquant : archives.cle_publique (protocole sftp)")
        if self.protocole == "ftps" and (self.certificat_client is None or not self.mot_de_passe):
            raise ValueError(
                "réglages manquants : archives.certificat_client et archives.mot_de_passe (protocole ftps)"
            )
        return self

    def listening(self) -> Listening:
        """How the harness's deposit server listens for the platform."""
        ports = {"sftp_port": self.port} if self.protocole == "sftp" else {"ftps_port": self.port}
        return Listening(
            self.adresse,
            authorized_key=self.cle_publique,
            client_ca=self.certificat_client,
            password=self.mot_de_passe,
            **ports,
        )

    def sizes(self) -> Sizes | None:
        if (limits := self.limites) is None:
            return None
        return Sizes(limits.octets_par_entree, limits.octets_total, limits.entrees, limits.taux)


def archive_exchange(value: Any) -> Any:
    """The `[archives]` table (or its JSON, from the variable) checked, its first defect one line naming its key."""
    return checked_table(ArchiveExchange, "archives", value)


def archive_table_paths(table: dict[str, Any], base: Path) -> dict[str, Any]:
    """The table's file paths read from the TOML file's folder, like every other path of the file."""
    return {
        key: base / value if key in ARCHIVE_PATHS and isinstance(value, str) else value for key, value in table.items()
    }


ARCHIVES_SETTING = Setting("archives", "archives.*")
"""The whole table is one setting (its variable, `RECETTE_ARCHIVES`, holds it as JSON)."""
SETTINGS = (*SETTINGS, ARCHIVES_SETTING)
BY_FIELD["archives"] = BY_KEY["archives"] = ARCHIVES_SETTING
TABLE_KEYS = TABLE_KEYS | {"archives"}
RunConfig.model_rebuild()


# the `[proxy]` table, defined before `RunConfig` (its field), is one setting too
PROXY_SETTING = Setting("proxy", "proxy.*")
"""The whole table is one setting, like `[archives]`."""
SETTINGS = (*SETTINGS, PROXY_SETTING)
BY_FIELD["proxy"] = BY_KEY["proxy"] = PROXY_SETTING
TABLE_KEYS = TABLE_KEYS | {"proxy"}
