"""The mock OIDC issuer, served for real over HTTPS with mutual TLS: discovery, JWKS, token endpoint."""

from __future__ import annotations

import base64
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote_plus

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from harness.foundations.servers import BackgroundServer
from harness.foundations.tls import CertificatePair, RunCertificates, certificate_subject, certificate_thumbprint
from mocks.oidc import Issuer, RegisteredClient, create_app
from tests.helpers import ManualClock

AUDIENCE = "https://titulaire.recette.local"
RECETTE = RegisteredClient("asp-recette", "secret-recette-123", ("depots:ecrire", "depots:lire"), AUDIENCE)
LECTURE = RegisteredClient("asp-lecture", "secret:lecture&+é", ("depots:lire",), AUDIENCE)
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
START = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)


@dataclass
class LiveIssuer:
    issuer: Issuer
    clock: ManualClock
    http: httpx.Client
    certs: RunCertificates

    def token(self, data: dict[str, str], **kwargs: object) -> httpx.Response:
        return self.http.post("/token", data=data, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveIssuer]:
    certs = RunCertificates.create(tmp_path / "tls")
    clock = ManualClock(START)
    issuer = Issuer([RECETTE, LECTURE], clock=clock)
    with BackgroundServer(create_app(issuer), certs.server_context(), "oidc") as server:
        issuer.url = server.url
        verify = certs.client_context(certs.asp_client)
        with httpx.Client(base_url=server.url, verify=verify) as http:
            yield LiveIssuer(issuer, clock, http, certs)


def basic(client_id: str, secret: str) -> dict[str, str]:
    """client_secret_basic: id and secret form-urlencoded, then base64 (RFC 6749 §2.3.1)."""
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}"
    return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}


def published_keys(live: LiveIssuer) -> KeySet:
    return KeySet.import_key_set(live.http.get("/jwks").json())


def test_discovery_document_describes_the_issuer(live: LiveIssuer) -> None:
    response = live.http.get("/.well-known/openid-configuration")

    assert response.status_code == 200
    metadata = response.json()
    url = live.issuer.url
    assert metadata["issuer"] == url
    assert metadata["token_endpoint"] == f"{url}/token"
    assert metadata["jwks_uri"] == f"{url}/jwks"
    assert metadata["grant_types_supported"] == ["client_credentials"]
    methods = set(metadata["token_endpoint_auth_methods_supported"])
    assert methods == {"client_secret_basic", "client_secret_post", "tls_client_auth"}
    assert metadata["tls_client_certificate_bound_access_tokens"] is True
    assert metadata["id_token_signing_alg_values_supported"] == ["RS256"]
    assert metadata["scopes_supported"] == ["depots:ecrire", "depots:lire"]


def test_jwks_publishes_both_keys_and_only_public_material(live: LiveIssuer) -> None:
    keys = live.http.get("/jwks").json()["keys"]

    assert {key["kid"] for key in keys} == {live.issuer.active_kid, live.issuer.standby_kid}
    assert live.issuer.active_kid != live.issuer.standby_kid
    for key in keys:
        assert key["kty"] == "RSA"
        assert key["alg"] == "RS256"
        assert key["use"] == "sig"
        assert not PRIVATE_MEMBERS & key.keys(), f"private member published in {sorted(key)}"


def test_client_secret_basic_gives_a_signed_access_token(live: LiveIssuer) -> None:
    response = live.token({"grant_type": "client_credentials"}, headers=basic(RECETTE.client_id, RECETTE.client_secret))

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    assert body["scope"] == "depots:ecrire depots:lire"
    token = jwt.decode(body["access_token"], published_keys(live), algorithms=["RS256"])
    assert token.header["kid"] == live.issuer.active_kid
    assert token.header["typ"] == "at+jwt"
    claims = token.claims
    now = int(live.clock().timestamp())
    assert claims["iss"] == live.issuer.url
    assert claims["sub"] == claims["client_id"] == RECETTE.client_id
    assert claims["aud"] == AUDIENCE
    assert (claims["iat"], claims["nbf"], claims["exp"]) == (now, now, now + 300)
    assert claims["scope"] == "depots:ecrire depots:lire"
    assert claims["jti"]
    assert live.issuer.tokens_issued[RECETTE.client_id] == 1
    assert live.issuer.auth_methods["client_secret_basic"] == 1


def test_client_secret_basic_decodes_form_encoded_credentials(live: LiveIssuer) -> None:
    pair = "asp-lecture:secret%3Alecture%26%2B%C3%A9"
    encoded = {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}

    response = live.token({"grant_type": "client_credentials"}, headers=encoded)

    assert response.status_code == 200, response.text


def test_client_secret_post_and_a_subset_of_scopes(live: LiveIssuer) -> None:
    form = {
        "grant_type": "client_credentials",
        "client_id": RECETTE.client_id,
        "client_secret": RECETTE.client_secret,
        "scope": "depots:lire",
    }

    response = live.token(form)

    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "depots:lire"
    claims = jwt.decode(response.json()["access_token"], published_keys(live)).claims
    assert claims["scope"] == "depots:lire"
    assert live.issuer.auth_methods["client_secret_post"] == 1


def test_each_token_has_its_own_jti(live: LiveIssuer) -> None:
    tokens = [live.issuer.issue(RECETTE.client_id) for _ in range(2)]

    keys = published_keys(live)
    assert len({jwt.decode(token, keys).claims["jti"] for token in tokens}) == 2


@pytest.mark.parametrize(
    ("form", "headers"),
    [
        ({"grant_type": "client_credentials"}, basic(RECETTE.client_id, "mauvais-secret")),
        ({"grant_type": "client_credentials"}, basic("inconnu", RECETTE.client_secret)),
        ({"grant_type": "client_credentials", "client_id": RECETTE.client_id, "client_secret": "mauvais"}, {}),
        ({"grant_type": "client_credentials"}, {}),
        ({"grant_type": "client_credentials"}, {"Authorization": "Basic pas-du-base64!"}),
    ],
    ids=["basic-wrong-secret", "basic-unknown-client", "post-wrong-secret", "no-client-auth", "basic-garbled"],
)
def test_bad_client_authentication_is_invalid_client(
    live: LiveIssuer, form: dict[str, str], headers: dict[str, str]
) -> None:
    response = live.token(form, headers=headers)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic ")
    assert RECETTE.client_secret not in response.text
    assert live.issuer.tokens_issued.total() == 0


def test_scope_outside_the_client_s_is_invalid_scope(live: LiveIssuer) -> None:
    form = {"grant_type": "client_credentials", "scope": "depots:lire depots:ecrire"}

    response = live.token(form, headers=basic(LECTURE.client_id, LECTURE.client_secret))

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    assert "depots:ecrire" in response.json()["error_description"]


def test_other_grant_type_is_unsupported(live: LiveIssuer) -> None:
    form = {"grant_type": "password", "username": "u", "password": "p"}

    response = live.token(form, headers=basic(RECETTE.client_id, RECETTE.client_secret))

    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"data": {}},
        {"json": {"grant_type": "client_credentials"}},
        {"data": {"grant_type": "client_credentials", "client_secret": RECETTE.client_secret}},
        {"content": b"grant_type=client_credentials&grant_type=client_credentials"},
    ],
    ids=["no-grant-type", "json-body", "two-auth-methods", "repeated-parameter"],
)
def test_malformed_token_requests_are_invalid_request(live: LiveIssuer, request_kwargs: dict[str, object]) -> None:
    headers = basic(RECETTE.client_id, RECETTE.client_secret)
    if "content" in request_kwargs:
        headers["Content-Type"] = "application/x-www-form-urlencoded"

    response = live.http.post("/token", headers=headers, **request_kwargs)  # type: ignore[arg-type]

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert response.headers["cache-control"] == "no-store"


def test_rotation_signs_with_the_standby_key_and_keeps_the_retired_one_for_a_token_lifetime(
    live: LiveIssuer,
) -> None:
    first, standby = live.issuer.active_kid, live.issuer.standby_kid
    old_token = live.issuer.issue(RECETTE.client_id)

    live.issuer.rotate()

    new_token = live.issuer.issue(RECETTE.client_id)
    assert jwt.decode(new_token, published_keys(live)).header["kid"] == standby == live.issuer.active_kid
    published = {key.kid for key in published_keys(live)}
    assert published == {first, standby, live.issuer.standby_kid}
    assert jwt.decode(old_token, published_keys(live)).claims["sub"] == RECETTE.client_id
    live.clock.advance(timedelta(seconds=301))
    assert first not in {key.kid for key in published_keys(live)}


def test_the_issuer_demands_a_client_certificate(live: LiveIssuer) -> None:
    anonymous = live.certs.client_context(None)

    with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError, ssl.SSLError)):
        httpx.get(f"{live.issuer.url}/jwks", verify=anonymous).raise_for_status()


def test_repr_of_a_registered_client_hides_its_secret() -> None:
    assert RECETTE.client_secret not in repr(RECETTE)


# -- tls_client_auth (RFC 8705) ------------------------------------------------------------------------------


def register_by_certificate(live: LiveIssuer, pair: CertificatePair, *, by: str) -> RegisteredClient:
    """A tls_client_auth client, registered with the subject or the thumbprint of `pair`'s certificate."""
    pem = pair.cert.read_bytes()
    identity = {"tls_subject": certificate_subject(pem)} if by == "subject" else {}
    identity |= {"tls_thumbprint": certificate_thumbprint(pem)} if by == "thumbprint" else {}
    client = RegisteredClient("titulaire", "", ("retours:ecrire",), "https://callback.recette.local", **identity)
    live.issuer.clients[client.client_id] = client
    return client


def token_as(live: LiveIssuer, pair: CertificatePair | None, form: dict[str, str], **kwargs: object) -> httpx.Response:
    """A token request over a connection presenting `pair` as client certificate."""
    verify = live.certs.client_context(pair)
    with httpx.Client(base_url=live.issuer.url, verify=verify) as http:
        return http.post("/token", data=form, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("by", ["subject", "thumbprint"])
def test_tls_client_auth_binds_the_token_to_the_client_certificate(live: LiveIssuer, by: str) -> None:
    client = register_by_certificate(live, live.certs.titulaire_client, by=by)

    response = token_as(
        live, live.certs.titulaire_client, {"grant_type": "client_credentials", "client_id": "titulaire"}
    )

    assert response.status_code == 200, response.text
    claims = jwt.decode(response.json()["access_token"], published_keys(live)).claims
    assert claims["sub"] == client.client_id
    assert claims["aud"] == client.audience
    assert claims["cnf"] == {"x5t#S256": certificate_thumbprint(live.certs.titulaire_client.cert.read_bytes())}
    assert live.issuer.auth_methods["tls_client_auth"] == 1


@pytest.mark.parametrize("by", ["subject", "thumbprint"])
def test_tls_client_auth_with_another_certificate_is_invalid_client(live: LiveIssuer, by: str) -> None:
    register_by_certificate(live, live.certs.titulaire_client, by=by)

    response = token_as(live, live.certs.asp_client, {"grant_type": "client_credentials", "client_id": "titulaire"})

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert live.issuer.tokens_issued.total() == 0


def test_a_certificate_client_cannot_use_a_secret_nor_a_secret_client_its_certificate(live: LiveIssuer) -> None:
    register_by_certificate(live, live.certs.titulaire_client, by="subject")
    form = {"grant_type": "client_credentials"}

    empty_secret = token_as(live, live.certs.titulaire_client, form, headers=basic("titulaire", ""))
    certificate_only = token_as(live, live.certs.asp_client, form | {"client_id": RECETTE.client_id})

    assert (empty_secret.status_code, empty_secret.json()["error"]) == (401, "invalid_client")
    assert (certificate_only.status_code, certificate_only.json()["error"]) == (401, "invalid_client")
    assert live.issuer.tokens_issued.total() == 0


def test_tokens_of_secret_clients_are_not_certificate_bound(live: LiveIssuer) -> None:
    response = live.token({"grant_type": "client_credentials"}, headers=basic(RECETTE.client_id, RECETTE.client_secret))

    assert "cnf" not in jwt.decode(response.json()["access_token"], published_keys(live)).claims
