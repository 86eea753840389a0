"""The gate's result and its three outputs: text for people, JSON for tools, JUnit XML for CI."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from harness.gate.changes import Change, Level
from harness.gate.policy import BUMP_NAMES, Violation

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
        lines += [f"  [{LEVEL_NAMES[change.level]}] {change.id} — {change.location}", f"      {change.message}"]
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


RENDERERS: dict[str, Callable[[GateResult], str]] = {"text": render_text, "json": render_json, "junit": render_junit}
