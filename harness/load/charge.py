"""One load run (charge) from start to verdict: locust against a target, then its figures against the QoS.

`run_load` drives locust (`runner.py`), samples the titulaire's memory when it runs on this machine,
measures the return delays at the run's receiver when the users do not wait for them (`returns.py`),
judges locust's JSON report against the service contract (`qos.py`) and writes `qos.json` beside
locust's CSV, HTML and JSON reports in `reports/<run-id>/charge/`. A run that measured no API call could
not be judged: `LoadRunError`, naming the cause locust saw.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.foundations.billing import LEDGER_NAME, BillingTags, LedgerLine, append_to_ledger
from harness.foundations.check_result import CheckResult
from harness.foundations.contracts import SERVICE_CONTRACT, contract_path
from harness.foundations.limits import TRANSACTION_LIMIT_BYTES
from harness.foundations.service_contract import load_service_contract
from harness.load.memory import MIB, RssFigures, RssSampler
from harness.load.profiles import Profile
from harness.load.qos import Criterion, LoadFailure, QosTargets, judge, read_locust_failures, read_locust_json, verdict
from harness.load.returns import InspectorFactory, measure_returns
from harness.load.runner import LoadRunError, LocustRun, run_locust
from harness.load.settings import LoadSettings

MAX_RSS_GROWTH_BYTES = 64 * MIB
"""`horslimite`: refusing over-limit bodies may not make the titulaire's memory grow more than this."""
RAMP_REPORT, SENT_REPORT, QOS_REPORT = "rampe.json", "envoi.json", "qos.json"
NO_MEMORY = "Mémoire du titulaire non mesurée : il ne tourne pas sur cette machine sous un pid connu."


@dataclass(frozen=True)
class LoadTarget:
    """Where the load goes: the environment's state file, the titulaire's pid when it runs here, and the run's
    receiver when the platform's returns go there (its users then do not wait for them: see `returns.py`)."""

    state_file: Path
    titulaire_pid: int | None = None
    receiver: InspectorFactory | None = None


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
    version: str | None = None
    """The major loaded; None: the calendar's current one today."""

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
        return int(qos.get("limiteTransactionOctets", TRANSACTION_LIMIT_BYTES))


def run_load(request: LoadRequest, target: LoadTarget) -> dict[str, Any]:
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
    sent = _read_json(request.charge_dir / SENT_REPORT) or {"depots": 0, "octets": 0, "acceptes": []}
    targets = QosTargets.from_file(request.service_contract)
    entries = read_locust_json(run.json_report)
    if target.receiver is not None:
        accepted = [(str(i), float(at)) for i, at in sent.get("acceptes", [])]
        entries.append(measure_returns(accepted, target.receiver, targets.max_return_seconds))
    failures = read_locust_failures(run.csv_prefix)
    if not any(e.requests for e in entries if e.is_api_call):
        raise LoadRunError(_no_figures(failures, outcome.logs[0]))
    criteria = judge(entries, targets) + _memory_criteria(request.profile, memory)
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
        "echecs": [f.to_json() for f in failures],
        "parametres": _parameters(request, limit),
        "facturation": request.tags.headers(),
        "envoi": {"depots": sent["depots"], "octets": sent["octets"]},
        "memoireTitulaire": memory.to_json() if memory else None,
        "notes": [NO_MEMORY] if not memory else [],
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
    billing = line.row() | request.tags.billing()
    _write_json(request.run_dir / "billing.json", billing)
    append_to_ledger(request.report_dir / LEDGER_NAME, line)


def qos_checks(report: dict[str, Any]) -> list[CheckResult]:
    """The QoS criteria of a load report as check results."""
    name = f"Charge « {report['profil']} »"
    return [
        CheckResult(f"{name} — {c['nom']}", c["reussi"], f"attendu {c['attendu']}, mesuré {c['mesure']}")
        for c in report["criteres"]
    ]


def failure_lines(report: dict[str, Any]) -> list[str]:
    """One line per kind of failure of a load report (grouped by where and error, with its count)."""
    return [f"{f['occurrences']} fois {f['operation']} : {f['erreur']}" for f in report.get("echecs", [])]


def _no_figures(failures: list[LoadFailure], log: Path) -> str:
    """Why a load run measured no API call: locust's most frequent failure, else its log's end."""
    if failures:
        return f"aucune requête mesurée sur l'API : {failures[0].error} ({failures[0].occurrences} fois)"
    return f"aucune requête mesurée sur l'API (journal : {log})"


def _settings(request: LoadRequest, target: LoadTarget, limit: int) -> LoadSettings:
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
        version=request.version,
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
