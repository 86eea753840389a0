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
    body = request.body.encode() if isinstance(request.body, str) else request.body
    return httpx.Request(str(request.method), str(request.url), headers=dict(request.headers), content=body or b"")


def body_size(request: requests.PreparedRequest) -> int:
    body = request.body
    if body is None:
        return 0
    return len(body.encode() if isinstance(body, str) else body)
