"""HTTP face of the mock OIDC issuer: discovery, JWKS and the token endpoint (client_credentials grant).

Clients authenticate with client_secret_basic, client_secret_post, or tls_client_auth (RFC 8705): the
client certificate of the connection (ASGI TLS extension) and a `client_id` form parameter.

The token endpoint answers errors as RFC 6749 §5.2 JSON (`{"error": "invalid_client", ...}`), not as
problem+json: that is what OAuth clients expect. Error descriptions are ASCII, as RFC 6749 requires.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from starlette.applications import Starlette
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from harness.foundations.tls import certificate_thumbprint
from harness.foundations.tls_scope import peer_certificate
from mocks.oidc.issuer import Issuer, RegisteredClient

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
MAX_FORM_BYTES = 16 * 1024
"""A token request is a few parameters: a larger body is refused before it is held."""
BASIC_CHALLENGE = 'Basic realm="emetteur-recette", charset="UTF-8"'


@dataclass
class OAuthError(Exception):
    """An RFC 6749 error response of the token endpoint."""

    error: str
    description: str
    status: int = 400

    def response(self) -> Response:
        headers = dict(NO_STORE)
        if self.status == 401:
            headers["WWW-Authenticate"] = BASIC_CHALLENGE
        body = {"error": self.error, "error_description": self.description}
        return JSONResponse(body, self.status, headers)


def issuer_of(request: Request) -> Issuer:
    issuer: Issuer = request.app.state.issuer
    issuer.requests[request.url.path] += 1
    return issuer


async def discovery(request: Request) -> Response:
    """GET /.well-known/openid-configuration."""
    return JSONResponse(issuer_of(request).discovery())


async def jwks(request: Request) -> Response:
    """GET /jwks: the public keys, active and standby (and retired ones still in use)."""
    return JSONResponse(issuer_of(request).jwks())


async def token(request: Request) -> Response:
    """POST /token: client_credentials; client_secret_basic, client_secret_post or tls_client_auth."""
    issuer = issuer_of(request)
    certificate = peer_certificate(request.scope)
    try:
        form = await read_form(request)
        check_grant_type(form)
        client, method = authenticate(issuer, request.headers.get("authorization"), form, certificate)
        scopes = granted_scopes(client, form.get("scope"))
    except OAuthError as error:
        return error.response()
    binding: dict[str, Any] = (
        {"cnf": {"x5t#S256": certificate_thumbprint(certificate)}} if certificate and client.tls_client_auth else {}
    )
    access_token = issuer.issue(client.client_id, scopes, **binding)
    issuer.auth_methods[method] += 1
    issuer.tokens_issued[client.client_id] += 1
    body = {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": issuer.token_ttl_seconds,
        "scope": " ".join(scopes),
    }
    return JSONResponse(body, headers=NO_STORE)


async def read_form(request: Request) -> FormData:
    """The form-encoded parameters, each present at most once (RFC 6749 §3.2)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != FORM_MEDIA_TYPE:
        raise OAuthError("invalid_request", f"Corps {FORM_MEDIA_TYPE} attendu")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise OAuthError("invalid_request", f"Corps de plus de {MAX_FORM_BYTES} octets")
    try:
        pairs: list[tuple[str, str | UploadFile]] = list(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError as error:
        raise OAuthError("invalid_request", "Corps non UTF-8") from error
    form = FormData(pairs)
    repeated = sorted({name for name, _ in form.multi_items() if len(form.getlist(name)) > 1})
    if repeated:
        raise OAuthError("invalid_request", f"Parametre en double : {', '.join(repeated)}")
    return form


def check_grant_type(form: FormData) -> None:
    grant_type = form.get("grant_type")
    if not grant_type:
        raise OAuthError("invalid_request", "Parametre grant_type manquant")
    if grant_type != "client_credentials":
        raise OAuthError("unsupported_grant_type", "Seul grant_type=client_credentials est pris en charge")


def authenticate(
    issuer: Issuer, authorization: str | None, form: FormData, certificate: str | None = None
) -> tuple[RegisteredClient, str]:
    """The client and the method it used; exactly one method is allowed (RFC 6749 §2.3)."""
    posted_secret = form.get("client_secret")
    if authorization is not None:
        if posted_secret is not None:
            raise OAuthError("invalid_request", "Une seule methode d'authentification du client est permise")
        client_id, secret = basic_credentials(authorization)
        if form.get("client_id") not in (None, client_id):
            raise OAuthError("invalid_request", "client_id du formulaire different de celui de l'en-tete")
        method = "client_secret_basic"
    elif posted_secret is not None:
        client_id, secret, method = str(form.get("client_id", "")), str(posted_secret), "client_secret_post"
    elif form.get("client_id") and certificate is not None:
        return certificate_client(issuer, str(form["client_id"]), certificate), "tls_client_auth"
    else:
        raise OAuthError("invalid_client", "Authentification du client requise", 401)
    client = issuer.authenticate(client_id, secret)
    if client is None:
        raise OAuthError("invalid_client", "Client inconnu ou secret incorrect", 401)
    return client, method


def certificate_client(issuer: Issuer, client_id: str, certificate: str) -> RegisteredClient:
    """tls_client_auth: the client registered with the certificate of the connection (RFC 8705 §2.1)."""
    client = issuer.authenticate_certificate(client_id, certificate)
    if client is None:
        raise OAuthError("invalid_client", "Client inconnu ou certificat client non enregistre pour ce client", 401)
    return client


def basic_credentials(authorization: str) -> tuple[str, str]:
    """client_id and secret of an `Authorization: Basic` header (both form-urlencoded, RFC 6749 §2.3.1)."""
    scheme, _, encoded = authorization.partition(" ")
    try:
        if scheme.lower() != "basic":
            raise ValueError("not Basic")
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (ValueError, binascii.Error) as error:
        raise OAuthError("invalid_client", "En-tete Authorization Basic illisible", 401) from error
    client_id, separator, secret = decoded.partition(":")
    if not separator:
        raise OAuthError("invalid_client", "En-tete Authorization Basic illisible", 401)
    return unquote_plus(client_id), unquote_plus(secret)


def granted_scopes(client: RegisteredClient, requested: object) -> tuple[str, ...]:
    """The requested scopes, which must all be the client's; all of them when none is requested."""
    if not requested:
        return client.scopes
    scopes = tuple(dict.fromkeys(str(requested).split()))
    outside = [scope for scope in scopes if scope not in client.scopes]
    if outside:
        raise OAuthError("invalid_scope", f"Scope hors des droits du client : {' '.join(outside)}")
    return scopes


def create_app(issuer: Issuer) -> Starlette:
    """The issuer's ASGI application; `issuer.url` must be set before the first request."""
    app = Starlette(
        routes=[
            Route("/.well-known/openid-configuration", discovery, methods=["GET"]),
            Route("/jwks", jwks, methods=["GET"]),
            Route("/token", token, methods=["POST"]),
        ]
    )
    app.state.issuer = issuer
    return app
