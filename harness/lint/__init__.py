"""`recette lint`: OpenAPI contracts (and the service contract) checked against the ASP's rules.

`lint_file` reads one file and returns its `Report`; the rules live in `rules.py`, one function each.
"""

from __future__ import annotations

from pathlib import Path

from harness.lint.findings import Finding, Report
from harness.lint.loader import Contract, LoadError, read_contract
from harness.lint.rules import BLOCKING, DESIGN, PRELIMINARY, SERVICE, STRUCTURE, Rule

__all__ = ["Finding", "LoadError", "Report", "lint_file", "unusable_contract"]

UNUSABLE = BLOCKING | {"version-openapi"}
"""Findings that make a contract unusable for a campaign: not 2.0 or 3.0.x, broken references, invalid."""


def lint_file(path: Path) -> Report:
    """The findings of every rule on the contract at `path`; `LoadError` when it is not a readable contract."""
    contract = read_contract(path)
    if contract.kind == "service":
        return Report(str(path), None, _run(SERVICE, contract))
    return Report(str(path), contract.version, lint_openapi(contract))


def unusable_contract(path: Path) -> str | None:
    """Why the OpenAPI contract at `path` cannot drive a campaign (3.1, broken, unreadable), or None when it can.

    schemathesis would fuzz a 3.1 contract without a word; the ASP refuses 3.1, so the harness refuses it first.
    """
    try:
        contract = read_contract(path)
    except LoadError as error:
        return str(error)
    if contract.kind != "openapi":
        return "ce n'est pas un contrat OpenAPI (Swagger 2.0 ou OpenAPI 3.0.x)"
    errors = [f for f in lint_openapi(contract) if f.rule in UNUSABLE and f.severity == "error"]
    return f"{errors[0].path} : {errors[0].message}" if errors else None


def lint_openapi(contract: Contract) -> list[Finding]:
    """Version and references, then structure, then design: a stage runs only if the previous ones allow it."""
    findings: list[Finding] = []
    for stage, skipped in ((PRELIMINARY, "structure et conception"), (STRUCTURE, "conception"), (DESIGN, "")):
        findings += _run(stage, contract)
        blocked = sorted({f.rule for f in findings if f.rule in BLOCKING and f.severity == "error"})
        if skipped and (blocked or contract.family is None):
            reason = f"corriger d'abord {', '.join(blocked)}" if blocked else "version non reconnue"
            where = "/swagger" if contract.is_swagger2 else "/openapi"
            findings.append(
                Finding("regles-non-appliquees", "info", where, f"règles non appliquées ({skipped}) : {reason}.")
            )
            break
    return findings


def _run(stage: list[Rule], contract: Contract) -> list[Finding]:
    return [finding for rule in stage for finding in rule.run(contract)]
