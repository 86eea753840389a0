"""The ASP's Bearer tokens on our API: JWTs the agreed issuer signs, verified with joserfc against its JWKS."""

from __future__ import annotations

import base64
import hashlib
import ssl
import threading
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from tests.fair_titulaire.problems import Refusal

ALGORITHMS = ("RS256", "ES256")


class BearerVerifier:
    """Checks signature, issuer, audience, validity dates, scope and certificate binding (RFC 8705)."""

    def __init__(self, issuer: str, audience: str, verify: ssl.SSLContext) -> None:
        self.issuer = issuer
        self.audience = audience
        self._verify = verify
        self._keys: KeySet | None = None
        self._lock = threading.Lock()

    def check(self, authorization: str | None, scope: str, peer_der: bytes | None) -> None:
        """Raise the 401/403 `Refusal` a call with this `Authorization` header deserves."""
        scheme, _, raw = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise self._refusal("authentification-requise", "Un jeton d'accès Bearer est requis.", None)
        claims = self._claims(raw.strip())
        bound = (claims.get("cnf") or {}).get("x5t#S256")
        if bound is not None and bound != thumbprint(peer_der):
            raise self._refusal("jeton-invalide", "Jeton lié à un autre certificat.", "invalid_token")
        if scope not in str(claims.get("scope", "")).split():
            raise Refusal(
                403,
                "droits-insuffisants",
                f"La portée {scope} est requise.",
                headers={"WWW-Authenticate": f'Bearer realm="titulaire", error="insufficient_scope", scope="{scope}"'},
            )

    def _claims(self, raw: str) -> dict[str, Any]:
        try:
            token = self._decode(raw)
            registry = jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.audience},
                exp={"essential": True},
            )
            registry.validate(token.claims)
        except (JoseError, ValueError, KeyError) as error:
            raise self._refusal("jeton-invalide", "Jeton d'accès refusé.", "invalid_token") from error
        return dict(token.claims)

    def _decode(self, raw: str) -> jwt.Token:
        """Decoded with the published keys; an unknown key id fetches the key set once more."""
        try:
            return jwt.decode(raw, self._key_set(), algorithms=ALGORITHMS)
        except ValueError:
            return jwt.decode(raw, self._key_set(refresh=True), algorithms=ALGORITHMS)

    def _key_set(self, refresh: bool = False) -> KeySet:
        with self._lock:
            if self._keys is None or refresh:
                answer = httpx.get(f"{self.issuer}/jwks", verify=self._verify, timeout=10)
                answer.raise_for_status()
                self._keys = KeySet.import_key_set(answer.json())
            return self._keys

    @staticmethod
    def _refusal(code: str, detail: str, error: str | None) -> Refusal:
        challenge = 'Bearer realm="titulaire"' + (f', error="{error}"' if error else "")
        return Refusal(401, code, detail, headers={"WWW-Authenticate": challenge})


def thumbprint(der: bytes | None) -> str | None:
    """RFC 8705 `x5t#S256` of a DER certificate."""
    if der is None:
        return None
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()
