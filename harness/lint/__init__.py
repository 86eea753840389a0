"""`recette lint`: OpenAPI contracts (and the service contract) checked against the ASP's rules.

`lint_file` reads one file and returns its `Report`; the rules live in `rules.py`, one function each.
"""

from __future__ import annotations

from pathlib import Path

from harness.foundations.document import Document, LoadError, pointer, read_contract
from harness.lint.findings import Finding, Report
from harness.lint.rules import BLOCKING, DESIGN, PRELIMINARY, SERVICE, STRUCTURE, Rule

__all__ = ["Finding", "LoadError", "Report", "lint_file"]


def lint_file(path: Path) -> Report:
    """The findings of every rule on the contract at `path`; `LoadError` when it is not a readable contract."""
    contract = read_contract(path)
    if contract.kind == "service":
        return Report(str(path), None, _run(SERVICE, contract))
    return Report(str(path), contract.version, lint_openapi(contract))


def lint_openapi(contract: Document) -> list[Finding]:
    """Version and references, then structure, then design: a stage runs only if the previous ones allow it."""
    findings: list[Finding] = []
    for stage, skipped in ((PRELIMINARY, "structure et conception"), (STRUCTURE, "conception"), (DESIGN, "")):
        findings += _run(stage, contract)
        blocked = sorted({f.rule for f in findings if f.rule in BLOCKING and f.severity == "error"})
        if skipped and (blocked or contract.family is None):
            reason = f"corriger d'abord {', '.join(blocked)}" if blocked else "version non reconnue"
            where = pointer(contract.dialect.version_key)
            findings.append(
                Finding("regles-non-appliquees", "info", where, f"règles non appliquées ({skipped}) : {reason}.")
            )
            break
    return findings


def _run(stage: list[Rule], contract: Document) -> list[Finding]:
    return [finding for rule in stage for finding in rule.run(contract)]
