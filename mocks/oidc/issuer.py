"""State of the mock OIDC issuer (émetteur de jetons): registered clients, signing keys, issued tokens.

Clients are registered from configuration (a list of `RegisteredClient`): each authenticates with its secret
(client_secret_basic or client_secret_post), or, when registered with a certificate subject or thumbprint,
with its TLS client certificate alone (`tls_client_auth`, RFC 8705 §2.1); the tokens of the latter are
bound to that certificate (`cnf: {"x5t#S256": …}`, RFC 8705 §3).

Access tokens are JWTs (RFC 9068, `typ: at+jwt`) signed RS256 with joserfc by the active key. Two keys are
always published: the active one and a standby one, announced ahead of use. `rotate()` makes the standby
key active, keeps the retired key published for as long as the tokens it signed may still be valid, and
announces a fresh standby key (so a verifier meets a `kid` it does not know at the rotation after next).
"""

from __future__ import annotations

import hmac
import json
import threading
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, KeyParameters, KeySet, OctKey, OKPKey, RSAKey

from harness.foundations.clock import Clock, utc_now
from harness.foundations.tls import certificate_subject, certificate_thumbprint

SIGNING_ALGORITHM = "RS256"
ACCESS_TOKEN_TYPE = "at+jwt"
SigningKey = RSAKey | ECKey
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "tls_client_auth")


@dataclass(frozen=True)
class RegisteredClient:
    """A client allowed the client_credentials grant, with the scopes (portées) it may ask for.

    A client with a `tls_subject` or a `tls_thumbprint` authenticates by its certificate only
    (`tls_client_auth`); its `client_secret` is then empty and never accepted.
    """

    client_id: str
    client_secret: str = field(repr=False)
    scopes: tuple[str, ...]
    audience: str
    """The `aud` of its tokens: the API the client calls."""
    tls_subject: str | None = None
    """Subject DN (RFC 4514) its certificate must carry; the issuer's TLS layer checks the chain."""
    tls_thumbprint: str | None = None
    """Or the `x5t#S256` thumbprint of its certificate."""

    @property
    def tls_client_auth(self) -> bool:
        return bool(self.tls_subject or self.tls_thumbprint)

    def presents(self, certificate: str) -> bool:
        """True when `certificate` (PEM) is the one this `tls_client_auth` client is registered with."""
        if self.tls_thumbprint is not None:
            return hmac.compare_digest(self.tls_thumbprint.encode(), certificate_thumbprint(certificate).encode())
        return self.tls_subject is not None and certificate_subject(certificate) == self.tls_subject


def generate_signing_key(algorithm: str = SIGNING_ALGORITHM) -> SigningKey:
    """A fresh private signing key (RS256 or ES256) whose `kid` is its RFC 7638 thumbprint."""
    parameters: KeyParameters = {"alg": algorithm, "use": "sig"}
    if algorithm == "RS256":
        return RSAKey.generate_key(2048, parameters, auto_kid=True)
    if algorithm == "ES256":
        return ECKey.generate_key("P-256", parameters, auto_kid=True)
    raise ValueError(f"unsupported signing algorithm {algorithm!r}")


class Issuer:
    """The issuer's clients and keys. Set `url` once its server is started (the port is known only then)."""

    def __init__(
        self,
        clients: Iterable[RegisteredClient],
        token_ttl_seconds: int = 300,
        clock: Clock | None = None,
        signing_key: SigningKey | None = None,
    ) -> None:
        """`signing_key`: the active key (a persistent one, e.g. the ASP side's); None: a fresh one."""
        self.clients = {client.client_id: client for client in clients}
        self.token_ttl_seconds = token_ttl_seconds
        self.clock = clock or utc_now
        self.url = ""
        self.requests: Counter[str] = Counter()
        """Requests served, by path (tests count token and JWKS requests)."""
        self.tokens_issued: Counter[str] = Counter()
        """Tokens delivered by the token endpoint, by client_id."""
        self.auth_methods: Counter[str] = Counter()
        """Successful client authentications at the token endpoint, by method."""
        self._lock = threading.Lock()
        self._active = signing_key or generate_signing_key()
        self._standby = generate_signing_key()
        self._retired: list[tuple[SigningKey, datetime]] = []

    # -- keys ----------------------------------------------------------------------------------------

    @property
    def active_kid(self) -> str:
        return str(self._active.kid)

    @property
    def standby_kid(self) -> str:
        return str(self._standby.kid)

    def rotate(self) -> None:
        """The standby key becomes active; the retired one stays published until its tokens expire."""
        with self._lock:
            until = self.clock() + timedelta(seconds=self.token_ttl_seconds)
            self._retired.append((self._active, until))
            self._active, self._standby = self._standby, generate_signing_key()

    def export_signing_key(self, path: Path, form: str = "jwk") -> Path:
        """Writes the active signing key, private part included, as `pem` or `jwk`: what a vendor's recette
        issuer hands over as its test signing key (`oauth.test_signing_key`)."""
        with self._lock:
            key = self._active
        if form == "pem":
            path.write_bytes(key.as_pem(private=True))
        else:
            path.write_text(json.dumps(key.as_dict(private=True)), encoding="utf-8")
        return path

    def jwks(self) -> dict[str, Any]:
        """The published key set: public members only."""
        now = self.clock()
        with self._lock:
            self._retired = [(key, until) for key, until in self._retired if until > now]
            keys: list[OctKey | RSAKey | ECKey | OKPKey] = [self._active, self._standby]
            keys += [key for key, _ in self._retired]
        return dict(KeySet(keys).as_dict(private=False))

    # -- clients and tokens --------------------------------------------------------------------------

    def authenticate(self, client_id: str, client_secret: str) -> RegisteredClient | None:
        """The client, when the secret matches (constant-time comparison); never a `tls_client_auth` client."""
        client = self.clients.get(client_id)
        if client is None or client.tls_client_auth or not client.client_secret:
            return None
        if not hmac.compare_digest(client.client_secret.encode(), client_secret.encode()):
            return None
        return client

    def authenticate_certificate(self, client_id: str, certificate: str) -> RegisteredClient | None:
        """The `tls_client_auth` client, when `certificate` (PEM, verified by TLS) is the one registered."""
        client = self.clients.get(client_id)
        if client is None or not client.tls_client_auth or not client.presents(certificate):
            return None
        return client

    def issue(
        self,
        client_id: str,
        scopes: Iterable[str] | None = None,
        *,
        signing_key: SigningKey | None = None,
        **claim_overrides: Any,
    ) -> str:
        """A signed access token for a registered client (all its scopes by default).

        Tests forge edge cases with `claim_overrides` (a claim set to None is left out) and with
        `signing_key` (for instance a key from `generate_signing_key()`, which is not published). The token
        endpoint binds the tokens of `tls_client_auth` clients with `cnf={"x5t#S256": …}`.
        """
        client = self.clients.get(client_id)
        if client is None:
            raise ValueError(f"unknown client {client_id!r}")
        if not self.url:
            raise RuntimeError("the issuer URL is not set: start its server first")
        now = int(self.clock().timestamp())
        claims: dict[str, Any] = {
            "iss": self.url,
            "sub": client_id,
            "client_id": client_id,
            "aud": client.audience,
            "iat": now,
            "nbf": now,
            "exp": now + self.token_ttl_seconds,
            "jti": uuid.uuid4().hex,
            "scope": " ".join(client.scopes if scopes is None else scopes),
        }
        claims = {name: value for name, value in (claims | claim_overrides).items() if value is not None}
        with self._lock:
            key = signing_key or self._active
        header = {"alg": key.alg or SIGNING_ALGORITHM, "kid": key.kid, "typ": ACCESS_TOKEN_TYPE}
        return jwt.encode(header, claims, key)

    def discovery(self) -> dict[str, Any]:
        """The OpenID Provider metadata (`/.well-known/openid-configuration`)."""
        if not self.url:
            raise RuntimeError("the issuer URL is not set: start its server first")
        scopes = sorted({scope for client in self.clients.values() for scope in client.scopes})
        return {
            "issuer": self.url,
            "token_endpoint": f"{self.url}/token",
            "jwks_uri": f"{self.url}/jwks",
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
            "tls_client_certificate_bound_access_tokens": True,
            "scopes_supported": scopes,
            "id_token_signing_alg_values_supported": [SIGNING_ALGORITHM],
            "subject_types_supported": ["public"],
            "claims_supported": ["iss", "sub", "client_id", "aud", "exp", "iat", "nbf", "jti", "scope", "cnf"],
        }
