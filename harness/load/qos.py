"""Judging load figures against the service contract's quality of service (qualiteDeService).

The figures are locust's statistics entries (its JSON report, or live entries for the `rampe` shape):
p95 per operation (entries named by the contract's operationId), error rate of the API calls, and the
return delay (entries of type `RETOUR`: 202 → return received by the ASP's callback). Nothing here
imports locust.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import isodate

from harness.foundations.service_contract import load_service_contract

RETURN_TYPE, RETURN_NAME = "RETOUR", "retour"
"""The custom locust request type of a return: its response time is the return delay."""
TOKEN_NAME = "jeton (OAuth2)"
"""Token requests, shown in the reports but not part of the titulaire's API."""
CONFORME, NON_CONFORME = "conforme", "non conforme"
"""Verdict values, as the campaign's report reads them."""


@dataclass(frozen=True)
class EntryFigures:
    """One locust statistics entry: a request type and name, its counts and response time histogram."""

    name: str
    method: str
    requests: int
    failures: int
    response_times: dict[int, int] = field(default_factory=dict)
    """Response time in ms (rounded as locust does) → number of requests."""
    max_ms: float = 0.0
    total_ms: float = 0.0

    @classmethod
    def from_locust(cls, entry: Mapping[str, Any]) -> EntryFigures:
        """From a serialized locust `StatsEntry` (its JSON report, or `StatsEntry.serialize()`)."""
        return cls(
            name=str(entry["name"]),
            method=str(entry["method"]),
            requests=int(entry["num_requests"]),
            failures=int(entry["num_failures"]),
            response_times={int(float(k)): int(v) for k, v in (entry.get("response_times") or {}).items()},
            max_ms=float(entry.get("max_response_time") or 0.0),
            total_ms=float(entry.get("total_response_time") or 0.0),
        )

    def since(self, earlier: EntryFigures | None) -> EntryFigures:
        """The figures of what happened after `earlier` (a snapshot of the same entry)."""
        if earlier is None:
            return self
        times = {t: n - earlier.response_times.get(t, 0) for t, n in self.response_times.items()}
        times = {t: n for t, n in times.items() if n > 0}
        return EntryFigures(
            self.name,
            self.method,
            self.requests - earlier.requests,
            self.failures - earlier.failures,
            times,
            float(max(times, default=0)),
            self.total_ms - earlier.total_ms,
        )

    def percentile(self, fraction: float) -> float:
        """Response time under which `fraction` of the requests fall (locust's own computation)."""
        count = sum(self.response_times.values())
        at_or_below = int(count * fraction)
        seen = 0
        for time_ms in sorted(self.response_times, reverse=True):
            seen += self.response_times[time_ms]
            if count - seen <= at_or_below:
                return float(time_ms)
        return 0.0

    @property
    def is_api_call(self) -> bool:
        return self.method != RETURN_TYPE and self.name != TOKEN_NAME

    def to_json(self) -> dict[str, Any]:
        mean = self.total_ms / self.requests if self.requests else 0.0
        return {
            "nom": self.name,
            "methode": self.method,
            "requetes": self.requests,
            "echecs": self.failures,
            "p50Ms": self.percentile(0.50),
            "p95Ms": self.percentile(0.95),
            "moyenneMs": round(mean, 1),
            "maxMs": round(self.max_ms, 1),
        }


@dataclass(frozen=True)
class QosTargets:
    """The quality of service promised by the service contract."""

    p95_ms: dict[str, int]
    """latenceP95Ms: operationId → p95 in ms."""
    max_error_percent: float
    max_return_seconds: float

    @classmethod
    def from_contract(cls, document: Mapping[str, Any]) -> QosTargets:
        qos = document["qualiteDeService"]
        return cls(
            p95_ms={str(k): int(v) for k, v in qos["latenceP95Ms"].items()},
            max_error_percent=float(qos["tauxErreurMaxPourcent"]),
            max_return_seconds=isodate.parse_duration(qos["delaiMaxRetour"]).total_seconds(),
        )

    @classmethod
    def from_file(cls, path: Path) -> QosTargets:
        """From a service contract file, validated against its schema (`ServiceContractError` otherwise)."""
        return cls.from_contract(load_service_contract(path))


@dataclass(frozen=True)
class Criterion:
    """One QoS criterion: what the contract promises, what was measured, and the verdict."""

    name: str
    expected: str
    measured: str
    passed: bool

    def to_json(self) -> dict[str, Any]:
        return {"nom": self.name, "attendu": self.expected, "mesure": self.measured, "reussi": self.passed}


def judge(entries: Iterable[EntryFigures], targets: QosTargets) -> list[Criterion]:
    """The QoS criteria of these figures: requests measured, p95 per operation, error rate, return delay."""
    entries = [e for e in entries if e.requests > 0]
    api = [e for e in entries if e.is_api_call]
    returns = [e for e in entries if e.method == RETURN_TYPE]
    calls = sum(e.requests for e in api)
    criteria = [Criterion("Requêtes mesurées sur l'API", "≥ 1", str(calls), calls > 0)]
    criteria += [_p95(e, targets.p95_ms[operation_of(e)]) for e in api if operation_of(e) in targets.p95_ms]
    criteria.append(_error_rate(api, targets.max_error_percent))
    if returns:
        criteria.append(_return_delay(returns, targets.max_return_seconds))
    return criteria


def operation_of(entry: EntryFigures) -> str:
    """The contract's operationId of an entry: its name, without a bracketed variant (`deposerPieces [chunked]`)."""
    return entry.name.split(" [", 1)[0]


def _p95(entry: EntryFigures, target_ms: int) -> Criterion:
    p95 = entry.percentile(0.95)
    return Criterion(
        f"Latence p95 de {entry.name}",
        f"≤ {target_ms} ms",
        f"{p95:.0f} ms ({entry.requests} requêtes)",
        p95 <= target_ms,
    )


def _error_rate(api: list[EntryFigures], max_percent: float) -> Criterion:
    calls = sum(e.requests for e in api)
    failures = sum(e.failures for e in api)
    rate = 100.0 * failures / calls if calls else 0.0
    return Criterion("Taux d'erreur", f"≤ {max_percent:g} %", f"{rate:.2f} % ({failures}/{calls})", rate <= max_percent)


def _return_delay(returns: list[EntryFigures], max_seconds: float) -> Criterion:
    received = sum(e.requests - e.failures for e in returns)
    missing = sum(e.failures for e in returns)
    worst = max(e.max_ms for e in returns) / 1000
    measured = f"{worst:.3f} s ({received} retours reçus, {missing} manquant(s))"
    return Criterion("Délai maximal de retour", f"≤ {max_seconds:g} s", measured, worst <= max_seconds and not missing)


def verdict(criteria: Iterable[Criterion]) -> str:
    criteria = list(criteria)
    return CONFORME if criteria and all(c.passed for c in criteria) else NON_CONFORME


def read_locust_json(path: Path) -> list[EntryFigures]:
    """The entries of locust's `--json-file` report."""
    return [EntryFigures.from_locust(entry) for entry in json.loads(path.read_text(encoding="utf-8"))]


@dataclass(frozen=True)
class LoadFailure:
    """One kind of failure of a load run, grouped as locust groups them: where, the error, how many times."""

    where: str
    """`POST deposerPieces`, or « exception » for an error raised outside any request."""
    error: str
    occurrences: int

    def to_json(self) -> dict[str, Any]:
        return {"operation": self.where, "erreur": self.error, "occurrences": self.occurrences}


def read_locust_failures(csv_prefix: Path) -> list[LoadFailure]:
    """Locust's failures (`…_failures.csv`) and its users' exceptions (`…_exceptions.csv`), most frequent first."""
    failures = [
        LoadFailure(f"{row['Method']} {row['Name']}", row["Error"], int(row["Occurrences"]))
        for row in _csv_rows(csv_prefix.with_name(f"{csv_prefix.name}_failures.csv"))
    ]
    failures += [
        LoadFailure("exception", _last_line(row["Traceback"]) or row["Message"], int(row["Count"]))
        for row in _csv_rows(csv_prefix.with_name(f"{csv_prefix.name}_exceptions.csv"))
    ]
    return sorted(failures, key=lambda f: -f.occurrences)


def _csv_rows(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    except FileNotFoundError:
        return []


def _last_line(text: str) -> str:
    """The last line of a traceback: the exception's type and message."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
