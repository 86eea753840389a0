"""The titulaire's Bearer token check against a live mock issuer (HTTPS, mutual TLS, real JWKS)."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import OctKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from harness.foundations import token_verifier as auth
from harness.foundations.problems import PROBLEM_MEDIA_TYPE, Problem
from harness.foundations.servers import BackgroundServer
from harness.foundations.tls import CertificatePair, RunCertificates, certificate_thumbprint
from harness.foundations.token_verifier import TokenVerifier
from mocks.oidc import Issuer, RegisteredClient, create_app, generate_signing_key
from tests.helpers import ManualClock

pytestmark = pytest.mark.anyio

AUDIENCE = "https://titulaire.recette.local"
CLIENT = RegisteredClient("asp-recette", "secret-recette", ("depots:ecrire", "depots:lire"), AUDIENCE)
READ = "depots:lire"
INTERNALS = ("joserfc", "traceback", "exception", "claim", "kid", "jwks", "127.0.0.1", "error:", ".py")
START = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)


@dataclass
class Live:
    issuer: Issuer
    clock: ManualClock
    certs: RunCertificates

    def verifier(self, issuer_url: str | None = None) -> TokenVerifier:
        context = self.certs.client_context(self.certs.titulaire_client)
        return TokenVerifier(issuer_url or self.issuer.url, AUDIENCE, context, clock=self.clock)

    def bearer(self, **overrides: Any) -> str:
        return f"Bearer {self.issuer.issue(CLIENT.client_id, **overrides)}"

    def fetches(self) -> tuple[int, int]:
        """(discovery, JWKS) requests the issuer served."""
        return self.issuer.requests["/.well-known/openid-configuration"], self.issuer.requests["/jwks"]


@pytest.fixture
def certs(tmp_path: Path) -> RunCertificates:
    return RunCertificates.create(tmp_path / "tls")


@pytest.fixture
def live(certs: RunCertificates) -> Iterator[Live]:
    clock = ManualClock(START)
    issuer = Issuer([CLIENT], clock=clock)
    with BackgroundServer(create_app(issuer), certs.server_context(), "oidc") as server:
        issuer.url = server.url
        yield Live(issuer, clock, certs)


@pytest.fixture
def dead_issuer_url(certs: RunCertificates) -> str:
    """The URL of an issuer that was started, then stopped: nothing listens there any more."""
    with BackgroundServer(create_app(Issuer([CLIENT])), certs.server_context(), "oidc-arrete") as server:
        return server.url


async def refusal(
    verifier: TokenVerifier, authorization: str | None, scope: str = READ, client_certificate: str | None = None
) -> Problem:
    with pytest.raises(Problem) as raised:
        await verifier.verify(authorization, scope, client_certificate)
    return raised.value


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def assert_invalid_token(problem: Problem, description: str) -> None:
    assert (problem.status, problem.code, problem.detail) == (401, "jeton-invalide", description)
    challenge = problem.headers["WWW-Authenticate"]
    expected = f'Bearer realm="titulaire", error="invalid_token", error_description="{auth.ascii_text(description)}"'
    assert challenge == expected
    assert challenge.isascii()
    for text in (problem.detail.lower(), challenge.lower()):
        assert not [word for word in INTERNALS if word in text], text


# -- accepted --------------------------------------------------------------------------------------------


async def test_a_valid_token_gives_its_claims(live: Live) -> None:
    claims = await live.verifier().verify(live.bearer(), "depots:ecrire")

    assert claims["sub"] == CLIENT.client_id
    assert claims["aud"] == AUDIENCE
    assert live.fetches() == (1, 1)


async def test_keys_are_cached_between_verifications(live: Live) -> None:
    verifier = live.verifier()

    for _ in range(3):
        await verifier.verify(live.bearer(), READ)

    assert live.fetches() == (1, 1)


async def test_clock_skew_within_the_leeway_is_tolerated(live: Live) -> None:
    token = live.bearer()
    live.clock.advance(timedelta(seconds=300 + 20))

    claims = await live.verifier().verify(token, READ)

    assert claims["sub"] == CLIENT.client_id


# -- no credentials ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("authorization", [None, "", "Basic YTpi", "Bearer", "Bearer  ", "Bearer a b", "Bearer é"])
async def test_missing_or_malformed_credentials_require_authentication(live: Live, authorization: str | None) -> None:
    problem = await refusal(live.verifier(), authorization)

    assert (problem.status, problem.code) == (401, "authentification-requise")
    assert problem.headers["WWW-Authenticate"] == 'Bearer realm="titulaire"'
    assert live.fetches() == (0, 0)


# -- invalid tokens ---------------------------------------------------------------------------------------


async def test_expired_token_is_invalid(live: Live) -> None:
    token = live.bearer()
    live.clock.advance(timedelta(seconds=300 + 30 + 1))

    assert_invalid_token(await refusal(live.verifier(), token), auth.EXPIRED)


async def test_token_not_yet_valid_is_invalid(live: Live) -> None:
    not_before = int(live.clock().timestamp()) + 120

    assert_invalid_token(await refusal(live.verifier(), live.bearer(nbf=not_before)), auth.NOT_YET_VALID)


async def test_wrong_audience_is_invalid(live: Live) -> None:
    token = live.bearer(aud="https://une-autre-api.example")

    assert_invalid_token(await refusal(live.verifier(), token), auth.AUDIENCE)


async def test_wrong_issuer_is_invalid(live: Live) -> None:
    token = live.bearer(iss="https://faux-emetteur.example")

    assert_invalid_token(await refusal(live.verifier(), token), auth.ISSUER)


async def test_token_without_expiry_is_invalid(live: Live) -> None:
    assert_invalid_token(await refusal(live.verifier(), live.bearer(exp=None)), auth.CLAIMS)


async def test_tampered_signature_is_invalid(live: Live) -> None:
    header, payload, signature = live.bearer().removeprefix("Bearer ").split(".")
    flipped = bytearray(unb64url(signature))
    flipped[len(flipped) // 2] ^= 0x01
    token = f"Bearer {header}.{payload}.{b64url(bytes(flipped))}"

    assert_invalid_token(await refusal(live.verifier(), token), auth.SIGNATURE)


async def test_tampered_payload_is_invalid(live: Live) -> None:
    header, payload, signature = live.issuer.issue(CLIENT.client_id, ["depots:lire"]).split(".")
    claims = json.loads(unb64url(payload)) | {"scope": "depots:lire depots:ecrire"}
    token = f"Bearer {header}.{b64url(json.dumps(claims).encode())}.{signature}"

    assert_invalid_token(await refusal(live.verifier(), token, "depots:ecrire"), auth.SIGNATURE)


async def test_unsigned_token_alg_none_is_invalid(live: Live) -> None:
    _, payload, _ = live.bearer().removeprefix("Bearer ").split(".")
    header = {"alg": "none", "typ": "JWT", "kid": live.issuer.active_kid}
    token = f"Bearer {b64url(json.dumps(header).encode())}.{payload}."

    assert_invalid_token(await refusal(live.verifier(), token), auth.ALGORITHM)


async def test_hmac_token_is_invalid_even_with_a_published_kid(live: Live) -> None:
    secret = OctKey.generate_key(256)
    claims = json.loads(unb64url(live.bearer().split(".")[1]))
    token = jwt.encode({"alg": "HS256", "kid": live.issuer.active_kid}, claims, secret)

    assert_invalid_token(await refusal(live.verifier(), f"Bearer {token}"), auth.ALGORITHM)


@pytest.mark.parametrize("token", ["abc.def.ghi", "abc", "eyJhbGciOiJSUzI1NiJ9.e30", "a.b.c.d.e"])
async def test_unreadable_token_is_invalid(live: Live, token: str) -> None:
    assert_invalid_token(await refusal(live.verifier(), f"Bearer {token}"), auth.UNREADABLE)


async def test_token_signed_by_an_unpublished_key_is_invalid(live: Live) -> None:
    token = live.bearer(signing_key=generate_signing_key())

    assert_invalid_token(await refusal(live.verifier(), token), auth.UNKNOWN_KEY)


async def test_unknown_keys_refresh_the_jwks_at_most_once_per_interval(live: Live) -> None:
    verifier = live.verifier()
    stranger = live.bearer(signing_key=generate_signing_key())
    await verifier.verify(live.bearer(), READ)

    for _ in range(3):
        await refusal(verifier, stranger)
    assert live.fetches() == (1, 1)

    live.clock.advance(timedelta(seconds=11))
    await refusal(verifier, stranger)
    await refusal(verifier, stranger)
    assert live.fetches() == (1, 2)


# -- scope ------------------------------------------------------------------------------------------------


async def test_missing_scope_is_forbidden(live: Live) -> None:
    token = live.bearer(scope="depots:lire")

    problem = await refusal(live.verifier(), token, "depots:ecrire")

    assert (problem.status, problem.code) == (403, "droits-insuffisants")
    challenge = problem.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="titulaire", error="insufficient_scope", error_description="')
    assert challenge.endswith(', scope="depots:ecrire"')
    assert challenge.isascii()


async def test_a_scope_is_matched_whole_not_as_a_substring(live: Live) -> None:
    token = live.bearer(scope="depots:ecrire-brouillon")

    problem = await refusal(live.verifier(), token, "depots:ecrire")

    assert problem.code == "droits-insuffisants"


# -- certificate-bound tokens (RFC 8705) -----------------------------------------------------------------


def bound_to(pair: CertificatePair) -> dict[str, Any]:
    return {"cnf": {"x5t#S256": certificate_thumbprint(pair.cert.read_bytes())}}


async def test_a_bound_token_passes_over_a_connection_with_its_certificate(live: Live) -> None:
    token = live.bearer(**bound_to(live.certs.asp_client))

    claims = await live.verifier().verify(token, READ, live.certs.asp_client.cert.read_text())

    assert claims["cnf"] == bound_to(live.certs.asp_client)["cnf"]


async def test_a_bound_token_over_another_certificate_is_invalid(live: Live) -> None:
    token = live.bearer(**bound_to(live.certs.asp_client))

    problem = await refusal(live.verifier(), token, client_certificate=live.certs.titulaire_client.cert.read_text())

    assert_invalid_token(problem, auth.BINDING)


async def test_a_bound_token_without_a_client_certificate_is_invalid(live: Live) -> None:
    token = live.bearer(**bound_to(live.certs.asp_client))

    assert_invalid_token(await refusal(live.verifier(), token), auth.BINDING)


@pytest.mark.parametrize("confirmation", [{"jkt": "abc"}, "x5t", {"x5t#S256": 42}])
async def test_a_confirmation_the_verifier_cannot_check_is_invalid(live: Live, confirmation: object) -> None:
    token = live.bearer(cnf=confirmation)

    problem = await refusal(live.verifier(), token, client_certificate=live.certs.asp_client.cert.read_text())

    assert_invalid_token(problem, auth.CLAIMS)


async def test_an_unbound_token_is_valid_over_any_certificate(live: Live) -> None:
    claims = await live.verifier().verify(live.bearer(), READ, live.certs.titulaire_client.cert.read_text())

    assert "cnf" not in claims


async def test_the_challenge_names_the_realm_of_the_api(live: Live) -> None:
    context = live.certs.client_context(live.certs.titulaire_client)
    verifier = TokenVerifier(live.issuer.url, AUDIENCE, context, realm="asp", clock=live.clock)

    missing = await refusal(verifier, None)
    expired = await refusal(verifier, live.bearer(exp=int(live.clock().timestamp()) - 3600))

    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="asp"'
    assert expired.headers["WWW-Authenticate"].startswith('Bearer realm="asp", error="invalid_token"')


# -- key rotation and issuer outages ----------------------------------------------------------------------


async def test_rotation_keeps_tokens_verifiable_and_refreshes_on_a_new_kid(live: Live) -> None:
    verifier = live.verifier()
    before_rotation = live.bearer()
    await verifier.verify(before_rotation, READ)

    live.issuer.rotate()
    await verifier.verify(live.bearer(), READ)  # the standby key was published ahead: no refetch
    await verifier.verify(before_rotation, READ)  # the retired key still is
    assert live.fetches() == (1, 1)

    live.issuer.rotate()  # this active key was announced after the verifier's fetch
    live.clock.advance(timedelta(seconds=11))
    claims = await verifier.verify(live.bearer(), READ)

    assert claims["sub"] == CLIENT.client_id
    assert live.fetches() == (1, 2)


async def test_issuer_down_is_service_unavailable(live: Live, dead_issuer_url: str) -> None:
    problem = await refusal(live.verifier(dead_issuer_url), live.bearer())

    assert (problem.status, problem.code) == (503, "service-indisponible")
    assert problem.detail == auth.UNAVAILABLE
    assert problem.headers["Retry-After"] == "10"
    assert not [word for word in INTERNALS if word in problem.detail.lower()]


async def test_cached_keys_outlive_an_issuer_outage(certs: RunCertificates) -> None:
    clock = ManualClock(START)
    issuer = Issuer([CLIENT], clock=clock)
    live = Live(issuer, clock, certs)
    with BackgroundServer(create_app(issuer), certs.server_context(), "oidc") as server:
        issuer.url = server.url
        verifier = live.verifier()
        await verifier.verify(live.bearer(), READ)

    await verifier.verify(live.bearer(), READ)
    clock.advance(timedelta(seconds=11))
    problem = await refusal(verifier, live.bearer(signing_key=generate_signing_key()))
    assert problem.code == "service-indisponible"


# -- on the wire --------------------------------------------------------------------------------------------


async def protected(request: Request) -> Response:
    claims = await request.app.state.verifier.verify(request.headers.get("authorization"), READ)
    return JSONResponse({"sub": claims["sub"]})


async def problem_response(request: Request, error: Exception) -> Response:
    assert isinstance(error, Problem)
    return error.response(request.url.path)


def protected_app(verifier: TokenVerifier) -> Starlette:
    app = Starlette(routes=[Route("/protege", protected)], exception_handlers={Problem: problem_response})
    app.state.verifier = verifier
    return app


@pytest.fixture
async def api(live: Live) -> AsyncIterator[httpx.AsyncClient]:
    with BackgroundServer(protected_app(live.verifier()), live.certs.server_context(), "api") as server:
        verify = live.certs.client_context(live.certs.asp_client)
        async with httpx.AsyncClient(base_url=server.url, verify=verify) as http:
            yield http


async def test_on_the_wire_a_valid_token_passes(live: Live, api: httpx.AsyncClient) -> None:
    response = await api.get("/protege", headers={"Authorization": live.bearer()})

    assert response.status_code == 200
    assert response.json() == {"sub": CLIENT.client_id}


async def test_on_the_wire_refusals_are_problems_with_a_bearer_challenge(live: Live, api: httpx.AsyncClient) -> None:
    anonymous = await api.get("/protege")
    expired = live.bearer(exp=int(live.clock().timestamp()) - 3600)
    invalid = await api.get("/protege", headers={"Authorization": expired})
    forbidden = await api.get("/protege", headers={"Authorization": live.bearer(scope="depots:ecrire")})

    for response, status, code in [
        (anonymous, 401, "authentification-requise"),
        (invalid, 401, "jeton-invalide"),
        (forbidden, 403, "droits-insuffisants"),
    ]:
        assert response.status_code == status
        assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
        assert response.json()["code"] == code
        assert response.headers["www-authenticate"].startswith('Bearer realm="titulaire"')
    assert anonymous.headers["www-authenticate"] == 'Bearer realm="titulaire"'
    assert 'error="invalid_token"' in invalid.headers["www-authenticate"]
    assert 'scope="depots:lire"' in forbidden.headers["www-authenticate"]


async def test_on_the_wire_an_issuer_outage_is_a_503_problem(live: Live, dead_issuer_url: str) -> None:
    app = protected_app(live.verifier(dead_issuer_url))
    with BackgroundServer(app, live.certs.server_context(), "api") as server:
        verify = live.certs.client_context(live.certs.asp_client)
        async with httpx.AsyncClient(base_url=server.url, verify=verify) as http:
            response = await http.get("/protege", headers={"Authorization": live.bearer()})

    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.headers["retry-after"] == "10"
    assert response.json()["code"] == "service-indisponible"
    assert not [word for word in INTERNALS if word in response.text.lower()]
