"""Addon `streaming`: every body measured and hashed (SHA-256) as it goes; large ones never held whole.

A body declared larger than the addons read whole (`READ_WHOLE_BYTES`, or the kept-body size if larger), or of
unknown size (chunked), is streamed: fed chunk by chunk through the exchange's `BodyMeter` and forwarded at
once. A smaller body is buffered by mitmproxy (the contract and reconciliation addons read it) and measured
whole. How much of it the journal keeps as a file is the journal's business: `corps_max = 0` keeps no file but
still reconciles every deposit with its return. The choice is made here, per flow, rather than by mitmproxy's
`stream_large_bodies` option: that option streams a flow again once its buffer grows past the size, even a
flow the `limit` addon has already answered with a 413 (mitmproxy then fails it), so it stays unset.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.proxy.exchange import BodyMeter, of

if TYPE_CHECKING:
    from mitmproxy import http


READ_WHOLE_BYTES = 64 * 1024
"""Bodies up to this size are read whole by the addons, whatever the journal keeps: a deposit receipt (accusé
de réception) or a return (retour) is always small enough to be checked against the contract and reconciled."""


class Streaming:
    def __init__(self, keep_bytes: int) -> None:
        self.read_bytes = max(keep_bytes, READ_WHOLE_BYTES)

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        of(flow).request = self._meter(flow.request)

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        assert flow.response is not None
        of(flow).response = self._meter(flow.response)

    def request(self, flow: http.HTTPFlow) -> None:
        _measure_whole(of(flow).request, flow.request)

    def response(self, flow: http.HTTPFlow) -> None:
        assert flow.response is not None
        _measure_whole(of(flow).response, flow.response)

    def _meter(self, message: http.Message) -> BodyMeter:
        meter = BodyMeter(self.read_bytes)
        declared = message.headers.get("content-length")
        large = int(declared) > self.read_bytes if declared and declared.isdigit() else False
        unknown_size = declared is None and "chunked" in message.headers.get("transfer-encoding", "")
        if large or unknown_size:
            meter.streamed = True
            message.stream = meter.feed
        return meter


def _measure_whole(meter: BodyMeter, message: http.Message) -> None:
    if not meter.streamed and message.raw_content is not None:
        meter.feed(message.raw_content)
