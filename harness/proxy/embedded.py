"""The proxy in front of the embedded environment: `recette serve --proxy` and `recette run --journal`.

The reference must post its returns to the proxy's callback leg, whose port is therefore chosen before the
reference starts (`reference_settings`); the proxy starts once the environment is up (`started`).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.foundations.billing import LEDGER_NAME, BillingTags
from harness.foundations.servers import LOOPBACK, free_port
from harness.proxy.exchange import callback_route
from harness.proxy.launcher import ProxyProcess
from harness.proxy.settings import ProxySettings, both_legs

if TYPE_CHECKING:
    from harness.campaign.environment import Environment


class EmbeddedProxy:
    """A proxy for one embedded environment, or nothing when not `enabled`."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.callback_port = free_port() if enabled else 0

    def reference_settings(self) -> dict[str, Any]:
        """The reference's settings that send its returns through the proxy (none when disabled)."""
        if not self.enabled:
            return {}
        return {"callback_url": f"https://{LOOPBACK}:{self.callback_port}{callback_route()}"}

    @contextlib.contextmanager
    def started(
        self, env: Environment, report_dir: Path, tags: BillingTags, ledger: bool = True
    ) -> Iterator[ProxyProcess | None]:
        """The running proxy (None when disabled); `ledger`: whether it writes its run's ledger line."""
        if not self.enabled:
            yield None
            return
        settings = embedded_settings(env, report_dir, tags, self.callback_port)
        with ProxyProcess(settings if ledger else dataclasses.replace(settings, ledger=None)) as proxy:
            yield proxy


def embedded_settings(env: Environment, report_dir: Path, tags: BillingTags, callback_port: int) -> ProxySettings:
    """The proxy in front of the embedded environment, its callback leg on `callback_port` (where the
    reference was told to post its returns); its journal in `report_dir/<run-id>/`."""
    certs, upstream = env.certs, env.callback_server.url
    legs = both_legs(env.titulaire_url, upstream, certs.asp_client, certs.titulaire_client, callback_port)
    return ProxySettings(report_dir / tags.run_id, certs.ca, certs.server, legs, tags, ledger=report_dir / LEDGER_NAME)
