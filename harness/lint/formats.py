"""The outputs of `recette lint`: text and JSON (`findings`), and for CI SARIF, GitHub, GitLab, Markdown and JUnit.

Every CI format places each finding at the file, line and column of its YAML node.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

from harness import __version__
from harness.foundations.document.annotations import Annotation, Level, RuleInfo, github, gitlab, sarif
from harness.lint.findings import Finding, Report, format_text
from harness.lint.rules import ALL_RULES, Rule

LEVELS: dict[str, Level] = {"error": "error", "warning": "warning", "info": "note"}
SEVERITY_NAMES = {"error": "erreur", "warning": "avertissement", "info": "information"}
NOT_APPLIED = RuleInfo(
    "regles-non-appliquees",
    "Des règles n'ont pas été appliquées à un contrat qu'elles ne pourraient pas lire.",
    "Corriger d'abord la version, les références ou la structure du contrat : les règles suivantes s'appliqueront.",
    "recette lint",
    "information",
    "note",
)


def rule_info(rule: Rule) -> RuleInfo:
    """A lint rule as CI tools show it."""
    return RuleInfo(rule.id, rule.summary, rule.summary, rule.source, rule.level, LEVELS[rule.severity])


def ci_annotations(reports: list[Report]) -> list[Annotation]:
    return [_annotation(report, finding) for report in reports for finding in report.findings]


def _annotation(report: Report, finding: Finding) -> Annotation:
    key = f"{report.contract}|{finding.path}|{finding.message}"
    return Annotation(finding.rule, LEVELS[finding.severity], finding.message, finding.place, key)


def format_sarif(reports: list[Report]) -> str:
    return sarif("recette lint", __version__, [*map(rule_info, ALL_RULES), NOT_APPLIED], ci_annotations(reports))


def format_github(reports: list[Report]) -> str:
    return github(ci_annotations(reports))


def format_gitlab(reports: list[Report]) -> str:
    return gitlab(ci_annotations(reports))


def format_markdown(reports: list[Report]) -> str:
    """A merge-request comment: one section per contract, its verdict and a table of its findings."""
    lines: list[str] = []
    for report in reports:
        verdict = "❌ non conforme" if report.has_errors else "✅ conforme"
        lines += [f"### `{report.contract}` : {verdict}", ""]
        if report.findings:
            lines += ["| sévérité | règle | où | constat |", "| --- | --- | --- | --- |"]
            lines += [
                f"| {SEVERITY_NAMES[f.severity]} | `{f.rule}` | `{f.place or f.path}` | {_cell(f.message)} |"
                for f in report.findings
            ]
        else:
            lines.append("Aucun constat.")
        lines += [f"- ignoré : `{f.rule}` en `{f.path}` — {_cell(i.reason)}" for f, i in report.ignored]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def format_junit(reports: list[Report]) -> str:
    """One testsuite per contract, one testcase per rule that ran: failing when the rule found errors."""
    root = ET.Element("testsuites", name="recette lint")
    for report in reports:
        suite = ET.SubElement(root, "testsuite", name=report.contract)
        for rule_id in report.applied:
            _testcase(suite, report, rule_id)
        failures = len(suite.findall("testcase/failure"))
        suite.attrib.update(tests=str(len(report.applied)), failures=str(failures), errors="0", skipped="0")
    root.set("tests", str(sum(len(r.applied) for r in reports)))
    root.set("failures", str(len(root.findall("testsuite/testcase/failure"))))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def _testcase(suite: ET.Element, report: Report, rule_id: str) -> None:
    findings = [f for f in report.findings if f.rule == rule_id]
    case = ET.SubElement(suite, "testcase", classname=f"recette.lint.{rule_id}", name=rule_id)
    if findings and findings[0].place is not None:
        case.attrib.update(file=findings[0].place.file, line=str(findings[0].place.line))
    lines = "\n".join(
        f"{f.place or report.contract} {f.severity} {f.path or '(racine)'}: {f.message}" for f in findings
    )
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        failure = ET.SubElement(case, "failure", message=errors[0].message, type=rule_id)
        failure.text = lines
    elif findings:
        ET.SubElement(case, "system-out").text = lines


FORMATS: dict[str, Callable[[list[Report]], str]] = {
    "text": format_text,
    "sarif": format_sarif,
    "github": format_github,
    "gitlab": format_gitlab,
    "markdown": format_markdown,
    "junit": format_junit,
}
"""Every format but `json` (whose shape depends on the number of contracts)."""
