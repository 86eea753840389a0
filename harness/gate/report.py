"""The gate's result and its outputs: text for people, JSON for tools, and for CI JUnit XML, SARIF, GitHub
annotations, GitLab Code Quality, a Markdown merge-request comment and a self-contained HTML page.

Every CI format places each change at the file, line and column of its YAML node, and each violation at the
revision's `info.version` (where a bump is written).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from harness import __version__
from harness.foundations.document import Place
from harness.foundations.document.annotations import Annotation, RuleInfo, github, gitlab, sarif
from harness.foundations.document.annotations import Level as AnnotationLevel
from harness.gate.changes import Change, Level
from harness.gate.policy import BUMP_NAMES, VIOLATION_RULES, Violation

LEVEL_NAMES = {Level.BREAKING: "CASSANT", Level.NON_BREAKING: "compatible", Level.INFO: "info"}


@dataclass(frozen=True)
class GateResult:
    """What the gate found: the changes, the bumps, the broken rules."""

    changes: list[Change]
    required_bump: str
    declared_bump: str | None
    violations: list[Violation]
    versions: tuple[str, str] = ("", "")
    calendar: str | None = None
    """Which calendar was applied, or why none was (None: the semver check alone was asked)."""
    version_place: Place | None = None
    """Where the revision's `info.version` is written: the place of every violation."""

    @property
    def ordered_changes(self) -> list[Change]:
        """The changes, breaking first, then compatible, then information (contract order within each)."""
        return sorted(self.changes, key=lambda change: list(Level).index(change.level))

    @property
    def passed(self) -> bool:
        return not self.violations

    @property
    def verdict(self) -> str:
        return "pass" if self.passed else "fail"

    def as_dict(self) -> dict[str, object]:
        return {
            "changes": [change.as_dict() for change in self.changes],
            "requiredBump": self.required_bump,
            "declaredBump": self.declared_bump,
            "violations": [violation.as_dict() for violation in self.violations],
            "verdict": self.verdict,
        }


def render_json(result: GateResult) -> str:
    return json.dumps(result.as_dict(), indent=2, ensure_ascii=False)


def render_text(result: GateResult) -> str:
    counts = Counter(change.level for change in result.changes)
    lines = [
        f"Changements : {len(result.changes)} ({counts[Level.BREAKING]} cassant(s), "
        f"{counts[Level.NON_BREAKING]} compatible(s), {counts[Level.INFO]} info)"
    ]
    for change in result.changes:
        where = f" ({change.place})" if change.place else ""
        lines += [f"  [{LEVEL_NAMES[change.level]}] {change.id} — {change.location}{where}", f"      {change.message}"]
    base, revision = result.versions
    declared = BUMP_NAMES.get(result.declared_bump or "", result.declared_bump or "inconnue")
    lines.append(f"Montée requise : {BUMP_NAMES[result.required_bump]} ; déclarée : {declared} ({base} → {revision})")
    if result.calendar:
        lines.append(result.calendar[0].upper() + result.calendar[1:])
    lines += [f"Violation {v.rule} : {v.message}" for v in result.violations]
    lines.append("Verdict : ACCEPTÉ" if result.passed else f"Verdict : REFUSÉ ({len(result.violations)} violation(s))")
    return "\n".join(lines)


def render_junit(result: GateResult) -> str:
    """One failing testcase per violation, or one passing testcase; the changes go to system-out."""
    suite = ET.Element(
        "testsuite",
        name="recette gate",
        tests=str(max(1, len(result.violations))),
        failures=str(len(result.violations)),
        errors="0",
        skipped="0",
    )
    names: Counter[str] = Counter()
    for violation in result.violations:
        names[violation.rule] += 1
        name = violation.rule if names[violation.rule] == 1 else f"{violation.rule} ({names[violation.rule]})"
        case = ET.SubElement(suite, "testcase", classname="recette.gate", name=name)
        if result.version_place is not None:
            case.attrib.update(file=result.version_place.file, line=str(result.version_place.line))
        failure = ET.SubElement(case, "failure", message=violation.message, type=violation.rule)
        failure.text = violation.message
    if not result.violations:
        ET.SubElement(suite, "testcase", classname="recette.gate", name="politique-de-versions")
    ET.SubElement(suite, "system-out").text = render_text(result)
    root = ET.Element(
        "testsuites", name="recette gate", tests=suite.get("tests", "1"), failures=suite.get("failures", "0")
    )
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


# --- annotations for CI ---------------------------------------------------------------------------------

CHANGE_LEVELS: dict[Level, AnnotationLevel] = {
    Level.BREAKING: "warning",
    Level.NON_BREAKING: "note",
    Level.INFO: "note",
}
CHANGE_SOURCE = "spécification des échanges de l'ASP : un changement cassant demande une version majeure"
CHANGE_HELP = {
    Level.BREAKING: "Changement cassant : il demande une montée de version majeure (et son calendrier).",
    Level.NON_BREAKING: "Changement compatible : il demande au moins une montée de version mineure.",
    Level.INFO: "Changement d'information (textes) : une version corrective suffit.",
}


def ci_annotations(result: GateResult) -> list[Annotation]:
    """Violations (errors, at `info.version`), then the changes, breaking ones first (warnings), then notes."""
    violations = [
        Annotation(v.rule, "error", v.message, result.version_place, f"{v.rule}|{v.message}") for v in result.violations
    ]
    changes = [
        Annotation(c.id, CHANGE_LEVELS[c.level], f"{c.message} ({c.location})", c.place, f"{c.id}|{c.location}")
        for c in result.ordered_changes
    ]
    return violations + changes


def rules(result: GateResult) -> list[RuleInfo]:
    """Every rule of the policy, and one rule per kind of change found."""
    policy = [
        RuleInfo(rule, summary, summary, source, "doit", "error") for rule, (summary, source) in VIOLATION_RULES.items()
    ]
    kinds = {c.id: c for c in result.ordered_changes}
    found = [
        RuleInfo(
            id_,
            f"Changement « {id_} » ({LEVEL_NAMES[c.level]}).",
            CHANGE_HELP[c.level],
            CHANGE_SOURCE,
            "information",
            CHANGE_LEVELS[c.level],
        )
        for id_, c in kinds.items()
    ]
    return policy + found


def render_sarif(result: GateResult) -> str:
    return sarif("recette gate", __version__, rules(result), ci_annotations(result))


def render_github(result: GateResult) -> str:
    summary = f"::notice title=recette gate::{_verdict(result)}"
    return "\n".join(filter(None, [github(ci_annotations(result)), summary]))


def render_gitlab(result: GateResult) -> str:
    return gitlab(ci_annotations(result))


def _verdict(result: GateResult) -> str:
    base, revision = result.versions
    required = BUMP_NAMES[result.required_bump]
    declared = BUMP_NAMES.get(result.declared_bump or "", result.declared_bump or "inconnue")
    verdict = "ACCEPTÉ" if result.passed else f"REFUSÉ ({len(result.violations)} violation(s))"
    return f"{verdict} — montée requise {required}, déclarée {declared} ({base} → {revision})"


# --- Markdown and HTML ----------------------------------------------------------------------------------


def render_markdown(result: GateResult) -> str:
    """A merge-request comment: the verdict, the violations, then the changes in a table, breaking first."""
    icon = "✅" if result.passed else "❌"
    lines = [f"### {icon} recette gate : {_verdict(result)}", ""]
    if result.calendar:
        lines += [f"_{_cell(result.calendar)}_", ""]
    lines += [f"- **{v.rule}** : {_cell(v.message)}" for v in result.violations]
    if result.violations:
        lines.append("")
    if result.changes:
        lines += ["| niveau | changement | où | fichier |", "| --- | --- | --- | --- |"]
        lines += [
            f"| {LEVEL_NAMES[c.level]} | `{c.id}` : {_cell(c.message)} | {_cell(c.location)} | `{c.place or ''}` |"
            for c in result.ordered_changes
        ]
    else:
        lines.append("Aucun changement.")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


HTML = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>recette gate : {{ verdict }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1b1b1b; }
h1 { font-size: 1.4rem; } .refuse { color: #b00020; } .accepte { color: #1b7a2f; }
table { border-collapse: collapse; width: 100%; } th, td { border: 1px solid #ccc; padding: .4rem; text-align: left;
vertical-align: top; } .breaking { background: #fde8e8; } .non-breaking { background: #eef7ee; }
.info { background: #f4f4f4; } code { font-size: .9em; }
</style></head><body>
<h1 class="{{ 'accepte' if passed else 'refuse' }}">recette gate : {{ verdict }}</h1>
{% if calendar %}<p>{{ calendar }}</p>{% endif %}
{% if violations %}<h2>Violations</h2><ul>
{% for v in violations %}<li><strong>{{ v.rule }}</strong> : {{ v.message }}</li>{% endfor %}
</ul>{% endif %}
<h2>Changements ({{ changes | length }})</h2>
{% if changes %}<table><thead><tr><th>niveau</th><th>changement</th><th>où</th><th>fichier</th></tr></thead><tbody>
{% for c in changes %}<tr class="{{ c.level.value }}"><td>{{ names[c.level] }}</td><td><code>{{ c.id }}</code><br>
{{ c.message }}</td><td>{{ c.location }}</td><td><code>{{ c.place or '' }}</code></td></tr>
{% endfor %}</tbody></table>{% else %}<p>Aucun changement.</p>{% endif %}
</body></html>
"""


def render_html(result: GateResult) -> str:
    """A self-contained page (no external resource) of the verdict and the changes, breaking first."""
    import jinja2  # only this output needs it

    template = jinja2.Environment(autoescape=True).from_string(HTML)
    return template.render(
        verdict=_verdict(result),
        passed=result.passed,
        calendar=result.calendar,
        violations=result.violations,
        changes=result.ordered_changes,
        names=LEVEL_NAMES,
    )


RENDERERS: dict[str, Callable[[GateResult], str]] = {
    "text": render_text,
    "json": render_json,
    "junit": render_junit,
    "sarif": render_sarif,
    "github": render_github,
    "gitlab": render_gitlab,
    "markdown": render_markdown,
    "html": render_html,
}
