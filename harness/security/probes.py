"""The suite's side of the wire: each request made, over which TLS setting, and what came back.

Every exchange is kept in the journal (`Probes.journal`): the leak check reads the bodies and headers
collected by all the other checks.
"""

from __future__ import annotations

import ssl
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from harness.foundations.tokens import TokenRequestError
from harness.security.certificates import TestCertificates
from harness.security.target import SecurityTarget

MAX_KEPT_BODY = 64 * 1024
NO_RESPONSE = "aucune réponse HTTP"


@dataclass
class Exchange:
    """One request of the suite and its outcome: a response, or the error that took its place."""

    description: str
    request_line: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    error: str | None = None
    tls_version: str | None = None

    @property
    def answered(self) -> bool:
        return self.status is not None

    def summary(self) -> str:
        """`GET /v1/sante → 401 jeton-invalide`, or `GET /v1/sante → aucune réponse HTTP (…)`."""
        if self.status is None:
            return f"{self.request_line} → {NO_RESPONSE} ({self.error})"
        return f"{self.request_line} → {self.status}{problem_code(self)}"


def problem_code(exchange: Exchange) -> str:
    """` <code>` of a problem+json body, when there is one."""
    if "json" not in exchange.headers.get("content-type", ""):
        return ""
    try:
        code = httpx.Response(200, content=exchange.body.encode()).json().get("code")
    except (ValueError, AttributeError):
        return ""
    return f" {code}" if isinstance(code, str) else ""


def error_reason(error: BaseException) -> str:
    """A short reason for a failed exchange: the TLS alert when there is one, else the exception."""
    for cause in chain(error):
        if isinstance(cause, ssl.SSLError) and cause.reason:
            return f"TLS : {cause.reason}"
    return f"{type(error).__name__} : {error}".strip(" :")


def chain(error: BaseException | None) -> Iterator[BaseException]:
    """An exception and the ones it was raised from."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


class Probes:
    """Requests to one target, each recorded; the valid token and the test certificates, made once."""

    def __init__(self, target: SecurityTarget, workdir: Path) -> None:
        self.target = target
        self.journal: list[Exchange] = []
        self.certificates = TestCertificates(workdir)
        self._token: str | None = None
        self._token_error: str | None = None
        self._connection_control: Exchange | None = None
        self._token_control: Exchange | None = None
        self._forged_control: Exchange | None = None

    # -- controls ------------------------------------------------------------------------------------

    def connection_control(self) -> Exchange:
        """The probe over our correct mutual TLS, without a token: it must get an HTTP answer (made once)."""
        if self._connection_control is None:
            self._connection_control = self.call("témoin : connexion correcte, sans jeton", None)
        return self._connection_control

    def token_control(self) -> Exchange | None:
        """The probe with a valid token (made once); None when no valid token could be had."""
        if self._token_control is None and (token := self.valid_token()) is not None:
            self._token_control = self.call("témoin : jeton valide", f"Bearer {token}")
        return self._token_control

    def forged_control(self) -> Exchange | None:
        """The probe with a valid token made by the forger (made once); None without a forger. A target that
        refuses it does not trust the forger's key (or key id): no forged refusal can be believed."""
        if self._forged_control is None and self.target.forger is not None:
            self._forged_control = self.call("témoin : jeton valide forgé", f"Bearer {self.target.forger()}")
        return self._forged_control

    # -- tokens --------------------------------------------------------------------------------------

    def valid_token(self) -> str | None:
        """A valid token from the target's token source (None, with `token_error`, when there is none)."""
        if self._token is None and self._token_error is None:
            self._token, self._token_error = self.obtain_token(None)
        return self._token

    @property
    def token_error(self) -> str:
        return self._token_error or ""

    def obtain_token(self, scopes: tuple[str, ...] | None) -> tuple[str | None, str | None]:
        """(token, None), or (None, why no token could be had)."""
        if self.target.tokens is None:
            return None, "aucune source de jetons n'est configurée pour cette cible"
        try:
            return self.target.tokens.token(scopes), None
        except (TokenRequestError, httpx.HTTPError, OSError) as error:
            return None, f"le fournisseur de jetons n'a pas délivré de jeton ({error_reason(error)})"

    # -- requests ------------------------------------------------------------------------------------

    def call(self, description: str, authorization: str | None) -> Exchange:
        """The probe operation over our normal mutual TLS, with `authorization` when given."""
        probe = self.target.probe
        return self.request(description, probe.method, probe.path, authorization, body=probe.body)

    def request(
        self,
        description: str,
        method: str,
        path: str,
        authorization: str | None = None,
        *,
        body: bytes | None = None,
        verify: ssl.SSLContext | None = None,
        url: str | None = None,
    ) -> Exchange:
        """One request, on a fresh connection (so that each TLS setting is negotiated anew), recorded."""
        headers = dict(self.target.headers)
        if authorization is not None:
            headers["Authorization"] = authorization
        if body is not None and self.target.probe.content_type:
            headers["Content-Type"] = self.target.probe.content_type
        exchange = Exchange(description, f"{method} {path}")
        timeout = self.target.timeout_seconds
        try:
            with warnings.catch_warnings():  # TLS 1.0 and 1.1 contexts are deprecated: that is the point
                warnings.simplefilter("ignore", DeprecationWarning)
                with httpx.Client(verify=verify or self.target.verify(), timeout=timeout) as http:
                    response = http.request(method, (url or self.target.url) + path, headers=headers, content=body)
                    self._keep(exchange, response)
        except httpx.HTTPError as error:
            exchange.error = error_reason(error)
        self.journal.append(exchange)
        return exchange

    def _keep(self, exchange: Exchange, response: httpx.Response) -> None:
        exchange.status = response.status_code
        exchange.headers = {name.lower(): value for name, value in response.headers.items()}
        exchange.body = response.content[:MAX_KEPT_BODY].decode("utf-8", "replace")
        stream = response.extensions.get("network_stream")
        ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
        exchange.tls_version = ssl_object.version() if ssl_object is not None else None

    def plain_url(self) -> str:
        """The target's URL with the `http` scheme (same host and port)."""
        return urlunsplit(urlsplit(self.target.url)._replace(scheme="http"))
