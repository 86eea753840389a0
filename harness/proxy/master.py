"""The proxy process: a mitmproxy `Master` with its default addons, one reverse mode per leg, and ours.

`our_addons` is the one list of our addons, in the order their hooks run: `exchange` opens each exchange,
`journal` writes it last, after every judge.
"""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mitmproxy import addons, connection, options
from mitmproxy.addons import errorcheck
from mitmproxy.master import Master

from harness.foundations.clock import Clock, utc_now
from harness.proxy.billing import Billing
from harness.proxy.contract import Contract
from harness.proxy.exchange import Recorder
from harness.proxy.faults import Faults
from harness.proxy.journal import Journal
from harness.proxy.limit import Limit
from harness.proxy.reconciliation import Reconciliation
from harness.proxy.settings import READY_FILE, TITULAIRE_LEG, Leg, ProxySettings
from harness.proxy.streaming import Streaming
from harness.proxy.tls import MutualTls

LegOf = Callable[[connection.Client], Leg]


def our_addons(settings: ProxySettings, leg_of: LegOf, clock: Clock) -> list[Any]:
    """Our addons, in the order their hooks run."""
    return [
        Recorder(leg_of, clock),
        MutualTls(settings, leg_of),
        Billing(settings.tags, settings.leg(TITULAIRE_LEG).upstream, settings.ledger, clock),
        Streaming(settings.body_bytes),
        Limit(settings.limit_bytes, settings.refuse_over_limit),
        Faults(settings.faults),
        Contract(),
        Reconciliation(settings.run_dir, clock, settings.max_return_delay_seconds),
        Journal(settings.run_dir, settings.limit_bytes, settings.body_bytes),
    ]


class Ready:
    """Once every leg listens, writes `proxy-ready.json`: each leg's URL (the launcher waits for it)."""

    def __init__(self, run_dir: Path, specs: dict[str, Leg]) -> None:
        self.path, self.specs = run_dir / READY_FILE, specs

    def running(self) -> None:
        from mitmproxy import ctx

        servers = ctx.master.addons.get("proxyserver").servers
        urls = {}
        for server in servers:
            host, port = server.listen_addrs[0][:2]
            urls[self.specs[server.mode.full_spec].name] = f"https://{host}:{port}"
        self.path.write_text(json.dumps(urls), encoding="utf-8")


async def serve(settings: ProxySettings, clock: Clock = utc_now) -> None:
    """Run the proxy until SIGTERM or SIGINT; the journal's HAR and page are written on the way out.

    The proxy stamps real traffic: its clock is the system's (`utc_now`), on purpose."""
    specs = {f"reverse:{leg.upstream}@{leg.host}:{leg.port}": leg for leg in settings.legs}
    opts = options.Options()
    master = Master(opts, with_termlog=True)
    master.addons.add(*addons.default_addons(), errorcheck.ErrorCheck())
    opts.update(
        mode=list(specs),
        confdir=str(settings.run_dir / "mitmproxy"),
        certs=[f"*={_presented(settings)}"],
        ssl_verify_upstream_trusted_ca=str(settings.ca),
        termlog_verbosity="warn",
    )
    leg_of: LegOf = lambda client: specs[client.proxy_mode.full_spec]  # noqa: E731
    master.addons.add(*our_addons(settings, leg_of, clock), Ready(settings.run_dir, specs))
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, master.shutdown)
    await master.run()


def _presented(settings: ProxySettings) -> Path:
    """The run's server certificate and key in one PEM file, as mitmproxy's `certs` option reads it."""
    combined = settings.run_dir / "mitmproxy" / "proxy-server.pem"
    combined.parent.mkdir(parents=True, exist_ok=True)
    combined.touch(mode=0o600)
    combined.write_bytes(settings.server.cert.read_bytes() + settings.server.key.read_bytes())
    return combined
