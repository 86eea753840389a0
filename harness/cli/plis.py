"""`recette plis`: the paper mode (mode papier) from the command line.

- `recette plis envoyer --etat etat.json …`: post a pli (generated PDF pages of a fake letter) to the mail room of
  the reference that `recette serve` runs (`POST /_recette/plis`, reference only);
- `recette plis attendre --attendus plis.csv --jusqua DATE --config recette.toml`: against a real platform,
  listen as the ASP (our return receiver, at `callback.url`) until DATE, then match each declared pli to its
  one return; the mapping, the late, missing and unexpected plis are listed. Exit 0 all returned and conforming,
  1 not, 2 a bad input (one line on stderr).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import click
import httpx

from harness.campaign.config import ConfigError, load_config
from harness.campaign.receiver import ReturnReceiver
from harness.campaign.reports.plis import render_paper_annex
from harness.campaign.results import EXIT_NOT_RUN
from harness.conformance.paper import ExpectedPli, PaperVerdict, judge_paper, paper_terms
from harness.foundations.clock import utc_now
from harness.foundations.service_contract import ServiceContractError
from harness.foundations.tls import CertificatePair, client_context
from harness.foundations.tokens import ClientCredentials, ClientCredentialsAuth
from harness.reference.paper.letters import ENCODING, letter_pages, unreadable_page
from harness.reference.paper.posting import CHANNELS, ROUTE, Posting

PARIS = ZoneInfo("Europe/Paris")
"""A deadline without an offset is a time in Paris."""
COLUMNS = ("reference", "dateEnvoi", "dossier", "pieces", "types", "donnees")
"""The declaration file: one line per pli sent, `;`-separated; `types` and `donnees` are `|`-separated lists."""
POLL_SECONDS = 0.5


def fail(message: str) -> NoReturn:
    """A bad input: one French line on stderr, exit code 2."""
    click.echo(f"recette plis : {message}", err=True)
    raise SystemExit(EXIT_NOT_RUN)


@click.group("plis")
def plis() -> None:
    """Mode papier : poster des plis à la référence, attendre ceux d'une plateforme réelle."""


@plis.command("envoyer")
@click.option(
    "--etat",
    "state_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Fichier d'état de `recette serve` (URL, certificats, client OAuth).",
)
@click.option("--dossier", required=True, help="Identifiant du dossier imprimé sur le pli.")
@click.option("--application", default="RECETTE-PAPIER", show_default=True, help="Application de l'ASP destinataire.")
@click.option("--site", default="RECETTE", show_default=True, help="Site de réception (2 à 12 majuscules ou chiffres).")
@click.option("--canal", type=click.Choice(CHANNELS), default="COURRIER", show_default=True)
@click.option("--pages", type=click.IntRange(1, 50), default=1, show_default=True)
@click.option("--donnee", "data", multiple=True, help="Donnée métier imprimée, CLE=VALEUR (répétable).")
@click.option("--illisible", is_flag=True, help="Des pages sans texte lisible (le pli revient REJETE).")
def envoyer(
    state_file: Path,
    dossier: str,
    application: str,
    site: str,
    canal: str,
    pages: int,
    data: tuple[str, ...],
    illisible: bool,
) -> None:
    """Poste un pli au service courrier de la référence (route réservée à la recette)."""
    values = dict(_pair(item) for item in data)
    _printable([dossier, application, *values, *values.values()])
    scans = [unreadable_page()] * pages if illisible else letter_pages(application, dossier, values, pages)
    state = _read_state(state_file)
    try:
        with _client(state) as http:
            response = http.post(ROUTE, json=Posting(site, canal, application, scans).to_json())
    except httpx.HTTPError as error:
        fail(f"la référence ne répond pas ({type(error).__name__} : {error})")
    if response.status_code != 201:
        fail(f"pli refusé ({response.status_code}) : {response.json().get('detail', response.text)}")
    answer = response.json()
    click.echo(f"Pli {answer['idPli']} reçu le {answer['recuLe']} (idDepot {answer['idDepot']}).")


def _pair(item: str) -> tuple[str, str]:
    key, found, value = item.partition("=")
    if not found or not key.strip():
        fail(f"--donnee « {item} » : CLE=VALEUR attendu")
    return key.strip(), value.strip()


def _printable(texts: list[str]) -> None:
    for text in texts:
        try:
            text.encode(ENCODING)
        except UnicodeEncodeError:
            fail(f"« {text} » ne s'imprime pas sur le pli (caractères {ENCODING} seulement)")


def _read_state(path: Path) -> dict[str, Any]:
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as error:
        fail(f"fichier d'état illisible : {path} ({error})")


def _client(state: dict[str, Any]) -> httpx.Client:
    """The recette team's ASP client of the reference that `recette serve` described."""
    tls = state["tls"]
    verify = client_context(Path(tls["ca"]), CertificatePair(Path(tls["client_cert"]), Path(tls["client_key"])))
    client = state["oauth"]["clients"][0]
    credentials = ClientCredentials(
        state["oauth"]["token_url"], client["client_id"], client["client_secret"], tuple(client["scopes"])
    )
    return httpx.Client(
        base_url=state["titulaire"]["url"], verify=verify, auth=ClientCredentialsAuth(credentials, verify)
    )


@plis.command("attendre")
@click.option(
    "--attendus",
    "declared_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Les plis envoyés (CSV `;` : " + ";".join(COLUMNS) + ").",
)
@click.option(
    "--jusqua", "deadline_text", required=True, help="Échéance (AAAA-MM-JJTHH:MM[:SS][±HH:MM], Paris sans décalage)."
)
@click.option(
    "--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help="recette.toml de la plateforme."
)
@click.option(
    "--rapport",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Écrit aussi la correspondance et les constats en JSON.",
)
@click.option(
    "--annexe",
    "annex_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Écrit l'annexe « mode papier » du PV de recette (HTML).",
)
def attendre(
    declared_file: Path, deadline_text: str, config_file: Path | None, report_file: Path | None, annex_file: Path | None
) -> None:
    """Écoute les retours de la plateforme jusqu'à l'échéance et rapproche chaque pli déclaré de son retour."""
    deadline = deadline_of(deadline_text)
    declared = read_declaration(declared_file)
    try:
        config = load_config(config_file)
        terms = paper_terms(config.service_contract)
    except (ConfigError, ServiceContractError, ValueError) as error:
        fail(str(error))
    with (
        tempfile.TemporaryDirectory(prefix="recette-plis-") as directory,
        ReturnReceiver(config, Path(directory)) as receiver,
        receiver.inspector() as inspector,
    ):
        click.echo(f"Récepteur des retours à l'écoute ({config.callback_url}) jusqu'au {deadline.isoformat()}.")
        while utc_now() < deadline:  # real time: the platform returns the plis it received
            time.sleep(min(POLL_SECONDS, max(0.0, (deadline - utc_now()).total_seconds())))
        calls = inspector.received()
    verdict = judge_paper(calls, declared, terms)
    _show(verdict, terms is None)
    if report_file is not None:
        report_file.write_text(json.dumps(report(verdict), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if annex_file is not None:
        annex = render_paper_annex(verdict, declared_file, deadline, terms is None)
        annex_file.write_text(annex, encoding="utf-8")
    raise SystemExit(1 if verdict.defects else 0)


def deadline_of(text: str) -> datetime:
    """`--jusqua`: a date-time (Paris when it has no offset), or a day: the end of that day in Paris."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--jusqua « {text} » : date (AAAA-MM-JJ) ou date et heure ISO 8601 attendues (AAAA-MM-JJTHH:MM)")
    if len(text) == len("AAAA-MM-JJ"):
        moment += timedelta(days=1)
    return moment if moment.tzinfo else moment.replace(tzinfo=PARIS)


def read_declaration(path: Path) -> list[ExpectedPli]:
    """The plis the recette team declares sent; a bad line is a one-line error naming it."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter=";"))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        fail(f"déclaration illisible : {path} ({error})")
    plis = []
    for number, row in enumerate(rows, start=2):
        if not row.get("reference") or not row.get("dossier"):
            fail(f"{path}, ligne {number} : « reference » et « dossier » sont obligatoires ({';'.join(COLUMNS)})")
        pieces = row.get("pieces") or ""
        if pieces and not pieces.isdigit():
            fail(f"{path}, ligne {number} : « pieces » doit être un nombre, pas « {pieces} »")
        data = dict(_pair(item) for item in (row.get("donnees") or "").split("|") if item)
        types = tuple(t.strip() for t in (row.get("types") or "").split("|") if t.strip())
        count = int(pieces) if pieces else None
        expected = ExpectedPli(row["reference"], dossier=row["dossier"], pieces=count, types=types, data=data)
        plis.append(dataclasses.replace(expected, sent_on=_day(row.get("dateEnvoi") or "", path, number)))
    return plis


def _day(text: str, path: Path, number: int) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        fail(f"{path}, ligne {number} : « dateEnvoi » doit être une date AAAA-MM-JJ, pas « {text} »")


def _show(verdict: PaperVerdict, unjudged_terms: bool) -> None:
    click.echo("Correspondance des plis déclarés :")
    for expected, id_pli in verdict.mapping:
        click.echo(f"  {expected.reference} (dossier {expected.dossier}) → {id_pli or 'MANQUANT'}")
    click.echo("Plis manquants : " + (", ".join(e.reference for e in verdict.missing) or "aucun"))
    click.echo("Plis inattendus : " + (", ".join(verdict.unexpected) or "aucun"))
    click.echo("Plis en retard : " + (", ".join(verdict.late) or "aucun"))
    for defect in verdict.defects:
        click.echo(f"  ✗ {defect}")
    if unjudged_terms:
        click.echo("Réserve : le contrat de service n'a pas de section modePapier (motif de l'idPli, délai non jugés).")
    click.echo(f"Verdict : {'NON CONFORME' if verdict.defects else 'CONFORME'}")


def report(verdict: PaperVerdict) -> dict[str, Any]:
    """The mapping and the findings, as `--rapport` writes them."""
    return {
        "correspondance": [{"reference": e.reference, "dossier": e.dossier, "idPli": p} for e, p in verdict.mapping],
        "manquants": [e.reference for e in verdict.missing],
        "inattendus": verdict.unexpected,
        "enRetard": verdict.late,
        "constats": [{"regle": d.rule, "detail": d.detail} for d in verdict.defects],
    }
