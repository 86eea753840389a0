"""Return delays measured at the run's receiver, for a platform whose returns the locust users do not wait for.

The master of a load run writes each accepted deposit and the time of its 202 (`envoi.json`, `acceptes`);
once the load is over, the harness reads the receiver (`CallbackInspector`) until every one of them has an
acknowledged return or the service contract's `delaiMaxRetour` has passed since its acceptance. The delays
become one `RETOUR` entry, judged like the embedded runs' (`qos.judge`).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from harness.foundations.asp_client import CallbackInspector
from harness.load.qos import RETURN_NAME, RETURN_TYPE, EntryFigures

POLL_SECONDS = 0.25
InspectorFactory = Callable[[], CallbackInspector]


def measure_returns(
    accepted: Sequence[tuple[str, float]], inspector: InspectorFactory, max_return_seconds: float
) -> EntryFigures:
    """The return delay of each accepted `(idDepot, epoch seconds)`; a missing return is a failure."""
    wanted = dict(accepted)
    deadline = max(wanted.values(), default=time.time()) + max_return_seconds
    with inspector() as receiver:
        received = first_acknowledged(receiver.received(), wanted)
        while len(received) < len(wanted) and time.time() < deadline:
            time.sleep(POLL_SECONDS)
            received = first_acknowledged(receiver.received(), wanted)
    delays_ms = [max(0.0, received[i] - at) * 1000 for i, at in wanted.items() if i in received]
    return EntryFigures(
        RETURN_NAME,
        RETURN_TYPE,
        requests=len(wanted),
        failures=len(wanted) - len(delays_ms),
        response_times=dict(Counter(round(d) for d in delays_ms)),
        max_ms=max(delays_ms, default=0.0),
        total_ms=sum(delays_ms),
    )


def first_acknowledged(calls: Iterable[dict[str, Any]], wanted: dict[str, float]) -> dict[str, float]:
    """idDepot → when the receiver acknowledged its first return (epoch seconds), for the wanted deposits."""
    found: dict[str, float] = {}
    for call in calls:
        id_depot = str(call.get("idDepot"))
        if id_depot in wanted and call.get("idAcquittement") and call.get("recuLe"):
            at = datetime.fromisoformat(str(call["recuLe"])).timestamp()
            found[id_depot] = min(at, found.get(id_depot, at))
    return found
