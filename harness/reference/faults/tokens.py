"""Faults of the API's token check: each loosens one step of the reference's `TokenVerifier`.

The faulted verifier is the reference's own, of a subclass that skips one step (audience, scope, certificate
binding): every other check still applies, so the security suite's control still passes.
"""

from __future__ import annotations

from typing import Any

from joserfc import jwt

from harness.foundations.token_verifier import TokenVerifier
from harness.reference.faults.base import Fault


def loosened(verifier: TokenVerifier | None, kind: type[TokenVerifier]) -> TokenVerifier | None:
    """`verifier`, with its state, as an instance of `kind`."""
    if verifier is None:
        return None
    loose = kind.__new__(kind)
    loose.__dict__.update(verifier.__dict__)
    return loose


class _AnyAudience(TokenVerifier):
    def _claims_registry(self) -> jwt.JWTClaimsRegistry:
        return jwt.JWTClaimsRegistry(
            now=lambda: int(self._clock().timestamp()),
            leeway=self.leeway_seconds,
            iss={"essential": True, "value": self.issuer_url},
            exp={"essential": True},
        )


class _AnyScope(TokenVerifier):
    def _check_scope(self, claims: dict[str, Any], required_scope: str) -> None:
        return None


class _NoBinding(TokenVerifier):
    def _check_binding(self, claims: dict[str, Any], client_certificate: str | None) -> None:
        return None


class AudienceUnchecked(Fault):
    name = "audience-non-verifiee"
    description = "l'API accepte un jeton de son émetteur destiné à une autre API (audience non vérifiée)"

    def token_verifier(self, verifier: TokenVerifier | None) -> TokenVerifier | None:
        return loosened(verifier, _AnyAudience)


class ScopeUnchecked(Fault):
    name = "portee-non-verifiee"
    description = "l'API laisse déposer un jeton qui ne porte que la portée de lecture (portée non vérifiée)"

    def token_verifier(self, verifier: TokenVerifier | None) -> TokenVerifier | None:
        return loosened(verifier, _AnyScope)


class BindingUnchecked(Fault):
    name = "lien-certificat-ignore"
    description = "l'API accepte un jeton lié à un autre certificat client que celui de la connexion (RFC 8705)"

    def token_verifier(self, verifier: TokenVerifier | None) -> TokenVerifier | None:
        return loosened(verifier, _NoBinding)
