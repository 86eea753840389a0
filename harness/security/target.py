"""What the security suite probes: a target URL, our TLS material, a token source and, maybe, a forger.

`Environment.security_target()` points the suite at the reference titulaire of an embedded environment
(every check applies: we hold the CA key and the issuer's signing keys). `RunConfig.security_target()`
points it at a real platform: we hold our client certificate, a client of its issuer, and what the vendor
provides for its recette environment (`recette.toml`): the issuer's test signing key (a forger), a read-only
client, an audience of another API. A check that needs what was not provided is a reservation naming it.
"""

from __future__ import annotations

import dataclasses
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import httpx

from harness.foundations.majors import Major
from harness.foundations.tls import CertificatePair, client_context
from harness.foundations.tokens import ClientCredentials, ClientCredentialsAuth, discover_token_endpoint

TOKEN_TIMEOUT_SECONDS = 10.0
Forger = Callable[..., str]
"""`forger(scopes=None, **claims)`: a token signed by a key the target trusts, with claims overridden
(a claim set to None is left out; `signing_key=` signs with another key). `Issuer.issue` bound to a client."""


class TokenSource(Protocol):
    """Valid access tokens for the target, as its clients obtain them."""

    def token(self, scopes: Sequence[str] | None = None) -> str:
        """A token with `scopes` (the client's usual scopes when None); `TokenRequestError` when refused."""
        ...


class ClientCredentialsSource:
    """Tokens from an OAuth 2.0 token endpoint (client_credentials), one cached client per set of scopes."""

    def __init__(self, credentials: ClientCredentials, verify: ssl.SSLContext, discovery_url: str | None = None):
        self.credentials = credentials
        self._verify = verify
        self._discovery_url = discovery_url
        self._auths: dict[tuple[str, ...], ClientCredentialsAuth] = {}

    def __repr__(self) -> str:
        return f"ClientCredentialsSource(client_id={self.credentials.client_id!r})"

    def token(self, scopes: Sequence[str] | None = None) -> str:
        """A token with `scopes` (the client's usual ones when None), cached per set of scopes."""
        wanted = self.credentials.scopes if scopes is None else tuple(scopes)
        if wanted not in self._auths:
            credentials = dataclasses.replace(self._resolved(), scopes=wanted)
            self._auths[wanted] = ClientCredentialsAuth(credentials, self._verify)
        return self._auths[wanted].access_token()

    def token_for_audience(self, audience: str) -> str:
        """A token for `audience` instead of the API: asked with RFC 8707 `resource` and the common `audience`
        parameter (an issuer ignores the parameters it does not know, RFC 6749 §3.2)."""
        verify = self._verify

        def post(url: str, data: dict[str, str], headers: dict[str, str]) -> httpx.Response:
            with httpx.Client(verify=verify, timeout=TOKEN_TIMEOUT_SECONDS) as http:
                return http.post(url, data=data | {"resource": audience, "audience": audience}, headers=headers)

        return ClientCredentialsAuth(self._resolved(), verify, post=post).access_token()

    def _resolved(self) -> ClientCredentials:
        """The credentials, with the token endpoint found by discovery the first time when needed."""
        if self._discovery_url is not None and not self.credentials.token_url:
            endpoint = discover_token_endpoint(self._discovery_url, self._verify)
            self.credentials = dataclasses.replace(self.credentials, token_url=endpoint)
        return self.credentials


class ExaminedAnswers(Protocol):
    """Error answers the campaign received outside the suite, examined for leaks (`leaks.ErrorAnswers`)."""

    def findings(self) -> tuple[int, list[str]]:
        """How many were examined, and the description of every leak found in them."""
        ...


@dataclass(frozen=True)
class ProbeRequest:
    """The protected operation the suite calls: it needs `SecurityTarget.scope` and has no side effect."""

    method: str
    path: str
    """Under the major probed (`/v2/sante`): the campaign builds it from the run's major."""
    body: bytes | None = None
    content_type: str | None = None


def health_probe(major: Major) -> ProbeRequest:
    """The probe of a titulaire API: the health route of `major`, readable with `depots:lire`."""
    return ProbeRequest("GET", major.path("/sante"))


UNKNOWN_DEPOSIT = "00000000-0000-4000-8000-000000000000"
"""An idDepot no titulaire gave: asking for its retransmission changes nothing."""


def write_probe(major: Major) -> ProbeRequest:
    """An operation of `major` that needs `depots:ecrire` and has no side effect: the retransmission of a
    deposit that does not exist (a correct API checks the scope before it looks the deposit up)."""
    return ProbeRequest("POST", major.path(f"/depots/{UNKNOWN_DEPOSIT}/retransmissions"))


@dataclass(frozen=True)
class SecurityTarget:
    """An API under test, and what the suite holds to probe it."""

    url: str
    """Base URL of the API (https://host:port)."""
    ca: Path
    """CA bundle trusted for the target's server certificate."""
    client: CertificatePair
    """Our client certificate, the one the target accepts (mutual TLS)."""
    tokens: TokenSource | None
    """Valid tokens for `probe`; None: the token checks cannot run."""
    probe: ProbeRequest
    """The protected operation probed (the run's major's health route on a titulaire)."""
    forger: Forger | None = None
    """Signs tokens with a key the target trusts; None when its issuer is not ours."""
    client_authority: CertificatePair | None = None
    """The CA (certificate and private key) whose client certificates the target trusts, when we hold it."""
    scope: str = "depots:lire"
    """The scope `probe` requires."""
    other_scope: str = "depots:ecrire"
    """A scope that does not grant `probe` (insufficient scope)."""
    read_tokens: TokenSource | None = None
    """Tokens of a client registered with `scope` alone (`oauth.read_client_id`): refused on `write`."""
    write: ProbeRequest | None = None
    """An operation that needs `other_scope`, probed with a read-only token (None: not probed)."""
    other_audience: str | None = None
    """An audience the issuer mints for our client that is not the API's (`oauth.other_audience`)."""
    audience_tokens: Callable[[str], str] | None = None
    """Asks the issuer for a token of our client for another audience (None: it cannot be asked)."""
    campaign_errors: ExaminedAnswers | None = None
    """The error answers the rest of the campaign received: the leak check judges them with its own."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Sent with every request (the run's billing tags)."""
    timeout_seconds: float = 10.0

    def verify(self) -> ssl.SSLContext:
        """TLS ≥ 1.2, trusting the target's CA, presenting our client certificate."""
        return client_context(self.ca, self.client)
