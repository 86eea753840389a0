"""Findings placed in contract files, written for CI: SARIF 2.1.0, GitHub workflow commands, GitLab Code Quality.

`recette lint` and `recette gate` each turn what they found into `Annotation`s (a rule, a level, a message
and the file, line and column of the YAML node) and describe their rules as `RuleInfo`s; the writers here
know nothing else of either tool.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from harness.foundations.document.nodes import Place

Level = Literal["error", "warning", "note"]
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_GITHUB_COMMANDS = {"error": "error", "warning": "warning", "note": "notice"}
_GITLAB_SEVERITIES = {"error": "major", "warning": "minor", "note": "info"}


@dataclass(frozen=True)
class RuleInfo:
    """A rule as CI tools show it: its id, a one-line summary, its help, its source and its level (doit, devrait)."""

    id: str
    summary: str
    help: str
    source: str
    level: str
    default: Level


@dataclass(frozen=True)
class Annotation:
    """One finding at one place; `key` identifies it across runs (not its line, which moves with edits)."""

    rule: str
    level: Level
    message: str
    place: Place | None
    key: str

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(f"{self.rule}\0{self.key}".encode()).hexdigest()


def sarif(tool: str, version: str, rules: Iterable[RuleInfo], annotations: list[Annotation]) -> str:
    """One SARIF 2.1.0 run of `tool`: its rules (with help and source) and one result per annotation."""
    descriptors = {rule.id: rule for rule in rules}
    run = {
        "tool": {
            "driver": {
                "name": tool,
                "version": version,
                "rules": [_descriptor(rule) for rule in descriptors.values()],
            }
        },
        "results": [_result(annotation, list(descriptors)) for annotation in annotations],
    }
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2, ensure_ascii=False)


def _descriptor(rule: RuleInfo) -> dict[str, object]:
    return {
        "id": rule.id,
        "name": "".join(word.capitalize() for word in rule.id.split("-")),
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": f"{rule.help} (source : {rule.source} ; niveau : {rule.level})"},
        "help": {"text": rule.help, "markdown": f"{rule.help}\n\nSource : {rule.source}. Niveau : **{rule.level}**."},
        "defaultConfiguration": {"level": rule.default},
        "properties": {"source": rule.source, "niveau": rule.level},
    }


def _result(annotation: Annotation, rule_ids: list[str]) -> dict[str, object]:
    result: dict[str, object] = {
        "ruleId": annotation.rule,
        "level": annotation.level,
        "message": {"text": annotation.message},
        "partialFingerprints": {"recette/v1": annotation.fingerprint},
    }
    if annotation.rule in rule_ids:
        result["ruleIndex"] = rule_ids.index(annotation.rule)
    if annotation.place is not None:
        place = annotation.place
        region = {"startLine": place.line, "startColumn": place.column}
        result["locations"] = [{"physicalLocation": {"artifactLocation": {"uri": place.file}, "region": region}}]
    return result


def github(annotations: list[Annotation]) -> str:
    """GitHub Actions workflow commands (`::error file=…,line=…,col=…,title=…::message`), one line each."""
    lines = []
    for annotation in annotations:
        properties = {"title": annotation.rule}
        if annotation.place is not None:
            place = annotation.place
            properties = {"file": place.file, "line": str(place.line), "col": str(place.column)} | properties
        written = ",".join(f"{key}={_escape(value, property=True)}" for key, value in properties.items())
        lines.append(f"::{_GITHUB_COMMANDS[annotation.level]} {written}::{_escape(annotation.message)}")
    return "\n".join(lines)


def _escape(text: str, *, property: bool = False) -> str:
    """GitHub's escaping of workflow command data (and, in properties, of `:` and `,`)."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if property else text


def gitlab(annotations: list[Annotation]) -> str:
    """A GitLab Code Quality report: a JSON list of issues with path, line and a stable fingerprint."""
    issues = [
        {
            "description": annotation.message,
            "check_name": annotation.rule,
            "fingerprint": annotation.fingerprint,
            "severity": _GITLAB_SEVERITIES[annotation.level],
            "location": {
                "path": annotation.place.file if annotation.place else "",
                "lines": {"begin": annotation.place.line if annotation.place else 1},
            },
        }
        for annotation in annotations
    ]
    return json.dumps(issues, indent=2, ensure_ascii=False)
