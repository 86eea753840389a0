"""Tokens signed with the issuer's test signing key (`oauth.test_signing_key`, `oauth.test_key_id`).

A vendor may hand the recette team the signing key of its recette issuer: the suite then forges, against
the real platform, the tokens it must refuse (expired, not yet valid, another issuer or audience, bound to
another certificate, insufficient scope). Each forged token starts from the claims of a valid token of
the platform's own issuer (whatever claims it uses), re-dated to now, then overridden.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any, Literal

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key, OctKey, OKPKey, RSAKey, import_key

from harness.security.target import TokenSource

KeyType = Literal["RSA", "EC", "OKP"]
PEM_TYPES: tuple[KeyType, ...] = ("RSA", "EC", "OKP")
EC_ALGORITHMS = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
DEFAULT_LIFETIME_SECONDS = 300
"""The lifetime of a forged token when the valid one gives none."""


class SigningKeyError(ValueError):
    """The test signing key cannot sign: unreadable, not a private key, or of an unknown type."""


def load_signing_key(path: Path) -> Key:
    """The private key of `path`, a JWK (JSON) or a PEM (RSA, EC or Ed25519)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SigningKeyError(f"clé illisible : {path} ({error.strerror})") from None
    key = _jwk(data) if data.lstrip().startswith(b"{") else _pem(data)
    if key is None or not (isinstance(key, OctKey) or key.is_private):
        raise SigningKeyError(f"aucune clé privée de signature (JWK ou PEM) dans {path}")
    return key


def _jwk(data: bytes) -> Key | None:
    try:
        return import_key(json.loads(data))
    except (ValueError, TypeError, JoseError):
        return None


def _pem(data: bytes) -> Key | None:
    for key_type in PEM_TYPES:
        try:
            return import_key(data, key_type)
        except (ValueError, TypeError, JoseError):
            continue
    return None


def signing_algorithm(key: Key) -> str:
    """The JWS algorithm of `key`: its own `alg`, else the usual one of its type."""
    if key.alg:
        return key.alg
    if isinstance(key, RSAKey):
        return "RS256"
    if isinstance(key, ECKey):
        return EC_ALGORITHMS.get(str(key.curve_name), "ES256")
    if isinstance(key, OKPKey):
        return "EdDSA"
    return "HS256"


def compact_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of a compact JWS, unverified (ValueError when it is not one)."""
    try:
        extracted = jws.extract_compact(token.encode())
        claims = json.loads(extracted.payload)
    except (JoseError, ValueError) as error:
        raise ValueError(f"le jeton délivré n'est pas un JWS compact ({type(error).__name__})") from None
    if not isinstance(claims, dict):
        raise ValueError("le jeton délivré ne porte pas d'objet de revendications")
    return dict(extracted.headers()), claims


class IssuerKeyForger:
    """A `Forger` signing with the issuer's test key: `forger(scopes=None, **claims)`, a claim set to None is
    left out. The template is a valid token of `tokens`, fetched once."""

    def __init__(self, key: Key, tokens: TokenSource, key_id: str | None = None) -> None:
        self.key = key
        self.tokens = tokens
        self.key_id = key_id
        self._template: tuple[dict[str, Any], dict[str, Any]] | None = None

    def __repr__(self) -> str:
        return f"IssuerKeyForger(kid={self.key_id or self.key.kid!r})"

    def __call__(self, scopes: list[str] | None = None, **overrides: Any) -> str:
        header, claims = self._redated()
        if scopes is not None:
            claims["scope"] = " ".join(scopes)
        claims = {name: value for name, value in (claims | overrides).items() if value is not None}
        return jwt.encode(header, claims, self.key)

    def _redated(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The template's header (our algorithm and key id) and claims, issued now with a fresh `jti`."""
        if self._template is None:
            self._template = compact_parts(self.tokens.token())
        header, claims = dict(self._template[0]), dict(self._template[1])
        header |= {"alg": signing_algorithm(self.key)}
        if kid := self.key_id or self.key.kid:
            header["kid"] = kid
        else:
            header.pop("kid", None)
        now = int(time.time())  # the platform judges dates on its own clock: real time
        lifetime = int(claims.get("exp", 0)) - int(claims.get("iat", 0))
        claims |= {"iat": now, "exp": now + (lifetime if lifetime > 0 else DEFAULT_LIFETIME_SECONDS)}
        if "nbf" in claims:
            claims["nbf"] = now
        if "jti" in claims:
            claims["jti"] = uuid.uuid4().hex
        return header, claims
