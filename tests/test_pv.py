"""The procès-verbal de recette: its content, its escaping, no external asset, and a look in a real browser."""

from __future__ import annotations

import html
import os
import re
import shutil
import struct
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from harness.campaign.events import RunFinished
from harness.campaign.reports import Destination, french, report_handlers
from harness.campaign.reports.pv import PV_NAME, render_pv, write_pv
from harness.campaign.results import FAILED, PASSED, RESERVED, SKIPPED, CampaignReport, ScenarioResult
from harness.campaign.runner import RunOptions, run_campaign
from harness.foundations.billing import BillingTags
from tests.helpers import TESTS_DAY
from tests.test_reproductions import FAULTS, SCENARIOS, external_platform, external_run

STARTED = datetime(2025, 11, 28, 13, 9, 12, tzinfo=UTC)
CAPABILITY = "Dépôt de pièces par API"
FAILED_STEP = "Alors le retour reçu par l'ASP porte l'empreinte SHA-256 de la pièce"
EVIDENCE = "empreinte attendue 9f2c…, reçue <script>alert('pv')</script>"
CURL = (
    "curl -sS -X POST --cacert /tmp/ca.pem -H 'X-Recette-Run: 20251128T130912Z-abc123' "
    '-H "Authorization: Bearer $TOKEN" --data-binary \'{"a": "<b>&</b>"}\' https://127.0.0.1:8443/v1/depots'
)
SKIP_REASON = "scénario réservé à l'implémentation de référence (il en pilote l'horloge)"
LOAD = {
    "verdict": "non conforme",
    "profil": "limite-20-mo",
    "criteres": [
        {
            "nom": "Latence p95 de deposerPieces",
            "attendu": "≤ 2000 ms",
            "mesure": "2710 ms (40 requêtes)",
            "reussi": False,
        },
        {"nom": "Taux d'erreur", "attendu": "≤ 1 %", "mesure": "0.00 % (0/40)", "reussi": True},
    ],
}


RESERVATION = ScenarioResult(
    "securite",
    "Sécurité des échanges",
    "Un jeton forgé est refusé",
    RESERVED,
    skip_reason="la clé de l'émetteur de test n'est pas fournie",
    lift="fournir une clé de signature de l'émetteur de recette (oauth.test_key)",
)


def scenario(name: str, outcome: str = PASSED, capability: str = CAPABILITY, **fields: object) -> ScenarioResult:
    return ScenarioResult("bdd", capability, name, outcome, duration_seconds=1.25, **fields)  # type: ignore[arg-type]


def qualified_report() -> CampaignReport:
    return CampaignReport(
        tags=BillingTags.create("recette", run_id="20251128T130912Z-abc123"),
        target="https://127.0.0.1:8443",
        contract_version="1.2.0",
        started=STARTED,
        finished=STARTED + timedelta(minutes=2, seconds=5),
        suites=["bdd"],
        results=[
            scenario("Un dépôt valide est accepté avec un idDepot unique"),
            scenario("Un retour unique parvient à l'ASP", capability="Retour des résultats"),
        ],
        deposits_sent=3,
        bytes_sent=20_000_000,
    )


def failed_report() -> CampaignReport:
    report = qualified_report()
    report.tags = BillingTags.create("evolution:EVO-42", run_id="20251128T140000Z-def456")
    report.results += [
        scenario("L'empreinte de la pièce est conservée", FAILED, failed_step=FAILED_STEP, evidence=[EVIDENCE]),
        scenario("La purge après trois mois", SKIPPED, capability="Conservation", skip_reason=SKIP_REASON),
    ]
    report.results[-2].reproduction = CURL
    report.contract_violations = ["POST /v1/depots → 202 : propriété « idDepot » absente"]
    report.load = LOAD
    return report


def text_of(html: str) -> str:
    """The visible text, roughly: tags removed, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_qualified_campaign_shows_its_identification_verdict_and_results() -> None:
    html = render_pv(qualified_report(), generated=STARTED)
    text = text_of(html)
    assert "QUALIFIÉ" in text
    assert "NON QUALIFIÉ" not in text
    for shown in ("https://127.0.0.1:8443", "1.2.0", "20251128T130912Z-abc123", "28 novembre 2025 à 13:09:12 UTC"):
        assert shown in text
    assert "2 min 05 s" in text
    assert "environnement de recette" in text
    assert "Un dépôt valide est accepté avec un idDepot unique" in text
    assert "Retour des résultats" in text
    assert "Aucune anomalie" in text
    assert "Aucun essai de charge" in text
    assert "20\u202f000\u202f000 octets" in html


def test_a_failed_campaign_shows_the_step_the_evidence_and_the_curl_that_reproduces_it() -> None:
    html = render_pv(failed_report())
    text = text_of(html)
    assert "NON QUALIFIÉ" in text
    assert "Motifs : 1 scénario en échec ; 1 écart au contrat d'interface" in text.replace("&#39;", "'")
    assert "essai de charge non conforme" in text
    assert FAILED_STEP.replace("'", "&#39;") in html
    assert 'id="anomalie-1"' in html
    assert 'href="#anomalie-1"' in html
    reproduction = re.search(r'<pre class="reproduction">(.*?)</pre>', html, re.S)
    assert reproduction is not None
    assert reproduction.group(1) == CURL.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace(
        '"', "&#34;"
    ).replace("'", "&#39;")
    assert "propriété « idDepot » absente" in text


def test_the_billing_label_of_a_non_billable_run_names_its_motif() -> None:
    text = text_of(render_pv(failed_report()))
    assert "non facturable — evolution:EVO-42" in text


def test_skipped_scenarios_carry_their_reason_under_their_capability() -> None:
    html = render_pv(failed_report())
    conservation = html.index("Conservation")
    assert html.index("La purge après trois mois") > conservation
    assert SKIP_REASON.replace("'", "&#39;") in html
    assert "Ignoré" in text_of(html)


def test_load_figures_are_shown_as_a_criteria_table() -> None:
    html = render_pv(failed_report())
    text = text_of(html)
    assert "Aucun essai de charge" not in text
    assert "limite-20-mo" in text
    for shown in ("Latence p95 de deposerPieces", "≤ 2\u202f000 ms", "2\u202f710 ms (40 requêtes)", "0,00 % (0/40)"):
        assert shown in html
    assert "Non conforme" in text
    assert "0.00" not in text


def test_the_signature_block_has_both_parties_and_empty_lines_to_sign() -> None:
    html = render_pv(qualified_report())
    signatures = html[html.index('id="signatures"') :]
    text = text_of(signatures)
    assert "Pour l'ASP — responsable de la recette" in text.replace("&#39;", "'")
    assert "Pour le titulaire" in text
    assert text.count("Nom, prénom :") == 2
    assert text.count("Date :") == 2
    assert text.count("Signature :") == 2
    assert signatures.count('<div class="signature"></div>') == 2


def test_evidence_is_escaped_so_a_script_in_it_is_inert() -> None:
    html = render_pv(failed_report())
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#39;pv&#39;)&lt;/script&gt;" in html


def test_the_page_is_self_contained() -> None:
    html = render_pv(failed_report())
    assert "<link" not in html
    assert "<script" not in html
    assert "<img" not in html
    links = re.findall(r"""\s(?:src|href|srcset|action)\s*=\s*["']?([^"'\s>]*)""", html)
    assert links
    assert all(link.startswith("#") for link in links)
    style = html[html.index("<style>") : html.index("</style>")]
    assert "http://" not in style
    assert "https://" not in style
    assert "@import" not in style
    assert "url(" not in style
    assert "<style>" in html
    assert "@media print" in html
    assert "size: A4" in html


def test_the_reports_write_the_pv_next_to_the_other_reports(tmp_path: Path) -> None:
    report = qualified_report()
    for handler in report_handlers(Destination(tmp_path, report.tags.run_id)):
        handler.handle(RunFinished(report))
    pv = tmp_path / report.tags.run_id / PV_NAME
    assert "Procès-verbal de recette" in pv.read_text(encoding="utf-8")
    assert (tmp_path / report.tags.run_id / "summary.json").exists()


def test_an_unfinished_campaign_and_short_durations_read_in_french() -> None:
    report = qualified_report()
    report.finished = None
    assert "campagne non terminée" in render_pv(report)
    assert french.duration(timedelta(seconds=4.21)) == "4,2 s"
    assert french.duration(timedelta(hours=1, minutes=2, seconds=5)) == "1 h 02 min 05 s"


def identified_report() -> CampaignReport:
    report = qualified_report()
    report.titulaire, report.platform_name = "Numérisation Exemple SAS", "NumEx — instance de recette"
    report.environment_label, report.platform_version = "environnement de recette", "1.0.1"
    report.fuzz_seed, report.evidence_digest = 421337, "ab" * 32
    report.suites = ["bdd", "contrat", "charge"]
    report.load = LOAD | {
        "parametres": {"utilisateurs": 2, "dureeS": 10.0},
        "envoi": {"depots": 77, "octets": 1_519_904_305},
        "debut": "2025-11-28T13:10:00+00:00",
        "fin": "2025-11-28T13:10:11.000+00:00",
    }
    return report


def test_the_pv_identifies_the_titulaire_the_platform_its_version_the_seed_and_the_evidence() -> None:
    text = text_of(render_pv(identified_report()))
    for shown in (
        "Titulaire Numérisation Exemple SAS",
        "Plateforme qualifiée NumEx — instance de recette",
        "Environnement environnement de recette",
        "Version annoncée par la plateforme (santé du service) 1.0.1",
        "Graine du fuzzing 421337",
        "Empreinte des preuves (SHA-256) " + "ab" * 32,
    ):
        assert shown in text.replace("&#39;", "'"), shown


def test_the_pv_of_the_embedded_reference_says_so_and_a_missing_identity_is_named_by_its_setting() -> None:
    report = qualified_report()
    assert "non renseigné (target.titulaire)" in text_of(render_pv(report))
    report.environment_label = "référence embarquée"
    assert "Environnement référence embarquée" in text_of(render_pv(report))


def test_the_suites_are_listed_with_their_parameters_the_load_s_users_duration_deposits_and_bytes() -> None:
    html = render_pv(identified_report())
    suites = text_of(html[html.index('id="suites"') : html.index("</table>", html.index('id="suites"'))])
    assert "graine du fuzzing 421337" in suites
    assert "profil « limite-20-mo », 2 utilisateurs pendant 10,0 s, 77 dépôts (1,5 Go)" in suites
    load = text_of(html[html.index('id="charge"') :])
    assert "Durée de l'essai 11,0 s" in load.replace("&#39;", "'")
    assert not re.search(r"(?<![\d,])0,0 s", load)  # the load test's duration is its own, not its pytest test's


def test_figures_are_french_throughout() -> None:
    assert french.number(1234.5, 1) == "1\u202f234,5"
    assert french.seconds(0.096) == "0,096 s"
    assert french.seconds(1234.5) == "1\u202f234,5 s"
    assert french.size(20_000_000) == "20,0 Mo"
    assert french.size(789) == "789 octets"
    assert french.figures_in("0.028 s (75 retours, 0 manquant)") == "0,028 s (75 retours, 0 manquant)"
    assert french.figures_in("v 1.0.1 le 2026-12-15 à 13:09:12") == "v 1.0.1 le 2026-12-15 à 13:09:12"
    assert french.plural(1, "dépôt") == "1 dépôt"
    assert french.plural(3, "dépôt") == "3 dépôts"
    text = text_of(render_pv(identified_report()))
    assert "20,0 Mo" in text
    assert not re.search(r"\d\.\d+ (?:s|ms|%|Mo)", text)


def retour_unique_failure(scenario_name: str, step: str, id_depot: str) -> ScenarioResult:
    observed = f"{id_depot} : retour-unique : 2 retour(s) différent(s) (r1, r2), 1 acquitté(s)"
    return scenario(
        scenario_name,
        FAILED,
        failed_step=step,
        evidence=["retours reçus : idRetour r1 → 202 ; idRetour r2 → 409", observed],
        observed=observed,
        reproduction_script=f"reproductions/00{len(id_depot)}-x.sh",
    )


def test_one_defect_seen_by_several_scenarios_is_one_anomaly_with_one_french_sentence() -> None:
    report = qualified_report()
    report.results += [
        retour_unique_failure(
            "Un dépôt initial est reçu", "Et l'ASP reçoit exactement un retour fidèle au dépôt", "d1"
        ),
        retour_unique_failure(
            "Un dépôt complémentaire", "Et l'ASP reçoit exactement un retour pour chaque dépôt", "d2"
        ),
        scenario(
            "Un dépôt inconnu",
            FAILED,
            failed_step="Alors le titulaire répond 404",
            observed="statut 400 au lieu de 404",
        ),
    ]
    html = render_pv(report)
    text = text_of(html).replace("&#39;", "'")
    assert html.count('class="anomalie"') == 2
    assert text.count("Anomalie n° 1") == 1
    assert (
        "Règle « retour-unique » non respectée dans « Un dépôt initial est reçu » et 1 autre scénario — attendu : "
        "l'ASP reçoit exactement un retour fidèle au dépôt ; constaté : d1 : retour-unique : 2 retour(s) différent(s)"
    ) in text
    assert (
        "Règle « Dépôt de pièces par API » non respectée dans « Un dépôt inconnu » — attendu : le titulaire "
        "répond 404 ; constaté : statut 400 au lieu de 404." in text
    )
    sentence = text.index("Règle « retour-unique »")
    assert sentence < text.index("retours reçus : idRetour r1", sentence)  # the sentence before its evidence
    assert html.count('href="#anomalie-1"') == 2
    assert html.count('href="#anomalie-2"') == 1


def test_reservations_are_listed_with_their_reason_and_what_lifts_them_and_the_verdict_says_so() -> None:
    report = qualified_report()
    report.results.append(RESERVATION)
    html = render_pv(report)
    text = text_of(html).replace("&#39;", "'")
    assert 'class="verdict reserves"' in html
    assert "QUALIFIÉ AVEC RÉSERVES" in text
    reserves = text[text.index("4. Réserves") :]
    assert "Réserve n° 1 — Un jeton forgé est refusé" in reserves
    assert "Motif la clé de l'émetteur de test n'est pas fournie" in reserves
    assert "Pour la lever fournir une clé de signature de l'émetteur de recette (oauth.test_key)" in reserves
    assert "Aucune réserve" in text_of(render_pv(qualified_report()))


# -- in a real browser -------------------------------------------------------------------------------


def chromium_or_fail() -> str:
    """Debian's chromium; under CI a missing browser fails the test (`make test` installs it)."""
    path = shutil.which("chromium")
    if path:
        return path
    message = "chromium absent : `make test` l'installe (apt-get install chromium, en root)"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " — requis sous CI", pytrace=False)
    pytest.skip(message)


def run_chromium(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.slow
def test_the_pv_renders_in_a_real_headless_browser(tmp_path: Path) -> None:
    chromium = chromium_or_fail()
    report = failed_report()
    destination = Destination(tmp_path, report.tags.run_id)
    destination.run_dir.mkdir()
    pv = write_pv(report, destination)
    url = pv.resolve().as_uri()

    dom = run_chromium(chromium, tmp_path / "profil-dom", "--dump-dom", url).stdout
    text = text_of(dom)
    assert "NON QUALIFIÉ" in text
    assert "Anomalie n° 1" in text
    assert "Étape en échec" in text
    assert "<script" not in dom

    screenshot = tmp_path / "pv.png"
    run_chromium(chromium, tmp_path / "profil-capture", f"--screenshot={screenshot}", "--window-size=1280,2000", url)
    assert png_size(screenshot) == (1280, 2000)
    assert screenshot.stat().st_size > 30_000


def test_the_pv_states_the_judged_date_only_when_it_is_not_the_run_s_day() -> None:
    report = qualified_report()
    report.major = "v2"
    assert "est jugée" not in text_of(render_pv(report))
    report.judged_on = date(2027, 10, 1)
    text = text_of(render_pv(report))
    assert "Date à laquelle la recette est jugée 1 octobre 2027" in text
    assert "Version majeure recettée v2" in text


def test_the_pv_says_whether_the_campaign_ran_every_scenario_of_its_suites() -> None:
    report = qualified_report()
    assert "Sélection des scénarios tous les scénarios des suites exécutées" in text_of(render_pv(report))
    report.selection = "étiquettes « not lent »"
    text = html.unescape(text_of(render_pv(report)))
    assert "Sélection des scénarios étiquettes « not lent » : campagne partielle" in text


A4_POINTS = (595, 842)
"""An A4 page in PDF points (210 by 297 mm), rounded."""
PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
PDF_MEDIA_BOX = re.compile(rb"/MediaBox\s*\[\s*0 0 ([0-9.]+) ([0-9.]+)\s*\]")


@pytest.fixture(scope="module", params=["embarquée", "externe"], ids=["embarquee", "externe"])
def campaign_pv(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The PV of one real campaign (each run once per module): on the embedded reference with a second return
    armed, or on the reference started on its own as an external platform, with a wrong status armed."""
    folder = tmp_path_factory.mktemp("campagne")
    if request.param == "embarquée":
        tags = BillingTags.create("build:tests-pv")
        options = RunOptions(folder, tags, suites=("bdd",), reference_faults=FAULTS, keywords=SCENARIOS, day=TESTS_DAY)
        run_dir = folder / run_campaign(options).tags.run_id
    else:
        with external_platform(folder, ("depot-inconnu-en-400",)) as (_, config):
            _, run_dir = external_run(folder / "rapports", config)
    return request.param, run_dir / PV_NAME


def pdf_pages(pdf: bytes) -> list[tuple[float, float]]:
    """The size of each page of a PDF as Chromium writes it (page objects uncompressed), in points."""
    assert pdf.startswith(b"%PDF-"), "not a PDF"
    sizes = [(float(width), float(height)) for width, height in PDF_MEDIA_BOX.findall(pdf)]
    assert len(PDF_PAGE.findall(pdf)) == len(sizes), "one media box per page"
    return sizes


@pytest.mark.slow
def test_the_pv_of_an_embedded_and_of_an_external_run_screenshot_and_print_to_a4_pdf(
    campaign_pv: tuple[str, Path], tmp_path: Path
) -> None:
    chromium = chromium_or_fail()
    kind, pv = campaign_pv
    text = text_of(pv.read_text(encoding="utf-8"))
    assert "NON QUALIFIÉ" in text
    assert "Anomalie n° 1" in text
    environment = "référence embarquée" if kind == "embarquée" else "environnement de recette"
    assert f"Environnement {environment}" in text
    url = pv.resolve().as_uri()

    screenshot = tmp_path / "pv.png"
    run_chromium(chromium, tmp_path / "profil-capture", f"--screenshot={screenshot}", "--window-size=1280,2000", url)
    assert png_size(screenshot) == (1280, 2000)

    printed = tmp_path / "pv.pdf"
    run_chromium(chromium, tmp_path / "profil-pdf", f"--print-to-pdf={printed}", "--no-pdf-header-footer", url)
    pages = pdf_pages(printed.read_bytes())
    print(f"PV {kind} : {len(pages)} pages A4, {printed.stat().st_size} octets en PDF")
    assert len(pages) >= 6, "each section (identification … signatures) starts a page of its own"
    assert all((round(width), round(height)) == A4_POINTS for width, height in pages)
