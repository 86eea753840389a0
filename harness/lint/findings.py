"""Findings of the linter (constats), the verdict of a contract, and the text and JSON formats."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from harness.foundations.document import Place

if TYPE_CHECKING:
    from harness.lint.config import Ignore

Severity = Literal["error", "warning", "info"]

VERDICT_OK = "conforme"
VERDICT_KO = "non-conforme"


@dataclass(frozen=True)
class Finding:
    """One rule broken at one place: `path` is a JSON pointer (RFC 6901) into the contract, `place` the file, line
    and column of that node.

    A place in another file reached through a `$ref` is written `relative/file.yaml#/pointer`.
    """

    rule: str
    severity: Severity
    path: str
    message: str
    place: Place | None = field(default=None, compare=False)

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "severity": self.severity, "path": self.path, "message": self.message}


@dataclass
class Report:
    """Everything the linter found in one contract file."""

    contract: str
    openapi: str | None
    findings: list[Finding] = field(default_factory=list)
    ignored: list[tuple[Finding, Ignore]] = field(default_factory=list)
    """Findings a team's configuration ignores, each with its ignore (and reason): out of the verdict."""
    applied: list[str] = field(default_factory=list)
    """The ids of the rules that ran (a stage blocked by a broken contract does not run)."""

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
            "findings": [f.as_dict() for f in self.findings],
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
    count = len(report.ignored)
    ignored = f", {count} constat{'s' if count > 1 else ''} ignoré{'s' if count > 1 else ''}" if count else ""
    return f"{report.contract} : {verdict} — {', '.join(counts)}{ignored}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count > 1 else ''}"
