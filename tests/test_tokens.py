"""Client credentials on the ASP side: tokens obtained, cached, renewed and retried, against live servers."""

from __future__ import annotations

import base64
import json
import logging
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import pytest
import respx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from time_machine import TimeMachineFixture

from harness.foundations.problems import Problem
from harness.foundations.servers import BackgroundServer
from harness.foundations.tls import RunCertificates
from harness.foundations.token_verifier import TokenVerifier
from harness.foundations.tokens import (
    AccessToken,
    ClientCredentials,
    ClientCredentialsAuth,
    TokenRequestError,
    discover_token_endpoint,
)
from mocks.oidc import Issuer, RegisteredClient, create_app

AUDIENCE = "https://titulaire.recette.local"
SECRET = "s3cret:+/é&=%"
WRITER = RegisteredClient("asp-recette", SECRET, ("depots:ecrire", "depots:lire"), AUDIENCE)
READER = RegisteredClient("asp-lecture", "lecture-seule", ("depots:lire",), AUDIENCE)
WRITE = "depots:ecrire"


@dataclass
class Api:
    """What the protected test API saw, and how it treats tokens."""

    verifier: TokenVerifier
    revoked: set[str] = field(default_factory=set)
    reject_all: bool = False
    authorizations: list[str | None] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)


async def resource(request: Request) -> Response:
    """Any method on /ressource: a Bearer token with depots:ecrire, not revoked."""
    api: Api = request.app.state.api
    authorization = request.headers.get("authorization")
    api.authorizations.append(authorization)
    api.bodies.append(await request.body())
    claims = await api.verifier.verify(authorization, WRITE)
    if api.reject_all or claims["jti"] in api.revoked:
        challenge = 'Bearer realm="titulaire", error="invalid_token"'
        raise Problem("jeton-invalide", "Jeton révoqué.", headers={"WWW-Authenticate": challenge})
    return JSONResponse({"sub": claims["sub"], "octets": len(api.bodies[-1])})


async def problem_response(request: Request, error: Exception) -> Response:
    assert isinstance(error, Problem)
    return error.response(request.url.path)


@dataclass
class Live:
    issuer: Issuer
    api: Api
    api_url: str
    certs: RunCertificates

    def credentials(self, client: RegisteredClient = WRITER, secret: str | None = None) -> ClientCredentials:
        return ClientCredentials(
            f"{self.issuer.url}/token", client.client_id, secret or client.client_secret, client.scopes
        )

    def auth(self, credentials: ClientCredentials | None = None) -> ClientCredentialsAuth:
        context = self.certs.client_context(self.certs.asp_client)
        return ClientCredentialsAuth(credentials or self.credentials(), context)

    def client(self, auth: ClientCredentialsAuth | None = None) -> httpx.Client:
        context = self.certs.client_context(self.certs.asp_client)
        return httpx.Client(base_url=self.api_url, verify=context, auth=auth or self.auth())

    def async_client(self, auth: ClientCredentialsAuth | None = None) -> httpx.AsyncClient:
        context = self.certs.client_context(self.certs.asp_client)
        return httpx.AsyncClient(base_url=self.api_url, verify=context, auth=auth or self.auth())

    def token_requests(self) -> int:
        return self.issuer.requests["/token"]

    def revoke_last_token(self) -> None:
        self.api.revoked.add(claims_of(self.api.authorizations[-1])["jti"])


def claims_of(authorization: str | None) -> dict[str, object]:
    """The payload of a Bearer JWT, read without verification (what the API saw)."""
    assert authorization is not None
    payload = authorization.removeprefix("Bearer ").split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    certs = RunCertificates.create(tmp_path / "tls")
    issuer = Issuer([WRITER, READER])
    with BackgroundServer(create_app(issuer), certs.server_context(), "oidc") as issuer_server:
        issuer.url = issuer_server.url
        verifier = TokenVerifier(issuer.url, AUDIENCE, certs.client_context(certs.titulaire_client))
        api = Api(verifier)
        routes = [Route("/ressource", resource, methods=["GET", "POST"])]
        app = Starlette(routes=routes, exception_handlers={Problem: problem_response})
        app.state.api = api
        with BackgroundServer(app, certs.server_context(), "api") as api_server:
            yield Live(issuer, api, api_server.url, certs)


# -- caching and renewal ------------------------------------------------------------------------------------


def test_one_token_serves_several_calls(live: Live) -> None:
    with live.client() as client:
        responses = [client.get("/ressource") for _ in range(2)]

    assert [response.status_code for response in responses] == [200, 200]
    assert live.token_requests() == 1
    assert live.api.authorizations[0] == live.api.authorizations[1]
    assert live.issuer.auth_methods == {"client_secret_basic": 1}


def test_the_token_carries_the_client_s_scopes(live: Live) -> None:
    with live.client(live.auth(live.credentials(READER))) as client:
        response = client.get("/ressource")

    assert response.status_code == 403
    assert claims_of(live.api.authorizations[0])["scope"] == "depots:lire"
    assert len(live.api.authorizations) == 1, "a 403 is not retried"


def test_the_token_is_renewed_shortly_before_it_expires(live: Live, time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(datetime.now(UTC), tick=False)
    with live.client() as client:
        client.get("/ressource")
        time_machine.shift(200)
        assert client.get("/ressource").status_code == 200
        assert live.token_requests() == 1

        time_machine.shift(80)  # 280 s: the token (300 s) is still valid, but inside the renewal margin
        assert client.get("/ressource").status_code == 200

    assert live.token_requests() == 2
    first, _, renewed = (claims_of(authorization) for authorization in live.api.authorizations)
    assert first["jti"] != renewed["jti"]


def test_an_expired_token_is_never_sent(live: Live, time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(datetime.now(UTC), tick=False)
    with live.client() as client:
        client.get("/ressource")
        time_machine.shift(3600)
        response = client.get("/ressource")

    assert response.status_code == 200
    assert live.token_requests() == 2
    assert len(live.api.authorizations) == 2, "no 401 round trip was needed"


# -- retry on 401 ---------------------------------------------------------------------------------------------


def test_a_401_is_retried_once_with_a_fresh_token(live: Live) -> None:
    with live.client() as client:
        client.get("/ressource")
        live.revoke_last_token()
        response = client.post("/ressource", files={"document": ("piece.pdf", b"%PDF-1.7 contenu", "application/pdf")})

    assert response.status_code == 200
    assert live.token_requests() == 2
    assert len(live.api.authorizations) == 3
    assert live.api.authorizations[1] != live.api.authorizations[2]
    assert live.api.bodies[1] == live.api.bodies[2], "the multipart body is sent whole the second time"


def test_a_second_401_is_returned_without_further_retries(live: Live) -> None:
    live.api.reject_all = True
    with live.client() as client:
        response = client.get("/ressource")

    assert response.status_code == 401
    assert response.json()["code"] == "jeton-invalide"
    assert len(live.api.authorizations) == 2
    assert live.token_requests() == 2


def test_a_body_that_cannot_be_replayed_is_not_retried(live: Live) -> None:
    live.api.reject_all = True

    def chunks() -> Iterator[bytes]:
        yield b"premier morceau, "
        yield b"second morceau"

    with live.client() as client:
        response = client.post("/ressource", content=chunks())

    assert response.status_code == 401
    assert len(live.api.authorizations) == 1


@pytest.mark.anyio
async def test_async_flow_caches_and_retries(live: Live) -> None:
    async with live.async_client() as client:
        assert (await client.get("/ressource")).status_code == 200
        assert (await client.get("/ressource")).status_code == 200
        assert live.token_requests() == 1

        live.revoke_last_token()
        response = await client.post("/ressource", content=b"contenu")

    assert response.status_code == 200
    assert live.token_requests() == 2
    assert len(live.api.authorizations) == 4


# -- secrets ---------------------------------------------------------------------------------------------------


def test_a_refused_client_raises_without_revealing_its_secret(live: Live) -> None:
    wrong = "mauvais-secret-tres-confidentiel"
    with live.client(live.auth(live.credentials(secret=wrong))) as client, pytest.raises(TokenRequestError) as raised:
        client.get("/ressource")

    message = str(raised.value)
    assert "invalid_client" in message
    assert "401" in message
    assert wrong not in message
    assert live.api.authorizations == []


def test_secrets_and_tokens_stay_out_of_reprs_and_logs(live: Live, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    credentials = live.credentials()
    auth = live.auth(credentials)
    with live.client(auth) as client:
        client.get("/ressource")
    token = live.api.authorizations[0]
    assert token is not None
    token = token.removeprefix("Bearer ")

    texts = [repr(credentials), repr(auth), repr(AccessToken(token, datetime.now(UTC)))]
    texts += [record.getMessage() for record in caplog.records]
    basic = base64.b64encode(b"asp-recette:").decode()[:12]
    for text in texts:
        assert SECRET not in text
        assert token not in text
        assert basic not in text
    assert any("asp-recette" in text for text in texts)


# -- tls_client_auth and discovery, on the wire of a mocked issuer ----------------------------------------


def test_without_a_secret_the_client_authenticates_by_its_certificate_only(tmp_path: Path) -> None:
    certs = RunCertificates.create(tmp_path / "tls")
    credentials = ClientCredentials("https://idp.test/token", "titulaire", scopes=("retours:ecrire",))
    body = {"access_token": "jeton", "token_type": "Bearer", "expires_in": 60}
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post("https://idp.test/token").respond(200, json=body)
        token = ClientCredentialsAuth(credentials, certs.client_context(certs.titulaire_client)).access_token()

    sent = route.calls.last.request
    assert token == "jeton"
    assert credentials.auth_method == "tls_client_auth"
    assert "authorization" not in sent.headers
    assert dict(parse_qsl(sent.content.decode())) == {
        "grant_type": "client_credentials",
        "client_id": "titulaire",
        "scope": "retours:ecrire",
    }


def test_discovery_gives_the_token_endpoint() -> None:
    verify = ssl.create_default_context()
    document = "https://idp.test/.well-known/openid-configuration"
    with respx.mock() as mock:
        mock.get(document).respond(200, json={"token_endpoint": "https://idp.test/oauth2/token"})
        assert discover_token_endpoint(document, verify) == "https://idp.test/oauth2/token"
        mock.get(document).respond(200, json={"token_endpoint": "http://idp.test/token"})
        with pytest.raises(TokenRequestError, match="non HTTPS"):
            discover_token_endpoint(document, verify)
        mock.get(document).respond(404)
        with pytest.raises(TokenRequestError, match="illisible"):
            discover_token_endpoint(document, verify)


# -- callers that are not httpx (the locust user) -----------------------------------------------------------


def test_a_caller_that_is_not_httpx_posts_the_token_request_itself_and_can_forget_the_token(live: Live) -> None:
    posted: list[dict[str, object]] = []
    context = live.certs.client_context(live.certs.asp_client)

    def post(**request: object) -> httpx.Response:
        posted.append(request)
        with httpx.Client(verify=context) as http:
            return http.post(**request)  # type: ignore[arg-type]

    auth = ClientCredentialsAuth(live.credentials(), context, post=post)
    first = auth.access_token()
    assert auth.access_token() == first
    assert len(posted) == 1
    auth.forget()
    assert auth.access_token()
    assert len(posted) == 2
    assert posted[0]["url"] == f"{live.issuer.url}/token"
    assert live.token_requests() == 2


@respx.mock
def test_extra_parameters_are_sent_without_replacing_the_grant_s_own() -> None:
    route = respx.post("https://idp.example/token").mock(
        return_value=httpx.Response(200, json={"access_token": "t", "token_type": "Bearer", "expires_in": 60})
    )
    parameters = (("audience", "https://api.example"), ("grant_type", "password"))
    credentials = ClientCredentials("https://idp.example/token", "c", "s", ("depots:lire",), parameters)
    assert ClientCredentialsAuth(credentials, ssl.create_default_context()).access_token() == "t"
    form = dict(parse_qsl(route.calls.last.request.content.decode()))
    assert form == {"audience": "https://api.example", "grant_type": "client_credentials", "scope": "depots:lire"}
