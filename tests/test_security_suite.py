"""The `securite` suite: every check passes against the reference, and each fails against a server weakened
on purpose (the reference app with one setting or one verifier method loosened), with its evidence."""

from __future__ import annotations

import dataclasses
import functools
import json
import ssl
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd.parser import FeatureParser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from harness.campaign.config import RunConfig, load_config
from harness.campaign.environment import TITULAIRE_AUDIENCE, Environment
from harness.foundations.resources import project_folder
from harness.foundations.servers import BackgroundServer
from harness.foundations.token_verifier import TokenVerifier, bearer_token, invalid_token
from harness.reference.app import create_app as create_titulaire_app
from harness.reference.faults.transport import ExpiredCertificatesAccepted
from harness.reference.service import Titulaire
from harness.security import (
    CHECKS,
    SUITE,
    SecurityResult,
    SecurityTarget,
    bearer,
    check_name,
    leaks,
    run_security_checks,
    tally,
    transport,
)
from harness.security.bearer import unb64url
from harness.security.target import ClientCredentialsSource
from tests.conftest import clock_of_the_tests_day

ALL_NAMES = [
    "HTTP en clair refusé",
    "TLS 1.0 refusé",
    "TLS 1.1 refusé",
    "Connexion sans certificat client refusée",
    "Certificat client d'une AC inconnue refusé",
    "Certificat client expiré refusé",
    "Témoin : un jeton valide passe l'authentification",
    "Appel sans jeton refusé (401)",
    "Jeton expiré refusé (401)",
    "Jeton pas encore valide refusé (401)",
    "Jeton à la signature invalide refusé (401)",
    "Jeton non signé (alg: none) refusé (401)",
    "Jeton destiné à une autre API refusé (401)",
    "Jeton d'un autre émetteur refusé (401)",
    "Jeton signé par une clé inconnue refusé (401)",
    "Portée insuffisante refusée (403)",
    "Jeton lié à un autre certificat refusé (401)",
    "Aucune réponse d'erreur ne divulgue d'information interne",
]
NEEDS_SIGNING = {
    "Certificat client expiré refusé",
    "Jeton expiré refusé (401)",
    "Jeton pas encore valide refusé (401)",
    "Jeton destiné à une autre API refusé (401)",
    "Jeton d'un autre émetteur refusé (401)",
    "Jeton lié à un autre certificat refusé (401)",
}


def by_name(results: list[SecurityResult]) -> dict[str, SecurityResult]:
    return {result.name: result for result in results}


def failures(results: list[SecurityResult]) -> set[str]:
    return {result.name for result in results if not result.passed}


# -- against the reference --------------------------------------------------------------------------------


def test_every_check_passes_against_the_reference(env: Environment) -> None:
    results = run_security_checks(env.security_target())

    assert SUITE == "securite"
    assert [result.name for result in results] == ALL_NAMES
    assert [(r.name, r.evidence) for r in results if not r.passed] == []
    assert all(result.applicable and result.evidence for result in results)
    assert tally(results) == {"réussi": len(ALL_NAMES), "échoué": 0, "réserve": 0}


def test_every_check_passes_against_the_mock_asp_callback(env: Environment) -> None:
    results = run_security_checks(env.callback_security_target())

    assert [(r.name, r.evidence) for r in results if not r.passed] == []
    assert "POST /v1/retours" in by_name(results)["Appel sans jeton refusé (401)"].evidence


def test_evidence_says_what_was_sent_and_answered(env: Environment) -> None:
    results = by_name(run_security_checks(env.security_target()))

    assert results["Appel sans jeton refusé (401)"].evidence.startswith(
        'GET /v1/sante → 401 authentification-requise ; WWW-Authenticate: Bearer realm="titulaire"'
    )
    assert "403 droits-insuffisants" in results["Portée insuffisante refusée (403)"].evidence
    assert "aucune réponse HTTP" in results["Connexion sans certificat client refusée"].evidence
    assert "témoin lié à notre certificat : GET /v1/sante → 200" in results[ALL_NAMES[16]].evidence


# -- against an external target: what the vendor did not provide is a reservation naming it --------------


def external_config(env: Environment, **fields: Any) -> RunConfig:
    """A configuration as a recette team writes it for a real platform, pointed at the embedded one."""
    credentials = env.credentials()
    values: dict[str, Any] = {
        "target": env.titulaire_url,
        "ca": env.certs.ca,
        "client_cert": env.certs.asp_client.cert,
        "client_key": env.certs.asp_client.key,
        "client_id": credentials.client_id,
        "client_secret": credentials.client_secret,
        "callback_url": "https://retours.asp.example",
        "token_url": env.token_url,
    }
    return RunConfig(**(values | fields))


def issuer_test_key(env: Environment, directory: Path, form: str) -> Path:
    """The embedded issuer's active signing key, written as a vendor hands its recette issuer's test key."""
    return env.issuer.export_signing_key(directory / f"cle-de-test.{form}", form)


def reader_fields(env: Environment) -> dict[str, Any]:
    reader = env.credentials("asp-lecture")
    return {"read_client_id": reader.client_id, "read_client_secret": reader.client_secret}


@pytest.mark.parametrize("endpoint", ["token_url", "discovery_url"])
def test_against_an_external_target_the_checks_needing_a_signature_are_reservations(
    env: Environment, endpoint: str
) -> None:
    fields = (
        {}
        if endpoint == "token_url"
        else {"token_url": None, "discovery_url": env.issuer.url + "/.well-known/openid-configuration"}
    )
    results = run_security_checks(external_config(env, **fields).security_target(env.current_major()))

    reserved = {r.name for r in results if not r.applicable}
    assert reserved == NEEDS_SIGNING
    assert all(not r.passed and r.lift for r in results if not r.applicable)
    assert [(r.name, r.evidence) for r in results if r.applicable and not r.passed] == []
    assert tally(results) == {"réussi": 12, "échoué": 0, "réserve": 6}
    assert "clé de l'AC" in by_name(results)["Certificat client expiré refusé"].evidence
    assert "oauth.test_signing_key" in by_name(results)["Jeton expiré refusé (401)"].lift  # type: ignore[operator]
    assert "oauth.other_audience" in by_name(results)["Jeton destiné à une autre API refusé (401)"].lift  # type: ignore[operator]


@pytest.mark.parametrize("form", ["pem", "jwk"])
def test_with_the_issuer_test_signing_key_every_token_check_runs_against_an_external_target(
    env: Environment, tmp_path: Path, form: str
) -> None:
    config = external_config(
        env, test_signing_key=issuer_test_key(env, tmp_path, form), test_key_id=env.issuer.active_kid
    )

    results = run_security_checks(config.security_target(env.current_major()), bearer.CHECKS)

    assert [(r.name, r.evidence) for r in results if not r.passed] == []
    assert config.summary()["oauth.test_signing_key"].endswith(f"cle-de-test.{form}")  # the path, not the key


def test_a_forged_token_the_platform_accepts_fails_its_check(
    env: Environment, tmp_path: Path, weak_titulaire: Titulaire
) -> None:
    key = issuer_test_key(env, tmp_path, "pem")
    external = external_config(env, test_signing_key=key, test_key_id=env.issuer.active_kid).security_target(
        env.current_major()
    )

    with weakened(env, weak_titulaire, verifier=verifier(env, leeway_seconds=24 * 3600)) as served:
        [result] = run_security_checks(dataclasses.replace(external, url=served.url), [bearer.check_expired_token])

    assert (result.passed, result.applicable) == (False, True)
    assert "attendu : 401" in result.evidence


def test_a_test_key_the_platform_does_not_trust_makes_the_forged_checks_inconclusive_failures(
    env: Environment, tmp_path: Path
) -> None:
    config = external_config(env, test_signing_key=issuer_test_key(env, tmp_path, "pem"), test_key_id="kid-inconnu")

    results = run_security_checks(config.security_target(env.current_major()), bearer.CHECKS)

    forged = {r.name: r for r in results}
    assert all(not forged[name].passed and forged[name].applicable for name in NEEDS_SIGNING - {ALL_NAMES[5]})
    assert "la cible refuse aussi un jeton valide forgé" in forged["Jeton expiré refusé (401)"].evidence


def test_an_unusable_test_signing_key_is_refused_before_any_traffic(env: Environment, tmp_path: Path) -> None:
    public_only = tmp_path / "publique.json"
    public_only.write_text(json.dumps(env.issuer.jwks()["keys"][0]), encoding="utf-8")

    with pytest.raises(ValueError, match=r"oauth.test_signing_key \(RECETTE_TEST_SIGNING_KEY\) : aucune clé privée"):
        load_config(overrides=external_config(env).model_dump() | {"test_signing_key": public_only})


def test_without_a_forger_the_scope_check_asks_the_issuer_for_a_narrower_token(env: Environment) -> None:
    target = external_config(env).security_target(env.current_major())

    result = by_name(run_security_checks(target, [bearer.check_insufficient_scope]))[
        "Portée insuffisante refusée (403)"
    ]

    assert (result.passed, result.applicable) == (True, True)
    assert env.issuer.tokens_issued["asp-recette"] >= 1


class GenerousTokens:
    """An issuer that grants every scope whatever is asked (RFC 6749 §3.3 lets it): down-scoping is useless."""

    def __init__(self, source: ClientCredentialsSource) -> None:
        self.source = source

    def token(self, scopes: Any = None) -> str:
        return self.source.token(None)


def test_an_issuer_granting_more_than_asked_makes_the_scope_check_use_the_read_only_client(env: Environment) -> None:
    target = external_config(env, **reader_fields(env)).security_target(env.current_major())
    assert isinstance(target.tokens, ClientCredentialsSource)
    generous = dataclasses.replace(target, tokens=GenerousTokens(target.tokens))

    [result] = run_security_checks(generous, [bearer.check_insufficient_scope])

    assert (result.passed, result.applicable) == (True, True), result.evidence
    assert "client en lecture seule : POST /v1/depots/" in result.evidence
    assert "403 droits-insuffisants" in result.evidence


def test_without_the_read_only_client_a_generous_issuer_makes_the_scope_check_a_reservation(env: Environment) -> None:
    target = external_config(env).security_target(env.current_major())
    assert isinstance(target.tokens, ClientCredentialsSource)

    [result] = run_security_checks(
        dataclasses.replace(target, tokens=GenerousTokens(target.tokens)), [bearer.check_insufficient_scope]
    )

    assert not result.applicable
    assert "quand la seule portée depots:ecrire est demandée" in result.evidence
    assert "oauth.read_client_id" in (result.lift or "")


def test_a_read_only_token_that_writes_fails_the_scope_check(env: Environment, weak_titulaire: Titulaire) -> None:
    target = external_config(env, **reader_fields(env)).security_target(env.current_major())
    assert isinstance(target.tokens, ClientCredentialsSource)
    generous = dataclasses.replace(target, tokens=GenerousTokens(target.tokens))

    with weakened(env, weak_titulaire, verifier=verifier(env, AnyScope)) as served:
        [result] = run_security_checks(dataclasses.replace(generous, url=served.url), [bearer.check_insufficient_scope])

    assert (result.passed, result.applicable) == (False, True), result.evidence
    assert "attendu : 403" in result.evidence


def test_a_scope_the_issuer_will_not_grant_makes_the_scope_check_a_reservation(env: Environment) -> None:
    reader = env.credentials("asp-lecture")
    target = (
        external_config(env, client_id=reader.client_id, client_secret=reader.client_secret, scopes=reader.scopes)
    ).security_target(env.current_major())

    [result] = run_security_checks(target, [bearer.check_insufficient_scope])

    assert not result.applicable
    assert "invalid_scope" in result.evidence
    assert reader.client_secret not in result.evidence
    assert reader.client_secret not in repr(external_config(env, **reader_fields(env)))


def test_an_issuer_ignoring_the_other_audience_makes_the_audience_check_a_reservation(env: Environment) -> None:
    config = external_config(env, other_audience="https://autre-api.asp.example")

    [result] = run_security_checks(config.security_target(env.current_major()), [bearer.check_wrong_audience])

    assert not result.applicable
    assert "celle de l'API" in result.evidence


def test_a_token_minted_for_another_audience_is_judged_against_an_external_target(env: Environment) -> None:
    other = "https://autre-api.asp.example"
    elsewhere = functools.partial(env.issuer.issue, "asp-recette", aud=other)
    target = dataclasses.replace(
        external_config(env, other_audience=other).security_target(env.current_major()),
        audience_tokens=lambda audience: elsewhere(),
    )

    [result] = run_security_checks(target, [bearer.check_wrong_audience])

    assert (result.passed, result.applicable) == (True, True), result.evidence
    assert f"jeton délivré pour l'audience {other}" in result.evidence


def test_without_a_valid_token_the_token_checks_are_inconclusive_failures(env: Environment) -> None:
    target = dataclasses.replace(env.security_target(), tokens=None)

    results = by_name(run_security_checks(target, bearer.CHECKS))

    assert not results["Témoin : un jeton valide passe l'authentification"].passed
    assert "aucune source de jetons" in results["Témoin : un jeton valide passe l'authentification"].evidence
    assert results["Jeton expiré refusé (401)"].evidence.startswith("non concluant : ")
    assert not results["Jeton expiré refusé (401)"].passed
    assert results["Appel sans jeton refusé (401)"].passed  # needs no token


def test_a_check_that_breaks_fails_with_its_reason_and_the_others_still_run(env: Environment) -> None:
    def broken(_probes: Any) -> Any:
        """Contrôle cassé"""
        raise RuntimeError("panne du contrôle")

    results = run_security_checks(env.security_target(), [broken, bearer.check_missing_token])

    assert [(r.name, r.passed) for r in results] == [("Contrôle cassé", False), ("Appel sans jeton refusé (401)", True)]
    assert results[0].evidence == "le contrôle n'a pas pu s'exécuter : RuntimeError : panne du contrôle"


# -- weakened servers: the reference app with one thing loosened -------------------------------------------


REFERENCE = object()


@pytest.fixture(scope="module")
def weak_titulaire(env: Environment, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Titulaire]:
    """A reference titulaire for weakened apps: no worker (no lifespan), no contract audit."""
    settings = dataclasses.replace(
        env.titulaire.settings, data_dir=tmp_path_factory.mktemp("affaibli"), validate_responses=False
    )
    titulaire = Titulaire(settings, clock_of_the_tests_day())
    yield titulaire
    titulaire.store.close()


@contextmanager
def weakened(
    env: Environment,
    titulaire: Titulaire,
    *,
    verifier: Any = REFERENCE,
    context: Any = REFERENCE,
    debug: bool = False,
    wrap: Callable[[ASGIApp], ASGIApp] | None = None,
) -> Iterator[SecurityTarget]:
    """The reference app served with a loosened `verifier`, TLS `context`, debug mode or wrapper."""
    app = create_titulaire_app(titulaire)
    if verifier is not REFERENCE:
        app.state.verifier = verifier
    app.debug = debug
    server_context = env.certs.server_context() if context is REFERENCE else context
    with BackgroundServer(wrap(app) if wrap else app, server_context, "titulaire-affaibli", lifespan="off") as server:
        yield dataclasses.replace(env.security_target(), url=server.url)


def verifier(env: Environment, kind: type[TokenVerifier] = TokenVerifier, **options: Any) -> TokenVerifier:
    context = env.certs.client_context(env.certs.titulaire_client)
    return kind(env.issuer.url, TITULAIRE_AUDIENCE, context, **options)


class AnyAudience(TokenVerifier):
    def _claims_registry(self) -> Any:
        registry = super()._claims_registry()
        del registry.options["aud"]
        return registry


class AnyIssuer(TokenVerifier):
    def _claims_registry(self) -> Any:
        registry = super()._claims_registry()
        del registry.options["iss"]
        return registry


class AnyScope(TokenVerifier):
    def _check_scope(self, claims: dict[str, Any], required_scope: str) -> None:
        pass


class NoBinding(TokenVerifier):
    def _check_binding(self, claims: dict[str, Any], client_certificate: str | None) -> None:
        pass


class NoSignature(TokenVerifier):
    """Reads the claims without checking the signature, nor the algorithm, nor the key."""

    async def verify(
        self, authorization: str | None, required_scope: str, client_certificate: str | None = None
    ) -> Any:
        token = bearer_token(authorization, self.realm)
        try:
            claims = json.loads(unb64url(token.split(".")[1]))
            self._claims_registry().validate(claims)
        except Exception:  # noqa: BLE001 — this weakened verifier refuses whatever it cannot read
            raise invalid_token("Jeton invalide.") from None
        self._check_binding(claims, client_certificate)
        self._check_scope(claims, required_scope)
        return claims


class CrashesOnGarbage(TokenVerifier):
    """Parses the JOSE header by hand before anything else, and crashes on what is not JSON."""

    async def verify(
        self, authorization: str | None, required_scope: str, client_certificate: str | None = None
    ) -> Any:
        json.loads(unb64url(bearer_token(authorization, self.realm).split(".")[0]))
        return await super().verify(authorization, required_scope, client_certificate)


def banner_headers(app: ASGIApp) -> ASGIApp:
    """Adds `Server` and `X-Powered-By` headers naming the libraries."""

    async def with_banners(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_banners(message: Message) -> None:
            if message["type"] == "http.response.start":
                banners = [(b"server", b"uvicorn/0.34 CPython/3.11"), (b"x-powered-by", b"Starlette")]
                message = {**message, "headers": [*message.get("headers", []), *banners]}
            await send(message)

        await app(scope, receive, send_with_banners)

    return with_banners


def server_context(env: Environment, adjust: Callable[[ssl.SSLContext], None]) -> ssl.SSLContext:
    context = env.certs.server_context()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        adjust(context)
    return context


def legacy_versions(context: ssl.SSLContext) -> None:
    context.minimum_version = ssl.TLSVersion.TLSv1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")


def optional_certificate(context: ssl.SSLContext) -> None:
    context.verify_mode = ssl.CERT_OPTIONAL


def no_certificate_requested(context: ssl.SSLContext) -> None:
    context.verify_mode = ssl.CERT_NONE


def no_date_check(context: ssl.SSLContext) -> None:
    ExpiredCertificatesAccepted().server_tls(context)  # the reference's fault plug-in


WEAKENED: dict[str, tuple[dict[str, Any], set[str], str]] = {
    # name: (how the reference app is loosened, the checks that must fail, a word of their evidence)
    "sans-controle-de-jeton": (
        {"verifier": None},
        set(ALL_NAMES[7:17]),
        "→ 200",
    ),
    "jetons-expires-acceptes": (
        {"verifier": ("leeway", 24 * 3600)},
        {"Jeton expiré refusé (401)", "Jeton pas encore valide refusé (401)"},
        "attendu : 401",
    ),
    "audience-ignoree": ({"verifier": AnyAudience}, {"Jeton destiné à une autre API refusé (401)"}, "→ 200"),
    "emetteur-ignore": ({"verifier": AnyIssuer}, {"Jeton d'un autre émetteur refusé (401)"}, "→ 200"),
    "signature-ignoree": (
        {"verifier": NoSignature},
        {
            "Jeton à la signature invalide refusé (401)",
            "Jeton non signé (alg: none) refusé (401)",
            "Jeton signé par une clé inconnue refusé (401)",
        },
        "→ 200",
    ),
    "portee-ignoree": ({"verifier": AnyScope}, {"Portée insuffisante refusée (403)"}, "attendu : 403"),
    "liaison-ignoree": ({"verifier": NoBinding}, {"Jeton lié à un autre certificat refusé (401)"}, "→ 200"),
    "trace-divulguee": (
        {"verifier": CrashesOnGarbage, "debug": True},
        {"Aucune réponse d'erreur ne divulgue d'information interne"},
        "trace d'exécution Python",
    ),
    "banniere-divulguee": (
        {"wrap": banner_headers},
        {"Aucune réponse d'erreur ne divulgue d'information interne"},
        "bannière du serveur",
    ),
    "tls-1.0-et-1.1-acceptes": (
        {"context": legacy_versions},
        {"TLS 1.0 refusé", "TLS 1.1 refusé"},
        "accepté : version négociée TLSv1",
    ),
    "certificat-client-facultatif": (
        {"context": optional_certificate},
        {"Connexion sans certificat client refusée"},
        "connexion acceptée sans certificat client",
    ),
    "certificat-client-non-demande": (
        {"context": no_certificate_requested},
        {
            "Connexion sans certificat client refusée",
            "Certificat client d'une AC inconnue refusé",
            "Certificat client expiré refusé",
        },
        "(la requête a atteint l'application)",
    ),
    "dates-de-certificat-ignorees": (
        {"context": no_date_check},
        {"Certificat client expiré refusé"},
        "connexion acceptée avec un certificat client expiré",
    ),
}


def loosened(env: Environment, how: dict[str, Any]) -> dict[str, Any]:
    """The `weakened()` arguments for one entry of WEAKENED."""
    options = dict(how)
    kind = options.get("verifier", REFERENCE)
    if isinstance(kind, type):
        options["verifier"] = verifier(env, kind)
    elif isinstance(kind, tuple):
        options["verifier"] = verifier(env, leeway_seconds=kind[1])
    if "context" in options:
        options["context"] = server_context(env, options["context"])
    return options


@pytest.mark.parametrize("weakness", WEAKENED)
def test_each_check_fails_against_the_server_weakened_for_it(
    env: Environment, weak_titulaire: Titulaire, weakness: str
) -> None:
    how, expected, evidence_word = WEAKENED[weakness]

    with weakened(env, weak_titulaire, **loosened(env, how)) as target:
        results = run_security_checks(target)

    failed = {r.name: r.evidence for r in results if not r.passed}
    assert set(failed) == expected, failed
    assert all(evidence_word in failed[name] for name in expected), failed
    assert all(r.applicable for r in results)


def test_a_server_answering_plain_http_fails_the_plain_http_check(env: Environment, weak_titulaire: Titulaire) -> None:
    with weakened(env, weak_titulaire, context=None) as target:
        plain_target = dataclasses.replace(target, url=target.url.replace("http://", "https://"))
        [result] = run_security_checks(plain_target, [transport.check_plain_http])

    assert not result.passed
    assert result.evidence.startswith("la cible sert l'API en clair : GET /v1/sante → 401 authentification-requise")


def test_every_check_has_a_server_weakened_for_it() -> None:
    covered = {name for _, expected, _ in WEAKENED.values() for name in expected} | {"HTTP en clair refusé"}
    checks = (*transport.CHECKS, *bearer.CHECKS, *leaks.CHECKS)

    assert covered == {check_name(check) for check in checks} - {ALL_NAMES[6]}  # the control is not a defence


def test_the_token_source_repr_names_the_client_not_the_secret(env: Environment) -> None:
    credentials = env.credentials()
    source = ClientCredentialsSource(credentials, env.certs.client_context(env.certs.asp_client))

    assert credentials.client_secret not in repr(source)
    assert credentials.client_id in repr(source)


def test_the_suite_works_in_a_directory_it_cleans_up(env: Environment) -> None:
    before = set(Path(tempfile.gettempdir()).glob("recette-securite-*"))
    run_security_checks(env.security_target(), [transport.check_unknown_authority])

    assert set(Path(tempfile.gettempdir()).glob("recette-securite-*")) == before


def test_every_check_of_the_harness_is_one_example_of_the_securite_feature() -> None:
    feature = FeatureParser(str(project_folder("features")), "securite.feature").parse()
    listed = [
        context["contrôle"]
        for template in feature.scenarios.values()
        for examples in template.examples
        for context in examples.as_contexts()
    ]
    assert sorted(listed) == sorted(check_name(check) for check in CHECKS)
