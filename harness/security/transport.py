"""Transport checks: HTTPS only, TLS 1.2 at least, and mutual TLS with a valid certificate from the agreed CA.

A refusal is a connection that gives no HTTP answer (failed handshake, TLS alert, reset), or the answer of a
TLS terminator that refuses the request itself (400, 403, 495, 496…). An answer of the application (a 200,
or a 401 asking for a token) means the connection was accepted. Each refusal is only believed when the
control connection (our correct certificate, TLS ≥ 1.2) gets an answer.
"""

from __future__ import annotations

import ssl
import warnings

from harness.foundations.tls import CertificatePair, client_context
from harness.security.probes import Exchange, Probes
from harness.security.verdicts import Verdict, failed, inconclusive, passed, reserved

TERMINATOR_REFUSALS = frozenset({400, 403, 421, 426, 495, 496, 497})
"""Statuses a TLS terminator answers instead of serving the request (nginx 495/496/497, 426 Upgrade Required)."""
LOCAL_TLS_UNAVAILABLE = ("NO_PROTOCOLS_AVAILABLE", "NO_CIPHERS_AVAILABLE")
LIFT_EXPIRED = (
    "présenter à la plateforme le certificat client de l'ASP remis par « recette certificats » (callback.dir) : "
    "le harnais détient alors la clé de l'AC convenue ; sinon, l'équipe de recette confirme que la plateforme "
    "refuse un certificat client expiré de l'AC convenue (l'AC délivre un tel certificat de test, ou la plateforme "
    "en montre le refus)"
)
LIFT_LEGACY = "exécuter le harnais avec une bibliothèque TLS qui sait encore proposer TLS 1.0 et 1.1"
LEGACY_VERSIONS = {"TLS 1.0": ssl.TLSVersion.TLSv1, "TLS 1.1": ssl.TLSVersion.TLSv1_1}


def check_plain_http(probes: Probes) -> Verdict:
    """HTTP en clair refusé"""
    probe = probes.target.probe
    exchange = probes.request("HTTP en clair", probe.method, probe.path, url=probes.plain_url())
    return refusal(probes, exchange, "la cible sert l'API en clair")


def check_tls_1_0(probes: Probes) -> Verdict:
    """TLS 1.0 refusé"""
    return legacy_version(probes, "TLS 1.0")


def check_tls_1_1(probes: Probes) -> Verdict:
    """TLS 1.1 refusé"""
    return legacy_version(probes, "TLS 1.1")


def check_no_client_certificate(probes: Probes) -> Verdict:
    """Connexion sans certificat client refusée"""
    exchange = with_certificate(probes, "sans certificat client", None)
    return refusal(probes, exchange, "connexion acceptée sans certificat client")


def check_unknown_authority(probes: Probes) -> Verdict:
    """Certificat client d'une AC inconnue refusé"""
    exchange = with_certificate(probes, "certificat d'une AC inconnue", probes.certificates.foreign())
    return refusal(probes, exchange, "connexion acceptée avec un certificat client d'une AC inconnue")


def check_expired_certificate(probes: Probes) -> Verdict:
    """Certificat client expiré refusé"""
    authority = probes.target.client_authority
    if authority is None:
        return reserved(
            "nous ne détenons pas la clé de l'AC dont la cible accepte les certificats clients : "
            "impossible de lui présenter un certificat expiré qu'elle reconnaîtrait",
            LIFT_EXPIRED,
        )
    expired = probes.certificates.expired(authority)
    exchange = with_certificate(probes, "certificat client expiré, signé par l'AC reconnue", expired)
    return refusal(probes, exchange, "connexion acceptée avec un certificat client expiré")


# -- how a refusal is judged -----------------------------------------------------------------------------


def with_certificate(probes: Probes, description: str, pair: CertificatePair | None) -> Exchange:
    """The probe, without a token, over TLS ≥ 1.2 presenting `pair` (or no certificate)."""
    probe = probes.target.probe
    context = client_context(probes.target.ca, pair)
    return probes.request(description, probe.method, probe.path, body=probe.body, verify=context)


def refusal(probes: Probes, exchange: Exchange, accepted: str) -> Verdict:
    """Passed when `exchange` was refused and the control connection was not."""
    if exchange.answered and exchange.status not in TERMINATOR_REFUSALS:
        return failed(f"{accepted} : {exchange.summary()} (la requête a atteint l'application)")
    control = probes.connection_control()
    if not control.answered:
        return inconclusive(f"une connexion correcte échoue aussi : {control.summary()}")
    if exchange.answered:
        return passed(f"requête refusée par la terminaison TLS : {exchange.summary()}")
    return passed(f"connexion refusée : {exchange.summary()} ; témoin : {control.summary()}")


def legacy_version(probes: Probes, version: str) -> Verdict:
    """Passed when a handshake offering only `version` (with our valid certificate) fails at the target."""
    context = legacy_context(probes, LEGACY_VERSIONS[version])
    if isinstance(context, str):
        return reserved(f"la bibliothèque TLS locale ne sait pas proposer {version} ({context})", LIFT_LEGACY)
    probe = probes.target.probe
    exchange = probes.request(f"{version} seul", probe.method, probe.path, body=probe.body, verify=context)
    if exchange.answered:
        negotiated = exchange.tls_version or version
        return failed(f"{version} accepté : version négociée {negotiated}, {exchange.summary()}")
    if any(reason in (exchange.error or "") for reason in LOCAL_TLS_UNAVAILABLE):
        why = f"la bibliothèque TLS locale refuse de proposer {version} ({exchange.error})"
        return reserved(why, LIFT_LEGACY)
    control = probes.connection_control()
    if not control.answered:
        return inconclusive(f"une connexion correcte échoue aussi : {control.summary()}")
    return passed(f"poignée de main {version} refusée : {exchange.error} ; témoin : {control.tls_version}")


def legacy_context(probes: Probes, version: ssl.TLSVersion) -> ssl.SSLContext | str:
    """A client context offering only `version`, with our certificate; the reason when it cannot be made."""
    try:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(cafile=probes.target.ca)
        context.load_cert_chain(probes.target.client.cert, probes.target.client.key)
        with warnings.catch_warnings():  # deprecated versions: offering them is the point
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = version
            context.maximum_version = version
        context.set_ciphers("DEFAULT:@SECLEVEL=0")  # OpenSSL 3 only offers TLS < 1.2 at security level 0
    except (ValueError, ssl.SSLError) as error:
        return f"{type(error).__name__} : {error}"
    return context


CHECKS = (
    check_plain_http,
    check_tls_1_0,
    check_tls_1_1,
    check_no_client_certificate,
    check_unknown_authority,
    check_expired_certificate,
)
