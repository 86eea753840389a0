"""Findings of the linter (constats), the verdict of a contract, and the text and JSON formats."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]

VERDICT_OK = "conforme"
VERDICT_KO = "non-conforme"


@dataclass(frozen=True)
class Finding:
    """One rule broken at one place: `path` is a JSON pointer (RFC 6901) into the contract.

    A place in another file reached through a `$ref` is written `relative/file.yaml#/pointer`.
    """

    rule: str
    severity: Severity
    path: str
    message: str


@dataclass
class Report:
    """Everything the linter found in one contract file."""

    contract: str
    openapi: str | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)

    @property
    def verdict(self) -> str:
        return VERDICT_KO if self.has_errors else VERDICT_OK

    def count(self, severity: Severity) -> int:
        return sum(f.severity == severity for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "contract": self.contract,
            "openapi": self.openapi,
            "findings": [asdict(f) for f in self.findings],
            "verdict": self.verdict,
        }


def format_text(reports: list[Report]) -> str:
    """One line per finding (`SEVERITY rule path: message`), then one verdict line per contract."""
    lines: list[str] = []
    for report in reports:
        lines += [f"{f.severity.upper()} {f.rule} {f.path or '(racine)'}: {f.message}" for f in report.findings]
        lines.append(_verdict_line(report))
    return "\n".join(lines)


def format_json(reports: list[Report], *, as_list: bool) -> str:
    """One JSON object for one contract, a JSON list for several."""
    payload: Any = [r.to_dict() for r in reports] if as_list else reports[0].to_dict()
    return json.dumps(payload, indent=2, ensure_ascii=False)


def _verdict_line(report: Report) -> str:
    verdict = "NON CONFORME" if report.has_errors else "CONFORME"
    counts = (
        _plural(report.count("error"), "erreur"),
        _plural(report.count("warning"), "avertissement"),
        _plural(report.count("info"), "information"),
    )
    return f"{report.contract} : {verdict} — {', '.join(counts)}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count > 1 else ''}"
