"""Bearer token checks (RFC 6750, RFC 9068, RFC 8705): every token the target must refuse, and the control.

Tokens come from four places:
- the target's token source: the valid token of the control, which the suite then tampers with (signature,
  `alg: none`) or re-signs with a key of its own (unknown key) — possible against any target;
- the forger, which signs with a key the target trusts (expired, not yet valid, wrong audience or issuer,
  insufficient scope, bound to another certificate): the embedded issuer's, or the test signing key a vendor
  declares for its recette issuer (`oauth.test_signing_key`);
- the issuer again, asked for less: a token of the other scope alone (down-scoping, RFC 6749 §3.3), or a
  token for another audience (`oauth.other_audience`, RFC 8707);
- a client registered with the read scope alone (`oauth.read_client_id`), whose token must not write.

A refusal is only believed when the control (the same call with a valid token) is let through. What no
source can give is a reservation naming the setting that lifts it.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from harness.foundations.tls import certificate_thumbprint
from harness.foundations.tokens import TokenRequestError
from harness.security.forging import compact_parts
from harness.security.probes import Exchange, Probes, error_reason
from harness.security.target import ProbeRequest
from harness.security.verdicts import Verdict, failed, inconclusive, passed, reserved

FAR_SECONDS = 3600
"""How far in the past or future a forged date is: beyond any reasonable clock-skew leeway."""
OTHER_AUDIENCE = "https://autre-api.recette.invalid"
OTHER_ISSUER = "https://emetteur-inconnu.recette.invalid"
NO_FORGER = (
    "la cible ne fait pas confiance à un émetteur dont nous détenons la clé de signature : "
    "impossible de forger ce jeton"
)
LIFT_KEY = (
    "déclarer oauth.test_signing_key (et oauth.test_key_id) : la clé de signature de test de l'émetteur "
    "de l'environnement de recette (PEM ou JWK)"
)
LIFT_AUDIENCE = (
    "déclarer oauth.other_audience : une audience que l'émetteur délivre à notre client et qui n'est pas "
    "celle de l'API ; ou " + LIFT_KEY
)
LIFT_READ = (
    "déclarer oauth.read_client_id et oauth.read_client_secret : un client enregistré avec la seule portée "
    "de lecture ; ou " + LIFT_KEY
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
    target = probes.target
    audience = target.other_audience or OTHER_AUDIENCE
    if target.forger is not None:
        return forged_refusal(probes, f"audience {audience}", aud=audience)
    if target.other_audience is None or target.audience_tokens is None:
        return reserved(f"{NO_FORGER} ; et aucune autre audience n'est déclarée", LIFT_AUDIENCE)
    return guarded(probes, lambda: minted_for_another_audience(probes, target.other_audience or ""))


def minted_for_another_audience(probes: Probes, audience: str) -> Verdict:
    """The issuer's token for `audience` is refused; reserved when the issuer minted it for the API anyway."""
    assert probes.target.audience_tokens is not None
    try:
        token = probes.target.audience_tokens(audience)
    except (TokenRequestError, httpx.HTTPError, OSError) as error:
        why = f"l'émetteur n'a pas délivré de jeton pour l'audience {audience} ({error_reason(error)})"
        return reserved(why, LIFT_AUDIENCE)
    try:
        minted = compact_parts(token)[1].get("aud")
        ours = compact_parts(probes.valid_token() or "")[1].get("aud")
    except ValueError as error:
        return reserved(f"audience {audience} : {error}", LIFT_AUDIENCE)
    if not minted or minted == ours:
        why = f"l'émetteur a délivré un jeton d'audience {minted!r}, celle de l'API, quand {audience} est demandée"
        return reserved(why, LIFT_AUDIENCE)
    verdict = expect(probes.call(f"jeton délivré pour l'audience {minted}", f"Bearer {token}"), 401)
    return Verdict(verdict.passed, f"jeton délivré pour l'audience {minted} : {verdict.evidence}")


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
        token: str = target.forger(scopes=[target.other_scope])
        return forged_guarded(
            probes, lambda: expect(probes.call(f"portée {target.other_scope} seule", f"Bearer {token}"), 403)
        )
    narrowed, why = narrower_token(probes, target.other_scope)
    if narrowed is not None:
        return guarded(
            probes, lambda: expect(probes.call(f"portée {target.other_scope} seule", f"Bearer {narrowed}"), 403)
        )
    write = target.write
    if target.read_tokens is not None and write is not None:
        return guarded(probes, lambda: read_only_refused(probes, write))
    return reserved(f"{NO_FORGER} ; {why} ; et aucun client en lecture seule n'est déclaré", LIFT_READ)


def narrower_token(probes: Probes, scope: str) -> tuple[str | None, str]:
    """A token of `scope` alone from our client (down-scoping, RFC 6749 §3.3), or why there is none.

    An issuer may grant more than asked: a token that still carries the probe's scope would be let through by a
    correct API, so it is only used when its `scope` claim (RFC 9068) is `scope` alone.
    """
    token, error = probes.obtain_token((scope,))
    if token is None:
        return None, f"{error} pour la seule portée {scope}"
    try:
        granted = str(compact_parts(token)[1].get("scope", "")).split()
    except ValueError as unreadable:
        return None, f"portée accordée illisible ({unreadable})"
    if set(granted) != {scope}:
        return None, f"l'émetteur accorde « {' '.join(granted)} » quand la seule portée {scope} est demandée"
    return token, ""


def read_only_refused(probes: Probes, write: ProbeRequest) -> Verdict:
    """The read-only client's token must be refused (403) on an operation that writes."""
    assert probes.target.read_tokens is not None
    token = probes.target.read_tokens.token()
    exchange = probes.request("jeton du client en lecture seule", write.method, write.path, f"Bearer {token}")
    verdict = expect(exchange, 403)
    return Verdict(verdict.passed, f"jeton du client en lecture seule : {verdict.evidence}")


def check_bound_to_another_certificate(probes: Probes) -> Verdict:
    """Jeton lié à un autre certificat refusé (401)"""
    forger = probes.target.forger
    if forger is None:
        return reserved(NO_FORGER + " lié à un certificat", LIFT_KEY)
    ours = certificate_thumbprint(probes.target.client.cert.read_bytes())
    other = certificate_thumbprint(probes.certificates.foreign().cert.read_bytes())

    def judge() -> Verdict:
        own = probes.call("jeton lié à notre certificat", f"Bearer {forger(cnf={'x5t#S256': ours})}")
        verdict = expect(
            probes.call("jeton lié à un autre certificat", f"Bearer {forger(cnf={'x5t#S256': other})}"), 401
        )
        note = f" ; témoin lié à notre certificat : {own.summary()}"
        return Verdict(verdict.passed, verdict.evidence + note)

    return forged_guarded(probes, judge)


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


def forged_guarded(probes: Probes, judge: Callable[[], Verdict]) -> Verdict:
    """`judge()`, once a valid token of the forger, like the issuer's own, was let through."""

    def after_forged_control() -> Verdict:
        control = probes.forged_control()
        if control is not None and control.status in (None, 401, 403):
            why = "la cible refuse aussi un jeton valide forgé (clé de signature de test ou identifiant de clé"
            return inconclusive(f"{why} qu'elle ne reconnaît pas) : {control.summary()}")
        return judge()

    return guarded(probes, after_forged_control)


def forged_refusal(probes: Probes, description: str, **claims: Any) -> Verdict:
    forger = probes.target.forger
    if forger is None:
        return reserved(NO_FORGER, LIFT_KEY)
    token = forger(**claims)
    return forged_guarded(probes, lambda: expect(probes.call(description, f"Bearer {token}"), 401))


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
