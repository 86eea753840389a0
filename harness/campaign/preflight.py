"""The pre-flight of a run against a real platform: what the campaign needs, tried once before any suite.

In order, each bounded by short timeouts: the platform answers over mutual TLS (its server certificate
verified against `target.ca`, our client certificate accepted), its issuer gives us a token (discovery or
token URL), the health route of each major the run qualifies answers 200 within its contract, and our
return receiver is reachable at `callback.url` from here when that name resolves on this machine, and the ASP's
identity provider (`callback.issuer`, when given) publishes its keys. The
first failure is a `PreflightError` whose one line names the setting to correct and the cause
(`target.url (RECETTE_TARGET) : connexion refusée par 127.0.0.1:9`): the run then cannot run (exit 2), and
writes no report. What the steps learn (the platform's name, the contract version of each major) is kept in
`PreflightFindings` for the reports.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from harness.campaign.config import BY_FIELD, RunConfig
from harness.campaign.receiver import identity_provider_verifier
from harness.campaign.target import ExternalTarget
from harness.foundations.contract_errors import describe
from harness.foundations.contracts import ContractRequest, ContractResponse, openapi
from harness.foundations.majors import Major
from harness.foundations.token_verifier import ISSUER_FAILURES
from harness.foundations.tokens import (
    ClientCredentials,
    ClientCredentialsAuth,
    TokenRequestError,
    discover_token_endpoint,
)

CONNECT_SECONDS = 3.0
TIMEOUT = httpx.Timeout(5.0, connect=CONNECT_SECONDS)
"""Each request of the pre-flight: a closed port or a silent host fails it in seconds, never minutes."""


class PreflightError(Exception):
    """The run cannot run: `setting` (a `RunConfig` field) is the one to correct, `cause` says why."""

    def __init__(self, setting: str, cause: str) -> None:
        super().__init__(f"{BY_FIELD[setting].label} : {cause}")
        self.setting = setting
        self.cause = cause


@dataclass
class PreflightFindings:
    """What the pre-flight learned, for the reports."""

    platform: str | None = None
    """How the platform names itself (the `Server` header of its health answer), when it does."""
    contract_versions: dict[str, str] = field(default_factory=dict)
    """Each major checked → the `version` its health answer gives."""
    checks: list[str] = field(default_factory=list)
    """One French line per step passed (or not checkable from here)."""


def preflight(target: ExternalTarget, majors: Sequence[Major]) -> PreflightFindings:
    """Every step in order; the first failure raises `PreflightError`."""
    config, findings = target.config, PreflightFindings()
    checked = [major for major in majors if not target.not_required(major.number)]
    headers = target.tags.headers()
    verify = config.ssl_context()  # the platform itself, even when `--journal` puts the proxy in front of it
    with httpx.Client(verify=verify, timeout=TIMEOUT, headers=headers) as http:
        findings.checks.append(_mutual_tls(http, config, (checked or list(majors))[0]))
        auth = _token(http, config, verify, findings)
        for major in checked:
            _health(http, config, auth, major, findings)
    findings.checks.append(_receiver_reachable(target))
    if config.callback_issuer:
        findings.checks.append(_returns_issuer(config))
    return findings


def _mutual_tls(http: httpx.Client, config: RunConfig, major: Major) -> str:
    """Any HTTP answer (without a token: 401 expected) proves the handshake both ways."""
    _reach(http, config.target + major.path("/sante"), "target", "ca")
    return f"TLS mutuel avec {_where(config.target)} : certificat du serveur reconnu, certificat client accepté"


def _token(http: httpx.Client, config: RunConfig, verify: ssl.SSLContext, findings: PreflightFindings) -> httpx.Auth:
    """A token from the platform's issuer, its endpoint discovered when `oauth.discovery_url` is given."""
    issuer = _issuer(config)
    _reach(http, config.token_url or config.discovery_url or "", issuer, "ca")
    try:
        token_url = config.token_url or discover_token_endpoint(config.discovery_url or "", verify, CONNECT_SECONDS)
    except TokenRequestError as error:
        raise PreflightError(issuer, str(error)) from None
    credentials = ClientCredentials(token_url, config.client_id, config.client_secret, config.scopes)
    auth = ClientCredentialsAuth(credentials, verify, timeout=CONNECT_SECONDS)
    try:
        auth.access_token()
    except TokenRequestError as error:
        raise PreflightError("client_id", str(error)) from None
    except httpx.HTTPError as error:
        raise _unreachable(error, token_url, issuer, "ca") from None
    findings.checks.append(f"Jeton obtenu auprès de {token_url} pour le client {config.client_id}")
    return auth


def _health(http: httpx.Client, config: RunConfig, auth: httpx.Auth, major: Major, findings: PreflightFindings) -> None:
    """The health route of `major` answers 200, within the ASP's contract of that major."""
    path = major.path("/sante")
    try:
        response = http.get(config.target + path, auth=auth)
    except httpx.HTTPError as error:
        raise _unreachable(error, config.target, "target", "ca") from None
    if response.status_code != 200:
        raise _refused(response, f"GET {path}", major, config)
    checked = ContractRequest(major.contract, "GET", path).for_openapi()
    answer = ContractResponse.answered(response.status_code, response.content, response.headers)
    if errors := list(openapi(major.contract).iter_response_errors(checked, answer)):
        where = "; ".join(f"{e['emplacement']} : {e['message']}" for e in describe(errors))
        raise PreflightError("target", f"la réponse de GET {path} sort du contrat de la version {major.name} ({where})")
    version = str(response.json()["version"])
    findings.contract_versions[major.name] = version
    findings.platform = findings.platform or response.headers.get("server")
    findings.checks.append(f"GET {path} : service en état, contrat en version {version}")


def _refused(response: httpx.Response, call: str, major: Major, config: RunConfig) -> PreflightError:
    """The setting a refused health call points to: the issuer (401), the scopes (403), the URL otherwise."""
    status = f"{call} répond {response.status_code}{_problem_code(response)}"
    if response.status_code == 401:
        return PreflightError(_issuer(config), f"{status} : la plateforme refuse les jetons de ce fournisseur")
    if response.status_code == 403:
        return PreflightError("scopes", f"{status} : la portée depots:lire est-elle accordée au client ?")
    if response.status_code == 404:
        return PreflightError("target", f"{status} : la version {major.name} n'est pas servie à cette adresse")
    return PreflightError("target", f"{status} : la plateforme ne se déclare pas en service")


def _issuer(config: RunConfig) -> str:
    """The setting that names the platform's issuer."""
    return "token_url" if config.token_url else "discovery_url"


def _problem_code(response: httpx.Response) -> str:
    try:
        code = response.json().get("code")
    except (ValueError, AttributeError):
        return ""
    return f" « {code} »" if isinstance(code, str) else ""


def _receiver_reachable(target: ExternalTarget) -> str:
    """Our receiver answers its inspector at `callback.url`, as the platform will reach it, when that name
    resolves here; a certificate other than the receiver's (a proxy's) cannot be checked from here."""
    url = target.config.callback_url
    host = urlsplit(url).hostname or ""
    try:
        socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError):
        return f"Récepteur non vérifiable d'ici : {host} ne se résout pas sur cette machine"
    with target.receiver.inspector(url) as inspector:
        try:
            inspector.received()
        except httpx.HTTPError as error:
            failure = _unreachable(error, url, "callback_url", "callback_cert")
            if failure.setting != "callback_url":
                return f"Récepteur non vérifiable d'ici : {failure.cause}"
            raise failure from None
    return f"Récepteur de retours joignable à {url}"


def _returns_issuer(config: RunConfig) -> str:
    """The ASP's identity provider publishes its signing keys (discovery, then JWKS), as the receiver fetches them."""
    issuer = config.callback_issuer or ""
    try:
        count = asyncio.run(identity_provider_verifier(config).load_keys())
    except httpx.HTTPError as error:
        raise _unreachable(error, issuer, "callback_issuer", "callback_issuer_ca") from None
    except ISSUER_FAILURES as error:
        raise PreflightError("callback_issuer", f"découverte OIDC ou clés illisibles ({error})") from None
    return f"Fournisseur d'identité de l'ASP joignable à {issuer} : {count} clé(s) de signature publiée(s)"


def _reach(http: httpx.Client, url: str, setting: str, ca: str) -> httpx.Response:
    """Any HTTP answer of `url`; a `PreflightError` naming `setting` (or `ca`, `client.cert`) otherwise."""
    try:
        return http.get(url)
    except httpx.HTTPError as error:
        raise _unreachable(error, url, setting, ca) from None


def _unreachable(error: httpx.HTTPError, url: str, setting: str, ca: str) -> PreflightError:
    """Why `url` could not be reached, from the root of httpx's error: the setting it points to, in one line."""
    root: BaseException = error
    while (inner := root.__cause__ or root.__context__) is not None:  # httpx → httpcore → the socket's error
        root = inner
    where = _where(url)
    if isinstance(root, ssl.SSLCertVerificationError):
        return PreflightError(ca, f"certificat du serveur {where} non reconnu ({root.verify_message})")
    if isinstance(root, ssl.SSLError):
        return PreflightError("client_cert", f"poignée de main TLS refusée par {where} ({root.reason or root})")
    if isinstance(root, ConnectionRefusedError):
        return PreflightError(setting, f"connexion refusée par {where}")
    if isinstance(root, socket.gaierror):
        return PreflightError(setting, f"nom d'hôte inconnu : {urlsplit(url).hostname}")
    if isinstance(root, TimeoutError) or isinstance(error, httpx.TimeoutException):
        return PreflightError(setting, f"pas de réponse de {where} en {CONNECT_SECONDS:g} s")
    if isinstance(error, httpx.RemoteProtocolError):
        return PreflightError("client_cert", f"{where} a coupé la connexion sans répondre (certificat client refusé ?)")
    return PreflightError(setting, f"{where} injoignable ({type(root).__name__} : {root})")


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 443}"
