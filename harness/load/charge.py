"""One load run (charge) from start to verdict: locust against a target, then its figures against the QoS.

`run_load` drives locust (`runner.py`), samples the titulaire's memory when it runs on this machine,
judges locust's JSON report against the service contract (`qos.py`) and writes `qos.json` beside
locust's CSV, HTML and JSON reports in `reports/<run-id>/charge/`. `charge_suite` is the short
`limite` run the campaign calls for its `charge` suite.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.billing import BillingTags, LedgerLine, append_to_ledger
from harness.checks import CheckResult
from harness.contracts import SERVICE_CONTRACT, contract_path
from harness.environment import Environment, EnvironmentOptions
from harness.load.memory import MIB, RssFigures, RssSampler
from harness.load.profiles import PROFILES, Profile
from harness.load.qos import Criterion, QosTargets, judge, read_locust_json, verdict
from harness.load.runner import LocustRun, run_locust
from harness.load.settings import LoadSettings
from harness.reference.settings import DEFAULT_LIMIT_BYTES
from harness.reports import LEDGER_NAME
from harness.service_contract import load_service_contract
from harness.tokens import discover_token_endpoint

if TYPE_CHECKING:
    from harness.config import RunConfig
    from harness.target import Target as CampaignTarget

MAX_RSS_GROWTH_BYTES = 64 * MIB
"""`horslimite`: refusing over-limit bodies may not make the titulaire's memory grow more than this."""
RAMP_REPORT, SENT_REPORT, QOS_REPORT = "rampe.json", "envoi.json", "qos.json"
NO_RECEIVER = (
    "Délai de retour non mesuré : les retours de cette plateforme vont à son callback.url, "
    "dont le harnais ne lit pas le journal (il le lit dans l'environnement embarqué ou avec --state-file)."
)
NO_MEMORY = "Mémoire du titulaire non mesurée : il ne tourne pas sur cette machine sous un pid connu."


@dataclass(frozen=True)
class Target:
    """Where the load goes: the environment's state file, and the titulaire's pid when it runs here."""

    state_file: Path
    titulaire_pid: int | None = None


@dataclass(frozen=True)
class LoadRequest:
    """What `recette load` was asked for."""

    profile: Profile
    tags: BillingTags = field(default_factory=BillingTags.create)
    users: int = 4
    duration_seconds: float = 30.0
    workers: int = 0
    max_requests: int = 1000
    report_dir: Path = Path("reports")
    service_contract: Path = field(default_factory=lambda: contract_path(SERVICE_CONTRACT))
    limit_bytes: int | None = None
    """The transaction limit; None: the service contract's `limiteTransactionOctets` (20 MB by default)."""

    @property
    def run_dir(self) -> Path:
        return self.report_dir / self.tags.run_id

    @property
    def charge_dir(self) -> Path:
        return self.run_dir / "charge"

    def effective_limit(self) -> int:
        if self.limit_bytes is not None:
            return self.limit_bytes
        qos = load_service_contract(self.service_contract)["qualiteDeService"]
        return int(qos.get("limiteTransactionOctets", DEFAULT_LIMIT_BYTES))


@contextmanager
def embedded_target(limit_bytes: int) -> Iterator[Target]:
    """The embedded environment (reference titulaire in this process), in a folder removed afterwards.

    The deposits of a load run weigh gigabytes, and the folder holds the run's keys: neither is kept.
    """
    run_dir = Path(tempfile.mkdtemp(prefix="recette-charge-"))
    try:
        with Environment(run_dir, EnvironmentOptions(reference={"limit_bytes": limit_bytes})) as env:
            state_file = run_dir / "etat.json"
            env.write_state(state_file)
            yield Target(state_file, titulaire_pid=os.getpid())
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


@contextmanager
def configured_target(config: RunConfig) -> Iterator[Target]:
    """A real platform (`--target`, `--config`): the state file of its settings, for the locust processes.

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
        yield Target(state_file)


def run_load(request: LoadRequest, target: Target) -> dict[str, Any]:
    """Run the profile against the target, judge it, write `qos.json`; return its content."""
    started = datetime.now(UTC)
    limit = request.effective_limit()
    run = LocustRun(
        profile=request.profile,
        settings=_settings(request, target, limit),
        users=request.users,
        duration_seconds=request.duration_seconds,
        out_dir=request.charge_dir,
        workers=request.workers,
    )
    sampler = RssSampler(target.titulaire_pid).start() if target.titulaire_pid else None
    try:
        outcome = run_locust(run)
    finally:
        memory = sampler.stop() if sampler else None
    entries = read_locust_json(run.json_report)
    criteria = judge(entries, QosTargets.from_file(request.service_contract))
    criteria += _memory_criteria(request.profile, memory)
    state = json.loads(target.state_file.read_text(encoding="utf-8"))
    report: dict[str, Any] = {
        "idExecution": request.tags.run_id,
        "profil": request.profile.name,
        "cible": state["titulaire"]["url"],
        "debut": started.isoformat(),
        "fin": datetime.now(UTC).isoformat(),
        "verdict": verdict(criteria),
        "criteres": [c.to_json() for c in criteria],
        "operations": [e.to_json() for e in entries if e.requests],
        "parametres": _parameters(request, limit),
        "facturation": request.tags.headers(),
        "envoi": _read_json(request.charge_dir / SENT_REPORT) or {"depots": 0, "octets": 0},
        "memoireTitulaire": memory.to_json() if memory else None,
        "notes": [
            note for note, applies in ((NO_RECEIVER, not state.get("asp_callback")), (NO_MEMORY, not memory)) if applies
        ],
        "locust": {
            "codeSortie": outcome.exit_code,
            "interrompu": outcome.timed_out,
            "rapports": sorted(p.name for p in request.charge_dir.glob(f"{run.csv_prefix.name}*")),
        },
    }
    if ramp := _read_json(request.charge_dir / RAMP_REPORT):
        report["rampe"] = ramp
    _write_json(request.charge_dir / QOS_REPORT, report)
    return report


def record_billing(request: LoadRequest, report: dict[str, Any]) -> None:
    """`billing.json` of the run and its line in the billing ledger (deposits and bytes sent)."""
    sent = report["envoi"]
    line = LedgerLine(
        request.tags, datetime.fromisoformat(report["debut"]), report["cible"], sent["depots"], sent["octets"]
    )
    billing = line.row() | {"libelle": request.tags.label, "reference": request.tags.reference}
    _write_json(request.run_dir / "billing.json", billing)
    append_to_ledger(request.report_dir / LEDGER_NAME, line)


def charge_suite(target: CampaignTarget, run_dir: Path, **options: Any) -> dict[str, Any]:
    """The campaign's `charge` suite: a short `limite` run (2 users, 10 s) on the campaign's embedded target.

    Writes into `run_dir/charge/` and returns the `qos.json` data (`verdict`: "conforme" or "non conforme",
    `criteres`…); `qos_checks` turns it into check results.
    """
    if target.environment is None:
        raise ValueError("la suite de charge demande l'environnement embarqué (fichier d'état, certificats, client)")
    defaults: dict[str, Any] = {
        "users": 2,
        "duration_seconds": 10.0,
        "max_requests": 200,
        "limit_bytes": target.limit_bytes,
    }
    request = LoadRequest(PROFILES["limite"], tags=target.tags, report_dir=run_dir.parent, **(defaults | options))
    if request.run_dir != run_dir:
        raise ValueError(f"le dossier de l'exécution doit être <rapports>/{target.tags.run_id} (reçu {run_dir})")
    with tempfile.TemporaryDirectory(prefix="recette-charge-") as directory:
        state_file = Path(directory) / "etat.json"
        target.environment.write_state(state_file)
        return run_load(request, Target(state_file, titulaire_pid=os.getpid()))


def qos_checks(report: dict[str, Any]) -> list[CheckResult]:
    """The QoS criteria of a load report as check results."""
    name = f"Charge « {report['profil']} »"
    return [
        CheckResult(f"{name} — {c['nom']}", c["reussi"], f"attendu {c['attendu']}, mesuré {c['mesure']}")
        for c in report["criteres"]
    ]


def _settings(request: LoadRequest, target: Target, limit: int) -> LoadSettings:
    return LoadSettings(
        state_file=target.state_file,
        tags=request.tags,
        limit_bytes=limit,
        max_requests=request.max_requests,
        duration_seconds=request.duration_seconds,
        max_users=request.users,
        service_contract=request.service_contract,
        ramp_report=request.charge_dir / RAMP_REPORT if request.profile.name == "rampe" else None,
        sent_report=request.charge_dir / SENT_REPORT,
    )


def _memory_criteria(profile: Profile, memory: RssFigures | None) -> list[Criterion]:
    if profile.name != "horslimite" or memory is None:
        return []
    growth = memory.growth_bytes
    return [
        Criterion(
            "Croissance mémoire du titulaire (RSS) pendant les refus",
            f"≤ {MAX_RSS_GROWTH_BYTES // MIB} Mio",
            f"{growth / MIB:.1f} Mio (pic {memory.peak_bytes / MIB:.1f} Mio, {memory.samples} mesures)",
            growth <= MAX_RSS_GROWTH_BYTES,
        )
    ]


def _parameters(request: LoadRequest, limit: int) -> dict[str, Any]:
    return {
        "utilisateurs": request.users,
        "dureeS": request.duration_seconds,
        "travailleurs": request.workers,
        "requetesMax": request.max_requests,
        "limiteOctets": limit,
        "contratDeService": str(request.service_contract),
    }


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
