"""`recette lint`: OpenAPI contracts (and the service contract, and the archive exchange's JSON Schemas) checked
against the ASP's rules.

`lint_file` reads one file and returns its `Report`; the rules live in `rules.py`, one function each, and a
team's choices (rules on or off, severities, ignores) in `config.py`.
"""

from __future__ import annotations

from pathlib import Path

from harness.foundations.document import Document, LoadError, pointer, read_contract
from harness.lint.config import ConfigError, LintConfig, read_config
from harness.lint.findings import Finding, Report
from harness.lint.rules import ALL_RULES, BLOCKING, DESIGN, JSON_SCHEMA, PRELIMINARY, SERVICE, STRUCTURE, Rule

__all__ = ["ALL_RULES", "ConfigError", "Finding", "LintConfig", "LoadError", "Report", "lint_file", "read_config"]


def lint_file(path: Path, config: LintConfig | None = None) -> Report:
    """The findings of every rule on the contract at `path`, as `config` keeps them; `LoadError` when it is not a
    readable contract."""
    config = config or LintConfig()
    contract = read_contract(path)
    if contract.kind == "service":
        raw, version, stages = _run(SERVICE, contract, config), None, [SERVICE]
    elif contract.kind == "json-schema":
        raw, version, stages = _run(JSON_SCHEMA, contract, config), None, [JSON_SCHEMA]
    else:
        (raw, stages), version = lint_openapi(contract, config), contract.version
    kept, ignored = config.apply(raw)
    applied = [rule.id for stage in stages for rule in stage if config.enabled(rule.id, rule.optional)]
    return Report(str(path), version, kept, ignored, applied)


def lint_openapi(contract: Document, config: LintConfig) -> tuple[list[Finding], list[list[Rule]]]:
    """Version and references, then structure, then design: a stage runs only if the previous ones allow it.

    Returns the findings and the stages that ran."""
    findings: list[Finding] = []
    ran: list[list[Rule]] = []
    for stage, skipped in ((PRELIMINARY, "structure et conception"), (STRUCTURE, "conception"), (DESIGN, "")):
        findings += _run(stage, contract, config)
        ran.append(stage)
        blocked = sorted({f.rule for f in findings if f.rule in BLOCKING and f.severity == "error"})
        if skipped and (blocked or contract.family is None):
            reason = f"corriger d'abord {', '.join(blocked)}" if blocked else "version non reconnue"
            where = pointer(contract.dialect.version_key)
            message = f"règles non appliquées ({skipped}) : {reason}."
            findings.append(Finding("regles-non-appliquees", "info", where, message, contract.place_of(where)))
            break
    return findings, ran


def _run(stage: list[Rule], contract: Document, config: LintConfig) -> list[Finding]:
    return [finding for rule in stage if config.enabled(rule.id, rule.optional) for finding in rule.run(contract)]
