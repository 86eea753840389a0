"""pv-recette.html: the procès-verbal de recette, a self-contained page to print, sign and attach.

It identifies what was qualified (titulaire, platform and version, environment, contracts, dates, the fuzzer's
seed, the digest of the evidence), states the three-valued verdict, lists the suites with their parameters, the
results by capability, each failed check once with one French sentence before its evidence and its
reproduction script, the reservations with what lifts them, and the load test's figures. Numbers are French
throughout (`harness.campaign.reports.french`). No external asset (inline CSS, system fonts), autoescaped:
evidence and curl commands are shown, never run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.campaign.reports import french
from harness.campaign.reports.pages import report_pages
from harness.campaign.reports.written import Destination
from harness.campaign.reproduction import deposits_named, rule_named
from harness.campaign.results import (
    COEXISTENCE_SUITE,
    FAILED,
    PASSED,
    RESERVED,
    SKIPPED,
    CampaignReport,
    ScenarioResult,
    Verdict,
)
from harness.foundations.clock import utc_now
from harness.proxy.journal import JOURNAL_FILE, read_journal
from harness.proxy.page import PAGE_FILE

PV_NAME = "pv-recette.html"
TEMPLATE = "pv-recette.html.j2"
OUTCOME_LABELS = {PASSED: "Réussi", FAILED: "Échoué", RESERVED: "Réserve", SKIPPED: "Ignoré"}
VERDICT_CLASSES = {
    Verdict.QUALIFIED: "qualifie",
    Verdict.QUALIFIED_WITH_RESERVATIONS: "reserves",
    Verdict.NOT_QUALIFIED: "non-qualifie",
}
STEP_KEYWORDS = ("Soit", "Étant donné", "Etant donné", "Quand", "Lorsque", "Alors", "Et", "Mais")
SUITE_NAMES = {
    "bdd": "Scénarios métier (Gherkin)",
    "securite": "Sécurité des échanges",
    "contrat": "Contrat d'interface (fuzzing, retours)",
    "charge": "Essai de charge à la limite de 20 Mo",
    COEXISTENCE_SUITE: "Coexistence des versions majeures",
}


@dataclass(frozen=True)
class Row:
    """One scenario in the table of results; `anomaly` is the number of its check in the list of anomalies."""

    result: ScenarioResult
    anomaly: int | None = None


@dataclass
class Capability:
    """One capability (fonctionnalité) and its scenarios, in the order they ran."""

    name: str
    rows: list[Row] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {outcome: sum(r.result.outcome == outcome for r in self.rows) for outcome in OUTCOME_LABELS}


@dataclass
class Anomaly:
    """One check that failed, once, with every scenario it failed in (the first one's evidence is shown)."""

    number: int
    check: str
    """What was expected: the failed step without its keyword, or the rule of the return judge."""
    failures: list[ScenarioResult] = field(default_factory=list)

    @property
    def first(self) -> ScenarioResult:
        return self.failures[0]

    @property
    def rule(self) -> str:
        """The rule broken: the return judge's (`retour-unique`), else the capability the scenario checks."""
        return rule_of(self.first) or self.first.capability

    @property
    def sentence(self) -> str:
        """Rule, expected and observed, in one French sentence."""
        others = len(self.failures) - 1
        where = f"« {self.first.scenario} »"
        if others:
            where += f" et {french.plural(others, 'autre scénario', 'autres scénarios')}"
        observed = observed_line(self.first)
        return f"Règle « {self.rule} » non respectée dans {where} — attendu : {self.check} ; constaté : {observed}."


def write_pv(report: CampaignReport, destination: Destination) -> Path:
    """Write `<run_dir>/pv-recette.html`."""
    path = destination.run_dir / PV_NAME
    journal = destination.run_dir / JOURNAL_FILE
    path.write_text(render_pv(report, journal=read_journal(journal) if journal.is_file() else None), encoding="utf-8")
    return path


def render_pv(
    report: CampaignReport, generated: datetime | None = None, journal: list[dict[str, Any]] | None = None
) -> str:
    """The PV of `report` as one HTML page; `generated` is the date printed as the PV's date; `journal`, the
    proxy's lines (`--journal`), from which each anomaly lists the exchanges of its deposits."""
    template = report_pages().get_template(TEMPLATE)
    anomalies = group_by_check(report.failures)
    return template.render(
        report=report,
        verdict=report.verdict,
        verdict_class=VERDICT_CLASSES[report.verdict],
        counts=report.counts(),
        capabilities=group_by_capability(report.results, anomalies),
        anomalies=anomalies,
        reservations=report.reservations,
        reasons=not_qualified_reasons(report),
        suites=suite_rows(report),
        load=load_view(report.load),
        judged_on=french.day(report.judged_on) if report.judged_on else None,
        coexistence=coexistence_verdict(report.results),
        duration=french.duration(report.finished - report.started) if report.finished else "campagne non terminée",
        generated=french.moment(generated or utc_now()),
        labels=OUTCOME_LABELS,
        exchanges={anomaly.number: exchanges_of(anomaly, journal or []) for anomaly in anomalies},
        journal_page=PAGE_FILE,
    )


def check_of(failure: ScenarioResult) -> str:
    """The check a failure broke: the return judge's rule its message names, else its failed step without the
    keyword, else its scenario (a failure outside any step)."""
    rule = rule_of(failure)
    step = _without_keyword(failure.failed_step) if failure.failed_step else None
    if step:
        return step
    return f"les retours respectent la règle {rule}" if rule else f"le contrôle « {failure.scenario} » réussit"


def group_by_check(failures: list[ScenarioResult]) -> list[Anomaly]:
    """One anomaly per check, numbered in the order they first failed; a rule of the return judge is one check
    whatever step found it."""
    groups: dict[str, Anomaly] = {}
    for failure in failures:
        key = rule_of(failure) or check_of(failure)
        if key not in groups:
            groups[key] = Anomaly(len(groups) + 1, check_of(failure))
        groups[key].failures.append(failure)
    return list(groups.values())


def rule_of(failure: ScenarioResult) -> str | None:
    """The rule of the return judge (`retour-unique`…) a failure's message names, if any."""
    return rule_named(failure.observed or "")


def _without_keyword(step: str) -> str:
    for keyword in STEP_KEYWORDS:
        if step.startswith(keyword + " "):
            return step.removeprefix(keyword + " ")
    return step


def observed_line(failure: ScenarioResult) -> str:
    """What a failure observed, on one line (its assertion's message; the last evidence for an older result)."""
    text = failure.observed or (failure.evidence[-1] if failure.evidence else "aucun constat enregistré")
    line = " ".join(text.split())
    return line if len(line) <= 400 else line[:399] + "…"


def group_by_capability(results: list[ScenarioResult], anomalies: list[Anomaly]) -> list[Capability]:
    """Scenarios grouped by capability (in order of first appearance), each failure pointing at its anomaly;
    with several majors (`--versions`), one section per major and capability."""
    numbers = {id(failure): anomaly.number for anomaly in anomalies for failure in anomaly.failures}
    groups: dict[str, Capability] = {}
    for result in results:
        name = f"Version {result.major} — {result.capability}" if result.major else result.capability
        groups.setdefault(name, Capability(name)).rows.append(Row(result, numbers.get(id(result))))
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
    """Why the titulaire is not qualified, or qualified with reservations (empty when fully qualified)."""
    reasons = []
    if failures := len(report.failures):
        reasons.append(f"{french.plural(failures, 'scénario')} en échec")
    if violations := len(report.contract_violations):
        reasons.append(f"{french.plural(violations, 'écart')} au contrat d'interface")
    if report.load is not None and report.load.get("verdict") != "conforme":
        reasons.append("essai de charge non conforme à la qualité de service contractuelle")
    if not report.counts()[PASSED]:
        reasons.append("aucun scénario réussi")
    if reserved := len(report.reservations):
        reasons.append(f"{french.plural(reserved, 'contrôle')} sous réserve")
    return reasons


def suite_rows(report: CampaignReport) -> list[dict[str, str]]:
    """Each suite run, what it counts and its parameters (the load's from its verdict, the fuzzer's seed)."""
    rows = []
    for suite in report.suites:
        results = [r for r in report.results if r.suite == suite]
        ran = french.plural(len(results), "contrôle")
        parameters = ""
        if suite == "contrat" and report.fuzz_seed is not None:
            parameters = f"graine du fuzzing {report.fuzz_seed}"
        if suite == "charge" and report.load is not None:
            parameters = load_parameters(report.load)
        rows.append({"name": SUITE_NAMES.get(suite, suite), "ran": ran, "parameters": parameters})
    return rows


def load_parameters(load: dict[str, Any]) -> str:
    """`profil « limite », 2 utilisateurs pendant 10,0 s, 77 dépôts (1,5 Go)`."""
    parameters, sent = load.get("parametres") or {}, load.get("envoi") or {}
    parts = []
    if load.get("profil"):
        parts.append(f"profil « {load['profil']} »")
    if "utilisateurs" in parameters:
        users = french.plural(int(parameters["utilisateurs"]), "utilisateur")
        during = f" pendant {french.duration(float(parameters['dureeS']))}" if "dureeS" in parameters else ""
        parts.append(users + during)
    if "depots" in sent:
        parts.append(f"{french.plural(int(sent['depots']), 'dépôt')} ({french.size(int(sent.get('octets', 0)))})")
    return ", ".join(parts)


def load_view(load: dict[str, Any] | None) -> dict[str, Any] | None:
    """The load verdict as the PV shows it: verdict, parameters, how long it ran, criteria (tolerant of
    missing keys)."""
    if load is None:
        return None
    criteria = [
        {
            "name": str(c.get("nom", "")),
            "expected": french.figures_in(str(c.get("attendu", ""))),
            "measured": french.figures_in(str(c.get("mesure", ""))),
            "passed": bool(c.get("reussi")),
        }
        for c in load.get("criteres") or []
    ]
    verdict = str(load.get("verdict") or "non conforme")
    return {
        "verdict": verdict,
        "conforme": verdict == "conforme",
        "parameters": load_parameters(load),
        "ran": _load_duration(load),
        "criteria": criteria,
        "notes": [str(note) for note in load.get("notes") or []],
    }


def _load_duration(load: dict[str, Any]) -> str | None:
    try:
        started, finished = datetime.fromisoformat(load["debut"]), datetime.fromisoformat(load["fin"])
    except (KeyError, TypeError, ValueError):
        return None
    return french.duration(finished - started)


def exchanges_of(anomaly: Anomaly, journal: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Each deposit the anomaly's failures name (in their message or evidence) → its journal lines, in order."""
    known = list(dict.fromkeys(line["idDepot"] for line in journal if line.get("idDepot")))
    texts = [" ".join([failure.observed or "", *failure.evidence]) for failure in anomaly.failures]
    named = [uid for text in texts for uid in deposits_named(text, known) if uid in text]
    return {uid: [line for line in journal if line.get("idDepot") == uid] for uid in dict.fromkeys(named)}
