"""The ASP's deposit server for a real platform (`[archives]` of its configuration): started with the run's
return receiver, on the address and port agreed, trusting the platform's own key or client certificate. The
return archives the platform publishes in `sortant/` go to the receiver's journal of returns (a violation unless
`canal_retour = "archive"` is agreed).

What the platform needs to connect (address, ports, user, host key fingerprint) is written in the run's
reports (`serveur-de-depot.json`); no secret is: the platform keeps its private key, the FTPS password is the
one agreed beforehand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.campaign.config import RunConfig
from harness.campaign.receiver import ReturnReceiver
from mocks.depot import DepositServer

DEPOT_FILE = "serveur-de-depot.json"
PUBLIC_KEYS = {"sftp": ("host", "port", "user", "host_key_fingerprint"), "ftps": ("host", "port", "user", "ca")}


def external_depot(config: RunConfig, receiver: ReturnReceiver, directory: Path, run_dir: Path) -> DepositServer | None:
    """The started deposit server the platform connects to, or None when its configuration has no `[archives]`."""
    archives = config.archives
    if archives is None:
        return None
    client = receiver.certs.titulaire_client  # unused by a real platform: it presents its own certificate
    server = DepositServer(
        directory / "depot",
        receiver.certs.ca,
        receiver.server_pair(),
        (archives.utilisateur, client),
        archives.listening(),
    ).start()
    server.read_returns(receiver.recorder, agreed=archives.canal_retour == "archive")
    state = server.state()
    public: dict[str, Any] = {
        protocol: {key: state[protocol][key] for key in keys} for protocol, keys in PUBLIC_KEYS.items()
    }
    public |= {"protocole": archives.protocole, "entrant": state["entrant"], "sortant": state["sortant"]}
    (run_dir / DEPOT_FILE).write_text(json.dumps(public, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return server
