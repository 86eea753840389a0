"""Client side of OAuth 2.0 client credentials (RFC 6749 §4.4): an httpx auth that brings a Bearer token.

`ClientCredentialsAuth` obtains a token from the issuer (client_secret_basic, or tls_client_auth of RFC 8705
when the client has no secret: its certificate alone authenticates it; always over the same mutual TLS
context as the API calls), keeps it until shortly before it expires, and when an API answers 401 anyway
(revoked token, rotated keys) fetches a fresh one and sends the request once more, if its body can be
sent twice. It works with `httpx.Client` and `httpx.AsyncClient`, and synchronously for callers that are
not httpx (`access_token`, `forget`): those may post the token request themselves (`post`, e.g. a locust
session that measures it). The client secret and the tokens never appear in reprs, logs or exceptions.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import ssl
import threading
from collections.abc import AsyncGenerator, Callable, Generator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import quote_plus

import httpx

from harness.foundations.clock import Clock, utc_now

log = logging.getLogger(__name__)

REFRESH_MARGIN_SECONDS = 30.0
"""A token is renewed this long before it expires (at most a tenth of its lifetime)."""
DEFAULT_EXPIRES_IN = 60
"""Lifetime assumed when the token response has no `expires_in`."""


@dataclass(frozen=True)
class ClientCredentials:
    """What a client needs to obtain tokens: the token endpoint, its identifiers and its scopes (portées).

    An empty `client_secret` means tls_client_auth: the client certificate of the TLS context is the credential.
    """

    token_url: str
    client_id: str
    client_secret: str = field(default="", repr=False)
    scopes: tuple[str, ...] = ()
    parameters: tuple[tuple[str, str], ...] = ()
    """Extra form parameters the issuer requires (`audience`, `resource`…); they never replace the grant's own."""

    @property
    def auth_method(self) -> str:
        return "client_secret_basic" if self.client_secret else "tls_client_auth"


class TokenResponse(Protocol):
    """What is read of a token endpoint's answer (an httpx or a requests response)."""

    @property
    def status_code(self) -> int: ...

    def json(self) -> Any: ...


TokenPost = Callable[..., TokenResponse]
"""Posts a token request (`url`, `data`, `headers` keywords) and gives the answer."""


class TokenRequestError(Exception):
    """The token endpoint refused the request or answered something unusable."""


@dataclass(frozen=True)
class AccessToken:
    """A token and the time from which it is renewed."""

    value: str = field(repr=False)
    renew_at: datetime


class ClientCredentialsAuth(httpx.Auth):
    """Bearer tokens obtained with the client_credentials grant, cached and renewed."""

    def __init__(
        self,
        credentials: ClientCredentials,
        verify: ssl.SSLContext,
        *,
        clock: Clock | None = None,
        timeout: float = 10.0,
        post: TokenPost | None = None,
    ) -> None:
        self.credentials = credentials
        self._verify = verify
        self._clock = clock or utc_now
        self._timeout = timeout
        self._post = post
        self._token: AccessToken | None = None
        self._thread_lock = threading.Lock()
        self._async_lock: asyncio.Lock | None = None

    def __repr__(self) -> str:
        credentials = self.credentials
        return f"ClientCredentialsAuth(client_id={credentials.client_id!r}, token_url={credentials.token_url!r})"

    # -- httpx flows ---------------------------------------------------------------------------------

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._sync_token()
        response = yield authorized(request, token)
        if response.status_code == 401 and replayable(request):
            self._forget(token)
            yield authorized(request, self._sync_token())

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self._async_token()
        response = yield authorized(request, token)
        if response.status_code == 401 and replayable(request):
            self._forget(token)
            yield authorized(request, await self._async_token())

    # -- the token -----------------------------------------------------------------------------------

    def access_token(self) -> str:
        """The current access token, obtained or renewed when needed (for callers that are not httpx)."""
        return self._sync_token().value

    def forget(self) -> None:
        """Drop the current token (a caller that is not httpx saw a 401): the next one is fetched anew."""
        with self._thread_lock:
            self._token = None

    def _sync_token(self) -> AccessToken:
        with self._thread_lock:
            if not self._is_fresh(self._token):
                self._token = self._accept(self._post_sync(**self._token_request()))
            assert self._token is not None
            return self._token

    def _post_sync(self, **request: Any) -> TokenResponse:
        if self._post is not None:
            return self._post(**request)
        with httpx.Client(verify=self._verify, timeout=self._timeout) as http:
            return http.post(**request)

    async def _async_token(self) -> AccessToken:
        if self._async_lock is None:
            self._async_lock = asyncio.Lock()
        async with self._async_lock:
            if not self._is_fresh(self._token):
                async with httpx.AsyncClient(verify=self._verify, timeout=self._timeout) as http:
                    self._token = self._accept(await http.post(**self._token_request()))
            assert self._token is not None
            return self._token

    def _is_fresh(self, token: AccessToken | None) -> bool:
        return token is not None and self._clock() < token.renew_at

    def _forget(self, token: AccessToken) -> None:
        """Drop `token` after a 401, unless another request already replaced it."""
        if self._token is token:
            self._token = None

    def _token_request(self) -> dict[str, Any]:
        """POST parameters: client_secret_basic, with id and secret form-urlencoded (RFC 6749 §2.3.1), or
        tls_client_auth, with `client_id` in the form (RFC 8705 §2)."""
        credentials = self.credentials
        data = dict(credentials.parameters) | {"grant_type": "client_credentials"}
        if credentials.scopes:
            data["scope"] = " ".join(credentials.scopes)
        headers = {"Accept": "application/json"}
        if credentials.client_secret:
            pair = f"{quote_plus(credentials.client_id)}:{quote_plus(credentials.client_secret)}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            data["client_id"] = credentials.client_id
        return {"url": credentials.token_url, "data": data, "headers": headers}

    def _accept(self, response: TokenResponse) -> AccessToken:
        """The token of a successful response; `TokenRequestError` otherwise (without any secret)."""
        credentials = self.credentials
        refused = f"Le fournisseur de jetons {credentials.token_url} a refusé le client {credentials.client_id}"
        if response.status_code != 200:
            raise TokenRequestError(f"{refused} : HTTP {response.status_code} {error_code(response)}.")
        try:
            body = response.json()
            value, token_type = body["access_token"], body["token_type"]
            expires_in = int(body.get("expires_in", DEFAULT_EXPIRES_IN))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise TokenRequestError(f"{refused} : réponse de jeton illisible.") from None
        if not isinstance(value, str) or not value or str(token_type).lower() != "bearer" or expires_in <= 0:
            raise TokenRequestError(f"{refused} : jeton absent, expiré ou d'un type autre que Bearer.")
        log.debug("token obtained for %s, valid %d s", self.credentials.client_id, expires_in)
        margin = min(REFRESH_MARGIN_SECONDS, expires_in / 10)
        return AccessToken(value, self._clock() + timedelta(seconds=expires_in - margin))


def authorized(request: httpx.Request, token: AccessToken) -> httpx.Request:
    request.headers["Authorization"] = f"Bearer {token.value}"
    return request


def replayable(request: httpx.Request) -> bool:
    """True when the body of `request` can be sent a second time (bytes, form, multipart), not from an iterator.

    httpx has no public flag for it: the bodies it builds itself (`httpx.ByteStream`, multipart) serve both sync
    and async clients, while a body from the caller's iterator is one-shot and serves one kind of client only.
    """
    return isinstance(request.stream, httpx.SyncByteStream) and isinstance(request.stream, httpx.AsyncByteStream)


def error_code(response: TokenResponse) -> str:
    """The RFC 6749 `error` code of a token endpoint refusal, when it gives one."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return ""
    return f"({error})" if isinstance(error, str) else ""


def discover_token_endpoint(discovery_url: str, verify: ssl.SSLContext, timeout: float = 10.0) -> str:
    """The `token_endpoint` announced by an OpenID Provider's discovery document; `TokenRequestError` otherwise."""
    try:
        response = httpx.get(discovery_url, verify=verify, timeout=timeout)
        response.raise_for_status()
        endpoint = response.json()["token_endpoint"]
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as error:
        raise TokenRequestError(f"Découverte OIDC illisible ({discovery_url}) : {type(error).__name__}.") from None
    if not isinstance(endpoint, str) or not endpoint.startswith("https://"):
        raise TokenRequestError(f"Découverte OIDC ({discovery_url}) : token_endpoint absent ou non HTTPS.")
    return endpoint
