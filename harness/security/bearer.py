"""Bearer token checks (RFC 6750, RFC 9068, RFC 8705): every token the target must refuse, and the control.

Tokens come from three places:
- the target's token source: the valid token of the control, which the suite then tampers with (signature,
  `alg: none`) or re-signs with a key of its own (unknown key) — possible against any target;
- the forger, which signs with a key the target trusts (expired, not yet valid, wrong audience or issuer,
  insufficient scope, bound to another certificate) — only when the target trusts our issuer;
- the token source again, asked for another scope (insufficient scope, when there is no forger).

A refusal is only believed when the control (the same call with a valid token) is let through.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from harness.foundations.tls import certificate_thumbprint
from harness.security.probes import Exchange, Probes
from harness.security.verdicts import Verdict, failed, inconclusive, not_applicable, passed

FAR_SECONDS = 3600
"""How far in the past or future a forged date is: beyond any reasonable clock-skew leeway."""
OTHER_AUDIENCE = "https://autre-api.recette.invalid"
OTHER_ISSUER = "https://emetteur-inconnu.recette.invalid"
NO_FORGER = (
    "la cible ne fait pas confiance à un émetteur dont nous détenons la clé de signature : "
    "impossible de forger ce jeton"
)


def check_valid_token(probes: Probes) -> Verdict:
    """Témoin : un jeton valide passe l'authentification"""
    control = probes.token_control()
    if control is None:
        return failed(f"aucun jeton valide : {probes.token_error}")
    if control.status in (None, 401, 403):
        return failed(f"un jeton valide est refusé : {control.summary()}")
    return passed(f"jeton valide : {control.summary()}")


def check_missing_token(probes: Probes) -> Verdict:
    """Appel sans jeton refusé (401)"""
    return expect(probes.call("sans jeton", None), 401)


def check_expired_token(probes: Probes) -> Verdict:
    """Jeton expiré refusé (401)"""
    now = int(time.time())
    return forged_refusal(probes, "jeton expiré", exp=now - FAR_SECONDS, iat=now - 2 * FAR_SECONDS, nbf=None)


def check_not_yet_valid_token(probes: Probes) -> Verdict:
    """Jeton pas encore valide refusé (401)"""
    now = int(time.time())
    return forged_refusal(probes, "jeton pas encore valide", nbf=now + FAR_SECONDS, exp=now + 2 * FAR_SECONDS)


def check_bad_signature(probes: Probes) -> Verdict:
    """Jeton à la signature invalide refusé (401)"""
    return tampered_refusal(probes, "signature altérée", altered_signature)


def check_unsigned_token(probes: Probes) -> Verdict:
    """Jeton non signé (alg: none) refusé (401)"""
    return tampered_refusal(probes, "jeton non signé (alg: none)", unsigned)


def check_wrong_audience(probes: Probes) -> Verdict:
    """Jeton destiné à une autre API refusé (401)"""
    return forged_refusal(probes, f"audience {OTHER_AUDIENCE}", aud=OTHER_AUDIENCE)


def check_wrong_issuer(probes: Probes) -> Verdict:
    """Jeton d'un autre émetteur refusé (401)"""
    return forged_refusal(probes, f"émetteur {OTHER_ISSUER}", iss=OTHER_ISSUER)


def check_unknown_key(probes: Probes) -> Verdict:
    """Jeton signé par une clé inconnue refusé (401)"""
    return tampered_refusal(probes, "signé par une clé inconnue de l'émetteur", signed_by_a_stranger)


def check_insufficient_scope(probes: Probes) -> Verdict:
    """Portée insuffisante refusée (403)"""
    target = probes.target
    if target.forger is not None:
        token: str | None = target.forger(scopes=[target.other_scope])
    else:
        token, error = probes.obtain_token((target.other_scope,))
        if token is None:
            return not_applicable(f"{NO_FORGER} ; et {error} pour la seule portée {target.other_scope}")
    return guarded(probes, lambda: expect(probes.call(f"portée {target.other_scope} seule", f"Bearer {token}"), 403))


def check_bound_to_another_certificate(probes: Probes) -> Verdict:
    """Jeton lié à un autre certificat refusé (401)"""
    forger = probes.target.forger
    if forger is None:
        return not_applicable(NO_FORGER + " lié à un certificat")
    ours = certificate_thumbprint(probes.target.client.cert.read_bytes())
    other = certificate_thumbprint(probes.certificates.foreign().cert.read_bytes())

    def judge() -> Verdict:
        own = probes.call("jeton lié à notre certificat", f"Bearer {forger(cnf={'x5t#S256': ours})}")
        verdict = expect(
            probes.call("jeton lié à un autre certificat", f"Bearer {forger(cnf={'x5t#S256': other})}"), 401
        )
        note = f" ; témoin lié à notre certificat : {own.summary()}"
        return Verdict(verdict.passed, verdict.evidence + note)

    return guarded(probes, judge)


# -- how a refusal is judged -----------------------------------------------------------------------------


def expect(exchange: Exchange, status: int) -> Verdict:
    """Passed when the target answered `status` (and, for a 401, a `WWW-Authenticate` challenge)."""
    challenge = exchange.headers.get("www-authenticate")
    if exchange.status == status and (status != 401 or challenge):
        shown = f" ; WWW-Authenticate: {challenge}" if challenge else ""
        return passed(f"{exchange.summary()}{shown}")
    wanted = f"{status} avec un défi WWW-Authenticate" if status == 401 else str(status)
    return failed(f"{exchange.summary()} ; attendu : {wanted}")


def guarded(probes: Probes, judge: Callable[[], Verdict]) -> Verdict:
    """`judge()`, once the control showed that a valid token is let through."""
    control = probes.token_control()
    if control is None:
        return inconclusive(f"aucun jeton valide pour le témoin : {probes.token_error}")
    if control.status in (None, 401, 403):
        return inconclusive(f"le témoin (jeton valide) est lui-même refusé : {control.summary()}")
    return judge()


def forged_refusal(probes: Probes, description: str, **claims: Any) -> Verdict:
    forger = probes.target.forger
    if forger is None:
        return not_applicable(NO_FORGER)
    token = forger(**claims)
    return guarded(probes, lambda: expect(probes.call(description, f"Bearer {token}"), 401))


def tampered_refusal(probes: Probes, description: str, tamper: Callable[[str], str]) -> Verdict:
    """The valid token of the control, altered by `tamper`, must be refused."""

    def judge() -> Verdict:
        token = probes.valid_token()
        assert token is not None  # the control had one
        try:
            altered = tamper(token)
        except (JoseError, ValueError) as error:
            return inconclusive(f"le jeton délivré n'est pas un JWS compact ({type(error).__name__})")
        return expect(probes.call(description, f"Bearer {altered}"), 401)

    return guarded(probes, judge)


# -- tokens made from a valid one ------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def altered_signature(token: str) -> str:
    """The same header and claims, one bit of the signature flipped."""
    header, payload, signature = token.split(".")
    flipped = bytearray(unb64url(signature))
    if not flipped:
        raise ValueError("empty signature")
    flipped[len(flipped) // 2] ^= 0x01
    return f"{header}.{payload}.{b64url(bytes(flipped))}"


def unsigned(token: str) -> str:
    """The same claims (and key id), with `alg: none` and no signature (RFC 7519 §6, unsecured JWT)."""
    header = dict(jws.extract_compact(token.encode()).headers()) | {"alg": "none"}
    payload = token.split(".")[1]
    return f"{b64url(json.dumps(header).encode())}.{payload}."


def signed_by_a_stranger(token: str) -> str:
    """The same claims, signed RS256 by a fresh key that no issuer publishes."""
    claims = json.loads(jws.extract_compact(token.encode()).payload)
    stranger = RSAKey.generate_key(2048, {"alg": "RS256", "use": "sig"}, auto_kid=True)
    header = dict(jws.extract_compact(token.encode()).headers()) | {"alg": "RS256", "kid": stranger.kid}
    return jwt.encode(header, claims, stranger)


CHECKS = (
    check_valid_token,
    check_missing_token,
    check_expired_token,
    check_not_yet_valid_token,
    check_bad_signature,
    check_unsigned_token,
    check_wrong_audience,
    check_wrong_issuer,
    check_unknown_key,
    check_insufficient_scope,
    check_bound_to_another_certificate,
)
