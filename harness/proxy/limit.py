"""Addon `limit`: a transaction over 20,000,000 bytes (request and response bodies) is flagged; a request
declaring more is refused, when asked, with the reference's own 413 problem+json, never forwarded. mitmproxy
answers only once it has read the request: a refused body is buffered whole first (bounding that is a
follow-up: mitmproxy's `body_size_limit` answers its own text 413)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.proxy.answers import answer
from harness.proxy.exchange import of
from harness.reference.limits import too_large

if TYPE_CHECKING:
    from mitmproxy import http

OVER = "limite-depassee"
REFUSED = "refusee-413"


class Limit:
    def __init__(self, limit_bytes: int, refuse: bool) -> None:
        self.limit_bytes, self.refuse = limit_bytes, refuse

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        declared = flow.request.headers.get("content-length", "")
        if not declared.isdigit() or int(declared) <= self.limit_bytes:
            return
        exchange = of(flow)
        exchange.flags.append(OVER)
        if self.refuse:
            exchange.flags.append(REFUSED)
            answer(flow, too_large(self.limit_bytes))

    def response(self, flow: http.HTTPFlow) -> None:
        exchange = of(flow)
        if exchange.transaction_bytes > self.limit_bytes and OVER not in exchange.flags:
            exchange.flags.append(OVER)
