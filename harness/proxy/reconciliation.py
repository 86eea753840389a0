"""Addon `reconciliation`: live pairing of each deposit (202 on the titulaire leg) with its return (on the
callback leg), judged by the campaign's own judge (`harness.conformance.judge`: exactly one return, metadata
echoed, pieces, within the service contract's delay), so that a recette team watching an ASP application's
test sees each verdict as its return arrives. On stop, every deposit's verdict goes to `rapprochement.json`;
one still waiting within its delay is « en attente », never conforming.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.conformance import DepositLedger, TrackedDeposit, acknowledged_returns, judge, max_return_delay
from harness.conformance.returns import RECEIVED
from harness.foundations.clock import Clock
from harness.foundations.majors import major_of
from harness.proxy.exchange import Exchange, json_of, of

if TYPE_CHECKING:
    from mitmproxy import http

RECONCILIATION_FILE = "rapprochement.json"
CONFORMING, DEFECTIVE, WAITING, UNKNOWN = "conforme", "non conforme", "en attente", "dépôt inconnu du proxy"


class Reconciliation:
    def __init__(self, run_dir: Path, clock: Clock, max_delay_seconds: float | None) -> None:
        self.path = run_dir / RECONCILIATION_FILE
        self.clock = clock
        self.max_delay = max_return_delay() if max_delay_seconds is None else timedelta(seconds=max_delay_seconds)
        self.ledger = DepositLedger()
        self.ledger.origin = "proxy"
        self.calls: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)

    def response(self, flow: http.HTTPFlow) -> None:
        exchange = of(flow)
        if exchange.is_deposit:
            self._deposit(flow, exchange)
        elif exchange.is_return:
            self._return(flow, exchange)

    def _deposit(self, flow: http.HTTPFlow, exchange: Exchange) -> None:
        receipt = json_of(exchange.response.whole)
        major = major_of(exchange.path)
        if exchange.status != 202 or not isinstance(receipt, dict) or major is None:
            return
        exchange.id_depot = receipt.get("idDepot")
        body = exchange.request.whole
        self.ledger.record_exchange(body, flow.request.headers.get("content-type", ""), receipt, "proxy", major)

    def _return(self, flow: http.HTTPFlow, exchange: Exchange) -> None:
        retour = json_of(exchange.request.whole)
        if not isinstance(retour, dict) or not isinstance(retour.get("idDepot"), str):
            return
        exchange.id_depot, exchange.id_retour = retour["idDepot"], retour.get("idRetour")
        ack = json_of(exchange.response.whole) if exchange.status == 202 else None
        ack_id = ack.get("idAcquittement") if isinstance(ack, dict) else None
        calls = self.calls[exchange.id_depot]
        seen = any(c["idAcquittement"] == ack_id and c["retour"] == retour for c in calls if ack_id)
        calls.append(
            {"retour": retour, "idAcquittement": ack_id, "recuLe": self.clock().isoformat(), "redelivery": seen}
        )
        exchange.reconciliation = self._verdict(exchange.id_depot)

    def _verdict(self, id_depot: str) -> dict[str, Any]:
        deposit = next((d for d in self.ledger.deposits() if d.id_depot == id_depot), None)
        if deposit is None:
            return {"idDepot": id_depot, "verdict": UNKNOWN, "defauts": []}
        return verdict(deposit, self.calls.get(id_depot, []), self.max_delay, self.clock)

    def done(self) -> None:
        verdicts = [
            verdict(d, self.calls.get(d.id_depot, []), self.max_delay, self.clock) for d in self.ledger.deposits()
        ]
        strays = [self._verdict(i) for i in self.calls if i not in self.ledger.known()]
        self.path.write_text(json.dumps(verdicts + strays, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def verdict(deposit: TrackedDeposit, calls: list[dict[str, Any]], max_delay: timedelta, clock: Clock) -> dict[str, Any]:
    """The judge's verdict on a deposit's returns so far; without an acknowledged one within its delay:
    « en attente » (with the defects already seen)."""
    defects = [str(d) for d in judge(deposit, calls, max_delay) if d.rule != RECEIVED]
    if not acknowledged_returns(calls):
        if clock() <= deposit.accepted_at + max_delay:
            return {"idDepot": deposit.id_depot, "verdict": WAITING, "defauts": defects}
        defects = [str(d) for d in judge(deposit, calls, max_delay)]
    return {"idDepot": deposit.id_depot, "verdict": DEFECTIVE if defects else CONFORMING, "defauts": defects}
