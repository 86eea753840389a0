"""Addon `billing`: traffic without `X-Recette-Run`/`X-Recette-Motif` gets the proxy run's tags; on stop,
the ledger gets the proxy run's line: the deposits it tagged itself that the titulaire accepted, and their
bytes, as the campaign's `DepositMeter` counts them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from harness.foundations.billing import MOTIF_HEADER, RUN_HEADER, BillingTags, LedgerLine, append_to_ledger
from harness.foundations.clock import Clock
from harness.proxy.exchange import of

if TYPE_CHECKING:
    from mitmproxy import http


class Billing:
    def __init__(self, tags: BillingTags, target: str, ledger: Path | None, clock: Clock) -> None:
        self.tags, self.target, self.ledger, self.clock = tags, target, ledger, clock
        self.deposits = 0
        self.bytes_sent = 0

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        exchange, headers = of(flow), flow.request.headers
        if RUN_HEADER not in headers and MOTIF_HEADER not in headers:
            headers.update(self.tags.headers())
            exchange.tagged_by_proxy = True
        exchange.run, exchange.motif = headers.get(RUN_HEADER), headers.get(MOTIF_HEADER)

    def response(self, flow: http.HTTPFlow) -> None:
        exchange = of(flow)
        if exchange.tagged_by_proxy and exchange.is_deposit and exchange.status == 202:
            self.deposits += 1
            self.bytes_sent += exchange.request.size

    def done(self) -> None:
        if self.ledger is not None:
            line = LedgerLine(self.tags, self.clock(), self.target, self.deposits, self.bytes_sent)
            append_to_ledger(self.ledger, line)
