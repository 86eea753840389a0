"""Settings of a run against a real titulaire platform (`recette run --target/--config`).

They come from a TOML file (`recette.example.toml` documents it), then from environment variables, then
from the command line, each source overriding the previous one. Everything is checked before any
traffic: a missing or contradictory setting, an unreadable file or certificate is a `ConfigError` whose
one-line message names the setting (its TOML key and its variable). The client secret never appears in a
repr, a message or a summary.

| TOML key             | variable                | meaning                                                     |
| -------------------- | ----------------------- | ----------------------------------------------------------- |
| `target.url`         | `RECETTE_TARGET`        | base URL of the titulaire API (https)                       |
| `target.ca`          | `RECETTE_CA`            | CA bundle that signs the target's server certificate        |
| `target.contract`    | `RECETTE_CONTRACT`      | its contract (2.0, 3.0.x) to fuzz; default: the ASP's v1   |
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

`RECETTE_CONFIG` names the TOML file when no path is given.
"""

from __future__ import annotations

import os
import ssl
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness.foundations.document import unusable_contract
from harness.foundations.tls import CertificatePair, client_context
from harness.foundations.tokens import ClientCredentials
from harness.security import ClientCredentialsSource, SecurityTarget

CONFIG_VARIABLE = "RECETTE_CONFIG"
AUTH_METHODS = ("client_secret_basic", "tls_client_auth")
DEFAULT_SCOPES = ("depots:ecrire", "depots:lire")
MASK = "***"


class ConfigError(ValueError):
    """A run configuration that cannot work; its message is one line naming the setting."""


@dataclass(frozen=True)
class Setting:
    """One setting: its `RunConfig` field, its TOML key and its environment variable."""

    field: str
    key: str
    variable: str

    @property
    def label(self) -> str:
        return f"{self.key} ({self.variable})"


SETTINGS = (
    Setting("target", "target.url", "RECETTE_TARGET"),
    Setting("ca", "target.ca", "RECETTE_CA"),
    Setting("contract", "target.contract", "RECETTE_CONTRACT"),
    Setting("client_cert", "client.cert", "RECETTE_CLIENT_CERT"),
    Setting("client_key", "client.key", "RECETTE_CLIENT_KEY"),
    Setting("token_url", "oauth.token_url", "RECETTE_TOKEN_URL"),
    Setting("discovery_url", "oauth.discovery_url", "RECETTE_DISCOVERY_URL"),
    Setting("client_id", "oauth.client_id", "RECETTE_CLIENT_ID"),
    Setting("client_secret", "oauth.client_secret", "RECETTE_CLIENT_SECRET"),
    Setting("auth_method", "oauth.auth_method", "RECETTE_AUTH_METHOD"),
    Setting("scopes", "oauth.scopes", "RECETTE_SCOPES"),
    Setting("callback_url", "callback.url", "RECETTE_CALLBACK_URL"),
    Setting("callback_cert", "callback.cert", "RECETTE_CALLBACK_CERT"),
    Setting("callback_key", "callback.key", "RECETTE_CALLBACK_KEY"),
    Setting("callback_client_ca", "callback.client_ca", "RECETTE_CALLBACK_CLIENT_CA"),
)
BY_FIELD = {setting.field: setting for setting in SETTINGS}
BY_KEY = {setting.key: setting for setting in SETTINGS}
PATHS = ("ca", "client_cert", "client_key")
OPTIONAL_PATHS = ("contract", "callback_cert", "callback_key", "callback_client_ca")
URLS = ("target", "token_url", "discovery_url", "callback_url")
REQUIRED = ("target", "ca", "client_cert", "client_key", "client_id", "callback_url")


@dataclass(frozen=True)
class RunConfig:
    """A checked configuration of a run against a real titulaire platform."""

    target: str
    ca: Path
    client_cert: Path
    client_key: Path
    client_id: str
    callback_url: str
    token_url: str | None = None
    discovery_url: str | None = None
    client_secret: str = field(default="", repr=False)
    auth_method: str = "client_secret_basic"
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    callback_cert: Path | None = None
    """The receiver's certificate for `callback_url`; None: one signed by the run's CA, for 127.0.0.1."""
    callback_key: Path | None = None
    callback_client_ca: Path | None = None
    """CA of the client certificates the target presents to our receiver; None: `ca`."""
    contract: Path | None = None
    """The platform's own contract, fuzzed by the `contrat` suite; None: the ASP's titulaire contract (v1)."""

    def ssl_context(self) -> ssl.SSLContext:
        """TLS ≥ 1.2, trusting `ca`, presenting our client certificate."""
        return client_context(self.ca, CertificatePair(self.client_cert, self.client_key))

    def security_target(self, headers: Mapping[str, str] | None = None) -> SecurityTarget:
        """The platform, as the security suite probes it: no forger, no CA key, tokens from its issuer."""
        pair = CertificatePair(self.client_cert, self.client_key)
        credentials = ClientCredentials(self.token_url or "", self.client_id, self.client_secret, self.scopes)
        source = ClientCredentialsSource(credentials, client_context(self.ca, pair), self.discovery_url)
        return SecurityTarget(url=self.target, ca=self.ca, client=pair, tokens=source, headers=dict(headers or {}))

    def summary(self) -> dict[str, Any]:
        """The settings for a report or a log, the secret masked."""
        shown: dict[str, Any] = {}
        for setting in SETTINGS:
            value = getattr(self, setting.field)
            if setting.field == "client_secret":
                value = MASK if value else None
            shown[setting.key] = list(value) if isinstance(value, tuple) else str(value) if value else value
        return shown


def load_config(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> RunConfig:
    """The run configuration: the TOML file, then the environment, then `overrides` (None values ignored)."""
    environ = os.environ if environ is None else environ
    if path is None and environ.get(CONFIG_VARIABLE):
        path = Path(environ[CONFIG_VARIABLE])
    values: dict[str, Any] = from_toml(path) if path is not None else {}
    values |= from_environment(environ)
    values |= from_overrides(overrides or {})
    return checked(values)


# -- the three sources -----------------------------------------------------------------------------------


def from_toml(path: Path) -> dict[str, Any]:
    """The settings of a TOML file, relative paths taken from the file's directory."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"fichier de configuration illisible : {path} ({error.strerror or error})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"fichier de configuration illisible : {path} : {error}") from None
    values: dict[str, Any] = {}
    for key, value in flatten(document):
        setting = BY_KEY.get(key)
        if setting is None:
            raise ConfigError(f"clé inconnue dans {path} : {key} (clés permises : {', '.join(BY_KEY)})")
        values[setting.field] = toml_value(setting, value, path.parent)
    return values


def flatten(table: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted key, value) of every leaf of a TOML document."""
    leaves = []
    for name, value in table.items():
        if isinstance(value, dict):
            leaves += flatten(value, f"{prefix}{name}.")
        else:
            leaves.append((f"{prefix}{name}", value))
    return leaves


def toml_value(setting: Setting, value: Any, base: Path) -> Any:
    if setting.field == "scopes":
        if isinstance(value, str):
            return value
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return tuple(value)
        raise ConfigError(f"{setting.label} : une liste de portées (chaînes) est attendue")
    if not isinstance(value, str):
        raise ConfigError(f"{setting.label} : une chaîne de caractères est attendue")
    if setting.field in PATHS + OPTIONAL_PATHS:
        return base / Path(value).expanduser()
    return value


def from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    return {s.field: environ[s.variable] for s in SETTINGS if environ.get(s.variable, "").strip()}


def from_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(overrides) - set(BY_FIELD))
    if unknown:
        raise ConfigError(f"réglage inconnu en ligne de commande : {', '.join(unknown)}")
    return {name: value for name, value in overrides.items() if value not in (None, "", ())}


# -- checks ----------------------------------------------------------------------------------------------


def checked(values: dict[str, Any]) -> RunConfig:
    """The `RunConfig` of merged values, or the `ConfigError` of the first problem found."""
    for name in REQUIRED:
        if not values.get(name):
            raise ConfigError(f"réglage manquant : {BY_FIELD[name].label}")
    check_token_endpoint(values)
    auth_method = check_auth_method(values)
    for name in URLS:
        if values.get(name):
            check_url(name, str(values[name]))
    paths = {name: Path(values[name]).expanduser() for name in PATHS}
    paths |= {name: Path(values[name]).expanduser() for name in OPTIONAL_PATHS if values.get(name)}
    for name, path in paths.items():
        check_file(name, path)
    check_certificates(paths)
    if "contract" in paths and (why := unusable_contract(paths["contract"])):
        raise ConfigError(f"{BY_FIELD['contract'].label} : contrat inutilisable : {why}")
    if bool(paths.get("callback_cert")) != bool(paths.get("callback_key")):
        cert, key = BY_FIELD["callback_cert"], BY_FIELD["callback_key"]
        raise ConfigError(f"réglages incomplets : {cert.label} et {key.label} vont ensemble")
    return RunConfig(
        target=str(values["target"]).rstrip("/"),
        ca=paths["ca"],
        client_cert=paths["client_cert"],
        client_key=paths["client_key"],
        client_id=str(values["client_id"]),
        callback_url=str(values["callback_url"]).rstrip("/"),
        token_url=values.get("token_url"),
        discovery_url=values.get("discovery_url"),
        client_secret=str(values.get("client_secret") or ""),
        auth_method=auth_method,
        scopes=scopes_of(values.get("scopes", DEFAULT_SCOPES)),
        callback_cert=paths.get("callback_cert"),
        callback_key=paths.get("callback_key"),
        callback_client_ca=paths.get("callback_client_ca"),
        contract=paths.get("contract"),
    )


def check_token_endpoint(values: Mapping[str, Any]) -> None:
    token, discovery = BY_FIELD["token_url"], BY_FIELD["discovery_url"]
    if values.get("token_url") and values.get("discovery_url"):
        raise ConfigError(f"réglages contradictoires : {token.label} et {discovery.label} ; n'en donner qu'un")
    if not values.get("token_url") and not values.get("discovery_url"):
        raise ConfigError(f"réglage manquant : {token.label} ou {discovery.label}")


def check_auth_method(values: Mapping[str, Any]) -> str:
    method, secret = BY_FIELD["auth_method"], BY_FIELD["client_secret"]
    value = str(values.get("auth_method") or AUTH_METHODS[0])
    if value not in AUTH_METHODS:
        raise ConfigError(f"{method.label} : « {value} » inconnu ; valeurs permises : {', '.join(AUTH_METHODS)}")
    if value == "client_secret_basic" and not values.get("client_secret"):
        raise ConfigError(f"réglage manquant : {secret.label} (méthode client_secret_basic)")
    if value == "tls_client_auth" and values.get("client_secret"):
        raise ConfigError(f"réglages contradictoires : {secret.label} avec {method.label} = tls_client_auth")
    return value


def check_url(name: str, value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        scheme = parts.scheme or "aucun"
        raise ConfigError(f"{BY_FIELD[name].label} : une URL https:// est attendue (schéma reçu : {scheme})")
    if parts.username or parts.password:
        raise ConfigError(f"{BY_FIELD[name].label} : pas d'identifiants dans l'URL")


def check_file(name: str, path: Path) -> None:
    try:
        with path.open("rb"):
            pass
    except OSError as error:
        raise ConfigError(f"{BY_FIELD[name].label} : fichier illisible : {path} ({error.strerror})") from None


def check_certificates(paths: Mapping[str, Path]) -> None:
    """The CA bundle and our certificate and key load, and the key is the certificate's."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        context.load_verify_locations(cafile=paths["ca"])
    except (ssl.SSLError, ValueError):
        raise ConfigError(f"{BY_FIELD['ca'].label} : aucun certificat d'AC lisible dans {paths['ca']}") from None
    try:
        context.load_cert_chain(paths["client_cert"], paths["client_key"], password=no_password)
    except (ssl.SSLError, ValueError, TypeError):
        cert, key = BY_FIELD["client_cert"], BY_FIELD["client_key"]
        raise ConfigError(
            f"réglages contradictoires : {cert.label} et {key.label} ; certificat ou clé illisible, "
            "clé chiffrée, ou clé qui n'est pas celle du certificat"
        ) from None


def no_password() -> bytes:
    """Never prompt for the passphrase of an encrypted key: refuse it."""
    raise ValueError("encrypted private key")


def scopes_of(value: Any) -> tuple[str, ...]:
    scopes = tuple(value.replace(",", " ").split()) if isinstance(value, str) else tuple(value)
    if not scopes:
        raise ConfigError(f"{BY_FIELD['scopes'].label} : au moins une portée est attendue")
    return scopes
