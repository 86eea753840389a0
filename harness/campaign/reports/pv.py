"""pv-recette.html: the procès-verbal de recette, a self-contained page to print, sign and attach.

No external asset (inline CSS, system fonts), autoescaped: evidence and curl commands are shown, never run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from harness.campaign.reports.written import Destination
from harness.campaign.results import COEXISTENCE_SUITE, FAILED, PASSED, SKIPPED, CampaignReport, ScenarioResult

PV_NAME = "pv-recette.html"
TEMPLATE = "pv-recette.html.j2"
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
OUTCOME_LABELS = {PASSED: "Réussi", FAILED: "Échoué", SKIPPED: "Ignoré"}


@dataclass(frozen=True)
class Row:
    """One scenario in the table of results; `anomaly` is its number in the list of anomalies, if it failed."""

    result: ScenarioResult
    anomaly: int | None = None


@dataclass
class Capability:
    """One capability (fonctionnalité) and its scenarios, in the order they ran."""

    name: str
    rows: list[Row] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {outcome: sum(r.result.outcome == outcome for r in self.rows) for outcome in OUTCOME_LABELS}


def write_pv(report: CampaignReport, destination: Destination) -> Path:
    """Write `<run_dir>/pv-recette.html`."""
    path = destination.run_dir / PV_NAME
    path.write_text(render_pv(report), encoding="utf-8")
    return path


def render_pv(report: CampaignReport, generated: datetime | None = None) -> str:
    """The PV of `report` as one HTML page; `generated` is the date printed as the PV's date."""
    template = _environment().get_template(TEMPLATE)
    return template.render(
        report=report,
        counts=report.counts(),
        capabilities=group_by_capability(report.results),
        failures=report.failures,
        reasons=not_qualified_reasons(report),
        load=load_view(report.load),
        started=french_datetime(report.started),
        judged_on=french_date(report.judged_on) if report.judged_on else None,
        coexistence=coexistence_verdict(report.results),
        duration=french_duration(report.finished - report.started) if report.finished else "campagne non terminée",
        generated=french_datetime(generated or datetime.now(UTC)),
        labels=OUTCOME_LABELS,
    )


def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("harness.campaign.reports", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["nombre"] = french_number
    environment.filters["secondes"] = lambda seconds: french_duration(timedelta(seconds=seconds))
    return environment


def group_by_capability(results: list[ScenarioResult]) -> list[Capability]:
    """Scenarios grouped by capability (in order of first appearance), failures numbered as anomalies; with
    several majors (`--versions`), one section per major and capability."""
    groups: dict[str, Capability] = {}
    anomalies = 0
    for result in results:
        anomalies += result.outcome == FAILED
        row = Row(result, anomalies if result.outcome == FAILED else None)
        name = f"Version {result.major} — {result.capability}" if result.major else result.capability
        groups.setdefault(name, Capability(name)).rows.append(row)
    return list(groups.values())


def coexistence_verdict(results: list[ScenarioResult]) -> str | None:
    """The verdict on the coexistence of the majors (`--versions`); None when the run judged none."""
    checks = [r for r in results if r.suite == COEXISTENCE_SUITE]
    if not checks:
        return None
    if any(r.outcome == FAILED for r in checks):
        return "non conforme"
    return "conforme" if any(r.outcome == PASSED for r in checks) else "non exigée à la date de la recette"


def not_qualified_reasons(report: CampaignReport) -> list[str]:
    """Why the titulaire is not qualified (empty when it is)."""
    if report.qualified:
        return []
    reasons = []
    if failures := len(report.failures):
        reasons.append(f"{failures} scénario(s) en échec")
    if violations := len(report.contract_violations):
        reasons.append(f"{violations} écart(s) au contrat d'interface")
    if report.load is not None and report.load.get("verdict") != "conforme":
        reasons.append("essai de charge non conforme à la qualité de service contractuelle")
    if not report.counts()[PASSED]:
        reasons.append("aucun scénario réussi")
    return reasons


def load_view(load: dict[str, Any] | None) -> dict[str, Any] | None:
    """The load verdict as the PV shows it: verdict, profile, period and criteria (tolerant of missing keys)."""
    if load is None:
        return None
    criteria = [
        {
            "name": str(c.get("nom", "")),
            "expected": str(c.get("attendu", "")),
            "measured": str(c.get("mesure", "")),
            "passed": bool(c.get("reussi")),
        }
        for c in load.get("criteres") or []
    ]
    verdict = str(load.get("verdict") or "non conforme")
    return {"verdict": verdict, "conforme": verdict == "conforme", "profile": load.get("profil"), "criteria": criteria}


def french_datetime(moment: datetime) -> str:
    """`28 novembre 2025 à 13:09:12 UTC`."""
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year} à {moment:%H:%M:%S} UTC"


def french_date(day: date) -> str:
    """`1 octobre 2027`."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def french_number(value: int) -> str:
    """`20 000 000` (narrow no-break spaces between thousands)."""
    return f"{value:,}".replace(",", "\u202f")


def french_duration(elapsed: timedelta) -> str:
    """`1 h 02 min 05 s`, `2 min 05 s`, `4,2 s`."""
    seconds = max(elapsed.total_seconds(), 0.0)
    if seconds < 60:
        return f"{seconds:.1f} s".replace(".", ",")
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min {secs:02d} s" if hours else f"{minutes} min {secs:02d} s"
