"""The load tool (`harness.load`) on the campaign's targets: the embedded environment, a configured
platform (with the run's return receiver), and the short `limite` run of the campaign's `charge` suite."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness.campaign.config import RunConfig
from harness.campaign.environment import Environment, EnvironmentOptions
from harness.campaign.receiver import ReturnReceiver
from harness.campaign.results import LOAD_SUITE
from harness.campaign.target import EmbeddedTarget, Target
from harness.foundations.tokens import discover_token_endpoint
from harness.load.charge import LoadRequest, LoadTarget, run_load
from harness.load.profiles import PROFILES


@contextmanager
def embedded_target(limit_bytes: int) -> Iterator[LoadTarget]:
    """The embedded environment (reference titulaire in this process), in a folder removed afterwards.

    The deposits of a load run weigh gigabytes, and the folder holds the run's keys: neither is kept.
    """
    run_dir = Path(tempfile.mkdtemp(prefix="recette-charge-"))
    try:
        with Environment(run_dir, EnvironmentOptions(reference={"limit_bytes": limit_bytes})) as env:
            state_file = run_dir / "etat.json"
            env.write_state(state_file)
            yield LoadTarget(state_file, titulaire_pid=os.getpid())
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


@contextmanager
def configured_target(config: RunConfig, journal: Path | None = None) -> Iterator[LoadTarget]:
    """A real platform (`--target`, `--config`) and the ASP side a campaign gives it (`ReturnReceiver`: with
    `callback.dir`, the same CA, issuer and return client), started and announced for the load: the platform's
    returns reach it (no failed delivery, no incident) and their delays are measured there. Its journal of
    returns is `journal` (the load run's `asp/journal-retours.jsonl`), else in a folder removed afterwards."""
    with (
        tempfile.TemporaryDirectory(prefix="recette-recepteur-") as directory,
        ReturnReceiver(config, Path(directory), journal) as receiver,
        platform_state(config) as state_file,
    ):
        print("\n".join(receiver.announcement()), flush=True)
        yield LoadTarget(state_file, receiver=receiver.inspector)


@contextmanager
def platform_state(config: RunConfig) -> Iterator[Path]:
    """The state file of a platform's settings (its TLS files, issuer and client) for the locust processes;
    no `asp_callback`: the users do not wait for the returns, the receiver measures them.

    The file holds the client secret: it lives (mode 600) in a folder removed after the run.
    """
    token_url = config.token_url or discover_token_endpoint(str(config.discovery_url), config.ssl_context())
    client = {"client_id": config.client_id, "client_secret": config.client_secret, "scopes": list(config.scopes)}
    state = {
        "titulaire": {"url": config.target},
        "asp_callback": None,
        "tls": {"ca": str(config.ca), "client_cert": str(config.client_cert), "client_key": str(config.client_key)},
        "oauth": {"token_url": token_url, "clients": [client]},
    }
    with tempfile.TemporaryDirectory(prefix="recette-charge-") as directory:
        state_file = Path(directory) / "etat.json"
        state_file.touch(mode=0o600)
        state_file.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
        yield state_file


def charge_suite(target: Target, run_dir: Path, **options: Any) -> dict[str, Any]:
    """The campaign's `charge` suite: a short `limite` run (2 users, 10 s) on the campaign's target, judged by
    the platform's service contract; its accepted deposits are metered with the run's (`target.meter`).

    Writes into `run_dir/charge/` and returns the `qos.json` data (`verdict`: "conforme" or "non conforme",
    `criteres`…); `qos_checks` turns it into check results. A load run that measured nothing raises
    `LoadRunError` with its cause.
    """
    defaults: dict[str, Any] = {
        "users": 2,
        "duration_seconds": 10.0,
        "max_requests": 200,
        "limit_bytes": target.limit_bytes,
        "version": target.major.name,
        "service_contract": target.service_contract,
    }
    request = LoadRequest(PROFILES["limite"], tags=target.tags, report_dir=run_dir.parent, **(defaults | options))
    if request.run_dir != run_dir:
        raise ValueError(f"le dossier de l'exécution doit être <rapports>/{target.tags.run_id} (reçu {run_dir})")
    with _load_target(target) as where:
        report = run_load(request, where)
    target.meter.add(LOAD_SUITE, report["envoi"]["depots"], report["envoi"]["octets"])
    return report


@contextmanager
def _load_target(target: Target) -> Iterator[LoadTarget]:
    """The campaign's embedded environment, or its platform with the campaign's receiver."""
    if isinstance(target, EmbeddedTarget):
        with tempfile.TemporaryDirectory(prefix="recette-charge-") as directory:
            state_file = Path(directory) / "etat.json"
            target.environment.write_state(state_file)
            yield LoadTarget(state_file, titulaire_pid=os.getpid())
    else:
        with platform_state(target.config) as state_file:
            yield LoadTarget(state_file, receiver=target.inspector)
