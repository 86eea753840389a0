"""How the fuzzer calls the target as the ASP does: mutual TLS, a Bearer token, the run's billing tags.

schemathesis sends with `requests`: the mutual TLS files go into its configuration (`schema.py`), and each
call carries the headers built here. A request is turned back into an `httpx.Request` for the campaign's
journal and its curl reproduction (`harness.foundations.curl.as_curl`, with the mutual TLS flags).
"""

from __future__ import annotations

from typing import Any

import httpx
import requests

from harness.foundations.target import Target

ASP_CLIENT_ID = "asp-recette"


class TargetCaller:
    """The target's credentials for schemathesis calls (thread-safe: the token is cached by its auth)."""

    def __init__(self, target: Target, client_id: str = ASP_CLIENT_ID) -> None:
        self.target = target
        self._auth = target.auth_for(client_id)

    def headers(self) -> dict[str, str]:
        """A Bearer token (obtained or renewed by the target's OAuth2 client) and the billing tags."""
        headers = dict(self.target.tags.headers())
        if self._auth is not None:
            request = next(self._auth.sync_auth_flow(httpx.Request("GET", self.target.url)))
            headers["Authorization"] = request.headers["Authorization"]
        return headers

    def transport_kwargs(self, headers: dict[str, str]) -> dict[str, Any]:
        """What schemathesis' checks need to send their own probes the same way."""
        return {"base_url": self.target.url, "headers": headers}


def as_httpx(request: requests.PreparedRequest) -> httpx.Request:
    """The request schemathesis sent, as httpx models it (for the journal and `as_curl`)."""
    headers = {name: header_text(value) for name, value in request.headers.items()}
    return httpx.Request(str(request.method), str(request.url), headers=headers, content=sent_body(request))


def sent_body(request: requests.PreparedRequest) -> bytes:
    """The body schemathesis sent: always in memory (bytes, or text sent as UTF-8), empty when none."""
    body = request.body
    if isinstance(body, str):
        return body.encode()
    if body is None or isinstance(body, bytes):
        return body or b""
    raise TypeError(f"corps de requête inattendu : {type(body).__name__}")


def content_type(request: requests.PreparedRequest) -> str:
    return header_text(request.headers.get("content-type", ""))


def header_text(value: str | bytes) -> str:
    """A header value as text (requests keeps bytes values as given; HTTP headers are Latin-1)."""
    return value.decode("latin-1") if isinstance(value, bytes) else value


def body_size(request: requests.PreparedRequest) -> int:
    return len(sent_body(request))
