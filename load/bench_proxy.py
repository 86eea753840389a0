"""Benchmark of `recette proxy`: what the proxy costs a 20 MB deposit, and its memory with 8 at once.

    .venv/bin/python load/bench_proxy.py [--rounds 5] [--json bench.json]

1. a deposit just under the 20 MB limit through the proxy (mutual TLS both sides, streamed, measured and
   hashed on the fly) ÷ the same deposit sent direct to the same reference, alternated — target ≤ 1.3;
2. peak RSS growth of the proxy process while 8 such deposits go through it at once — target ≤ 64 MiB.

The reference runs as a subprocess (`bench_limit.Bench`, so that it does not share this process' GIL with
the client), the proxy in its own process (`.venv-proxy`). It prints the figures and exits 0 whatever they
are: timings are figures, never verdicts of a test.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench_limit import Bench  # a sibling script of load/: on sys.path when this one runs as a script
from rich.console import Console
from rich.table import Table

from harness.foundations.asp_client import AspClient, DepositBody
from harness.foundations.billing import BillingTags
from harness.foundations.limits import TRANSACTION_LIMIT_BYTES
from harness.load.memory import MIB, RssSampler
from harness.proxy.embedded import embedded_settings
from harness.proxy.launcher import ProxyProcess
from harness.proxy.settings import TITULAIRE_LEG

CONCURRENT_DEPOSITS = 8
RESPONSE_RESERVE_BYTES = 4096
"""Room left for the receipt: the deposit and its answer stay under the limit."""
META = {"applicationSource": "BANC", "identifiantDossier": "BANC-PROXY", "numeroIteration": 1}


def timed(client: AspClient, body: DepositBody) -> float:
    start = time.perf_counter()
    answer = client.send_body(body, chunked=False)
    elapsed = time.perf_counter() - start
    if answer.status_code != 202:
        raise RuntimeError(f"dépôt refusé : {answer.status_code} {answer.text[:200]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-proxy-") as directory, Bench(Path(directory)) as bench:
        tags = BillingTags.create().on_embedded_reference()
        settings = embedded_settings(bench.env, Path(directory) / "reports", tags, callback_port=0)
        legs = tuple(
            dataclasses.replace(leg, upstream=bench.reference.url) if leg.name == TITULAIRE_LEG else leg
            for leg in settings.legs
        )
        body = DepositBody.of_size(META, TRANSACTION_LIMIT_BYTES - RESPONSE_RESERVE_BYTES)
        with ProxyProcess(dataclasses.replace(settings, legs=legs)) as proxy:
            clients = [bench.asp_client(proxy.urls[TITULAIRE_LEG]) for _ in range(CONCURRENT_DEPOSITS)]
            proxied = clients[0]
            timed(bench.client, body), timed(proxied, body)  # warm-up: TLS sessions, tokens, contracts loaded
            rounds = [(timed(bench.client, body), timed(proxied, body)) for _ in range(args.rounds)]
            assert proxy.pid is not None
            with RssSampler(proxy.pid) as sampler, ThreadPoolExecutor(CONCURRENT_DEPOSITS) as pool:
                list(pool.map(timed, clients, [body] * CONCURRENT_DEPOSITS))
            rss = sampler.stop()
            for client in clients:
                client.close()
    direct_s = statistics.median(d for d, _ in rounds)
    proxied_s = statistics.median(p for _, p in rounds)
    figures = {
        "depotOctets": body.size,
        "directMedianeS": round(direct_s, 3),
        "proxyMedianeS": round(proxied_s, 3),
        "ratio": round(proxied_s / direct_s, 2),
        "rss": rss.to_json() if rss else None,
    }
    table = Table("mesure", "valeur", "référence", "cible")
    table.add_row("dépôt de 20 Mo par le proxy", f"{proxied_s:.3f} s", f"direct {direct_s:.3f} s", "≤ 1,3 fois")
    table.add_row("", f"{figures['ratio']} fois", "", "")
    growth = f"{rss.growth_bytes / MIB:.1f} Mio" if rss else "illisible"
    table.add_row(f"croissance RSS du proxy, {CONCURRENT_DEPOSITS} dépôts simultanés", growth, "", "≤ 64 Mio")
    Console().print(table)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
