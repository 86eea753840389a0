"""Addon `faults`: a delay, a 503 problem+json or a cut connection, on a chosen leg and share of its requests,
for resilience tests of the ASP's applications and of the titulaire's retries.

A share s applies the fault to the requests whose count n makes ⌊n·s⌋ grow: every request at 1, one in two
at 0.5, deterministic so that a test knows which ones.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from typing import TYPE_CHECKING

from harness.foundations.problems import Problem
from harness.proxy.answers import answer
from harness.proxy.exchange import of
from harness.proxy.settings import FaultRule

if TYPE_CHECKING:
    from mitmproxy import http


class Faults:
    def __init__(self, rules: tuple[FaultRule, ...]) -> None:
        self.rules = rules
        self.counts: Counter[str] = Counter()

    async def requestheaders(self, flow: http.HTTPFlow) -> None:
        exchange = of(flow)
        self.counts[exchange.leg] += 1
        count = self.counts[exchange.leg]
        for rule in self.rules:
            if rule.leg == exchange.leg and math.floor(count * rule.share) > math.floor((count - 1) * rule.share):
                await self._apply(rule, flow)

    async def _apply(self, rule: FaultRule, flow: http.HTTPFlow) -> None:
        exchange = of(flow)
        if rule.kind == "delai":
            exchange.flags.append(f"delai-{rule.seconds:g}s")
            await asyncio.sleep(rule.seconds)
        elif rule.kind == "503":
            exchange.flags.append("panne-503")
            answer(flow, Problem("service-indisponible", "Panne injectée par le proxy de recette."))
        else:
            exchange.flags.append("coupure")
            flow.kill()
