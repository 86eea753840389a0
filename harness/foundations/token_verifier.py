"""Bearer token check of an API (RFC 6750, JWT access tokens of RFC 9068, certificate binding of RFC 8705).

Used by the reference titulaire API and by the mock ASP callback API. `TokenVerifier.verify()` reads the
`Authorization` header, checks the signature against the issuer's JWKS (found by OIDC discovery, cached,
refreshed once on an unknown `kid`), then the claims (iss, aud, exp, nbf, iat), the binding of a
certificate-bound token (`cnf.x5t#S256`) to the client certificate of the connection, and the scope
(portée). Every refusal is a `Problem` with the RFC 6750 challenge of the API's realm:

- no or malformed Bearer credentials: 401 `authentification-requise`, challenge without error;
- a token that does not verify, or bound to another certificate: 401 `jeton-invalide`, `error="invalid_token"`;
- a valid token without the scope: 403 `droits-insuffisants`, `error="insufficient_scope"`;
- an issuer that cannot be reached when its keys are needed: 503 `service-indisponible`.

Descriptions are short, in French, and say nothing of the internals.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import ssl
import unicodedata
from datetime import datetime
from typing import Any

import httpx
from joserfc import jws, jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import Key, KeySet

from harness.foundations.clock import Clock, utc_now
from harness.foundations.problems import Problem
from harness.foundations.tls import certificate_thumbprint

log = logging.getLogger(__name__)

REALM = "titulaire"
ACCEPTED_ALGORITHMS = ("RS256", "ES256")
DISCOVERY_PATH = "/.well-known/openid-configuration"
BEARER = re.compile(r"Bearer +([A-Za-z0-9\-._~+/]+=*) *", re.IGNORECASE)

MISSING_CREDENTIALS = "Un jeton d'accès Bearer est requis dans l'en-tête Authorization."
UNREADABLE = "Le jeton d'accès n'est pas un JWT signé lisible."
ALGORITHM = "Algorithme de signature non accepté (RS256 ou ES256 attendu)."
UNKNOWN_KEY = "Le jeton est signé par une clé inconnue de l'émetteur."
SIGNATURE = "La signature du jeton est invalide."
EXPIRED = "Le jeton a expiré."
NOT_YET_VALID = "Le jeton n'est pas encore valide."
ISSUER = "Le jeton ne provient pas de l'émetteur attendu."
AUDIENCE = "Le jeton n'est pas destiné à cette API."
CLAIMS = "Une information obligatoire du jeton est absente ou invalide."
BINDING = "Le jeton est lié à un certificat client que cette connexion ne présente pas."
UNAVAILABLE = "Le service d'authentification est momentanément indisponible ; réessayez plus tard."
CLAIM_DESCRIPTIONS = {"iss": ISSUER, "aud": AUDIENCE, "nbf": NOT_YET_VALID, "exp": EXPIRED}
ISSUER_FAILURES = (httpx.HTTPError, JoseError, ValueError, KeyError, TypeError)
"""What fetching an issuer's metadata and keys may raise: unreachable, refused, or not what OIDC describes."""


class TokenVerifier:
    """Checks the Bearer tokens of one API (`audience`) issued by one OIDC issuer.

    `_claims_registry`, `_check_binding` and `_check_scope` are the steps a test may loosen in a subclass
    (the security suite's tests do, to show that each of its checks can fail).
    """

    def __init__(
        self,
        issuer_url: str,
        audience: str,
        ssl_context: ssl.SSLContext,
        leeway_seconds: int = 30,
        clock: Clock | None = None,
        *,
        realm: str = REALM,
        min_refresh_seconds: float = 10.0,
        timeout_seconds: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """`transport`: how the issuer is reached (e.g. an ASGI transport to an issuer of the same process);
        None: over the network, with `ssl_context`."""
        self.issuer_url = issuer_url.rstrip("/")
        self.audience = audience
        self.realm = realm
        self.leeway_seconds = leeway_seconds
        self.min_refresh_seconds = min_refresh_seconds
        self._ssl_context = ssl_context
        self._timeout = timeout_seconds
        self._transport = transport
        self._clock = clock or utc_now
        self._jwks_uri: str | None = None
        self._keys: KeySet | None = None
        self._fetched_at: datetime | None = None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"TokenVerifier(issuer_url={self.issuer_url!r}, audience={self.audience!r})"

    async def verify(
        self, authorization: str | None, required_scope: str, client_certificate: str | None = None
    ) -> dict[str, Any]:
        """The claims of a valid token carrying `required_scope`; a `Problem` otherwise.

        `client_certificate` is the PEM certificate the client presented on the connection (mutual TLS),
        against which a certificate-bound token is checked.
        """
        token = bearer_token(authorization, self.realm)
        header = token_header(token, self.realm)
        key = await self._key_for(header.get("kid"))
        claims = self._checked_claims(token, key)
        self._check_binding(claims, client_certificate)
        self._check_scope(claims, required_scope)
        return claims

    # -- signature, claims, binding and scope --------------------------------------------------------

    def _checked_claims(self, token: str, key: Key) -> dict[str, Any]:
        try:
            claims = jwt.decode(token, key, algorithms=ACCEPTED_ALGORITHMS).claims
        except BadSignatureError:
            raise invalid_token(SIGNATURE, self.realm) from None
        except (JoseError, ValueError):
            raise invalid_token(UNREADABLE, self.realm) from None
        try:
            self._claims_registry().validate(claims)
        except ExpiredTokenError:
            raise invalid_token(EXPIRED, self.realm) from None
        except MissingClaimError:
            raise invalid_token(CLAIMS, self.realm) from None
        except InvalidClaimError as error:
            raise invalid_token(CLAIM_DESCRIPTIONS.get(error.claim, CLAIMS), self.realm) from None
        return claims

    def _claims_registry(self) -> jwt.JWTClaimsRegistry:
        """The claims every token must carry: our issuer, our audience, an expiry (nbf and iat when present)."""
        return jwt.JWTClaimsRegistry(
            now=lambda: int(self._clock().timestamp()),
            leeway=self.leeway_seconds,
            iss={"essential": True, "value": self.issuer_url},
            aud={"essential": True, "value": self.audience},
            exp={"essential": True},
        )

    def _check_binding(self, claims: dict[str, Any], client_certificate: str | None) -> None:
        """A certificate-bound token (RFC 8705 §3) is valid only over a connection with that certificate."""
        if "cnf" not in claims:
            return
        confirmation = claims["cnf"]
        expected = confirmation.get("x5t#S256") if isinstance(confirmation, dict) else None
        if not isinstance(expected, str):
            raise invalid_token(CLAIMS, self.realm)  # a confirmation method we cannot check
        presented = certificate_thumbprint(client_certificate) if client_certificate else ""
        if not hmac.compare_digest(expected.encode(), presented.encode()):
            raise invalid_token(BINDING, self.realm)

    def _check_scope(self, claims: dict[str, Any], required_scope: str) -> None:
        if required_scope not in str(claims.get("scope", "")).split():
            raise insufficient_scope(required_scope, self.realm)

    # -- keys of the issuer --------------------------------------------------------------------------

    async def _key_for(self, kid: object) -> Key:
        """The published key named by `kid`, refreshing the JWKS once when it is unknown."""
        if kid is not None and not isinstance(kid, str):
            raise invalid_token(UNREADABLE, self.realm)
        key = self._cached_key(kid)
        if key is not None:
            return key
        async with self._lock:
            key = self._cached_key(kid)  # another request may have refreshed meanwhile
            if key is None and self._may_refresh():
                await self._refresh()
                key = self._cached_key(kid)
        if key is None:
            raise invalid_token(UNKNOWN_KEY, self.realm)
        return key

    def _cached_key(self, kid: str | None) -> Key | None:
        if self._keys is None:
            return None
        try:
            return self._keys.get_by_kid(kid)
        except InvalidKeyIdError:
            return None

    def _may_refresh(self) -> bool:
        """Always without keys; otherwise at most once every `min_refresh_seconds`."""
        if self._keys is None or self._fetched_at is None:
            return True
        return (self._clock() - self._fetched_at).total_seconds() >= self.min_refresh_seconds

    async def load_keys(self) -> int:
        """Discovery and the JWKS fetched now (a run's pre-flight): how many signing keys the issuer publishes.
        Its failure is raised as it came (`httpx.HTTPError`, `JoseError`, `ValueError`, `KeyError`, `TypeError`)."""
        http_client = httpx.AsyncClient(verify=self._ssl_context, timeout=self._timeout, transport=self._transport)
        async with http_client as http:
            if self._jwks_uri is None:
                self._jwks_uri = await self._discover(http)
            response = await http.get(self._jwks_uri)
            response.raise_for_status()
            keys = KeySet.import_key_set(response.json())
        self._keys, self._fetched_at = keys, self._clock()
        log.info("issuer %s: %d signing keys loaded", self.issuer_url, len(keys.keys))
        return len(keys.keys)

    async def _refresh(self) -> None:
        """Fetch the JWKS (after discovery, the first time); a 503 `Problem` when the issuer fails."""
        try:
            await self.load_keys()
        except ISSUER_FAILURES as error:
            log.warning("issuer %s: keys unavailable (%s: %s)", self.issuer_url, type(error).__name__, error)
            raise Problem("service-indisponible", UNAVAILABLE, headers={"Retry-After": "10"}) from None

    async def _discover(self, http: httpx.AsyncClient) -> str:
        """The `jwks_uri` of the issuer's metadata, whose `issuer` must be ours (OIDC Discovery §4.3)."""
        response = await http.get(self.issuer_url + DISCOVERY_PATH)
        response.raise_for_status()
        metadata = response.json()
        if metadata.get("issuer") != self.issuer_url:
            raise ValueError(f"discovery announces issuer {metadata.get('issuer')!r}")
        jwks_uri = metadata["jwks_uri"]
        if not isinstance(jwks_uri, str):
            raise TypeError("jwks_uri is not a string")
        return jwks_uri


def bearer_token(authorization: str | None, realm: str = REALM) -> str:
    """The token of an `Authorization: Bearer` header; 401 `authentification-requise` otherwise."""
    match = BEARER.fullmatch(authorization or "")
    if match is None:
        header = challenge(realm)
        raise Problem("authentification-requise", MISSING_CREDENTIALS, headers={"WWW-Authenticate": header})
    return match.group(1)


def token_header(token: str, realm: str = REALM) -> dict[str, Any]:
    """The JOSE header, read before any key is chosen; only RS256 and ES256 go further."""
    try:
        header = dict(jws.extract_compact(token.encode()).headers())
    except (JoseError, ValueError, TypeError):
        raise invalid_token(UNREADABLE, realm) from None
    if header.get("alg") not in ACCEPTED_ALGORITHMS:
        raise invalid_token(ALGORITHM, realm)
    return header


def invalid_token(description: str, realm: str = REALM) -> Problem:
    header = challenge(realm, error="invalid_token", error_description=ascii_text(description))
    return Problem("jeton-invalide", description, headers={"WWW-Authenticate": header})


def insufficient_scope(scope: str, realm: str = REALM) -> Problem:
    description = f"Le jeton ne porte pas la portée requise : {scope}."
    header = challenge(realm, error="insufficient_scope", error_description=ascii_text(description), scope=scope)
    return Problem("droits-insuffisants", description, headers={"WWW-Authenticate": header})


def challenge(realm: str = REALM, **attributes: str) -> str:
    """An RFC 6750 `WWW-Authenticate: Bearer` challenge of `realm`."""
    parts = [f'realm="{realm}"', *(f'{name}="{value}"' for name, value in attributes.items())]
    return "Bearer " + ", ".join(parts)


def ascii_text(text: str) -> str:
    """`text` without accents nor characters RFC 6750 forbids in `error_description`."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(char for char in folded if char >= " " and char not in '"\\')
