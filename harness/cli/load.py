"""`recette load`: a load profile on the embedded environment, a running one or a real platform, judged by the QoS.

A real platform (`--config`, `--target`) gets the run's return receiver for the time of the load; a run on the
reference (embedded, or `--state-file` of `recette serve`) is not billable.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from harness.campaign.asp_side import AspSideError
from harness.campaign.config import ConfigError, load_config
from harness.campaign.load import configured_target, embedded_target
from harness.foundations.billing import BillingTags, MotifError
from harness.foundations.contracts import SERVICE_CONTRACT, contract_path
from harness.foundations.service_contract import ServiceContractError
from harness.foundations.tokens import TokenRequestError
from harness.load.charge import LoadRequest, LoadTarget, failure_lines, record_billing, run_load
from harness.load.profiles import PROFILES
from harness.load.qos import CONFORME
from harness.load.runner import LoadRunError
from harness.load.settings import DEFAULT_MOTIF
from mocks.asp import JOURNAL_FILE

console = Console()
DURATION = re.compile(r"^(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+(?:\.\d+)?)s?)?$")
MIN_LIMIT_BYTES = 4096
REPORT_DIR = click.Path(file_okay=False, path_type=Path)


class LoadError(click.ClickException):
    """A one-line error of `recette load` (exit code 2: the run could not be judged)."""

    exit_code = 2


def parse_duration(text: str) -> float:
    """Seconds in `30s`, `2m`, `1h30m`, `1m30s` or `45`; a `LoadError` otherwise.

    Not locust's `locust.util.timespan.parse_timespan`: importing any `locust` module runs the package's
    `__init__`, which monkey-patches the harness process with gevent (locust only ever runs as a subprocess).
    """
    match = DURATION.match(text.strip())
    if not text.strip() or match is None:
        raise LoadError(f"durée illisible « {text} » : attendu par exemple 30s, 2m, 1m30s")
    seconds = int(match["h"] or 0) * 3600 + int(match["m"] or 0) * 60 + float(match["s"] or 0)
    if seconds <= 0:
        raise LoadError(f"durée nulle « {text} » : une durée positive est attendue")
    return seconds


@click.command()
@click.option("--target", metavar="URL", help="API du titulaire à charger (au lieu de l'environnement embarqué).")
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), help="Configuration d'exécution.")
@click.option(
    "--state-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Environnement déjà démarré (fichier d'état de `recette serve --state-file`).",
)
@click.option("--profile", default="limite", show_default=True, help="limite | mixte | horslimite | rampe")
@click.option("--users", default=4, show_default=True, help="Utilisateurs simultanés (plafond pour « rampe »).")
@click.option("--duration", default="30s", show_default=True, help="Durée de la charge (30s, 2m, 1m30s…).")
@click.option("--workers", default=0, show_default=True, help="Processus travailleurs locust locaux (0 : un seul).")
@click.option("--max-requests", default=1000, show_default=True, help="Plafond de requêtes de toute la charge.")
@click.option("--report-dir", type=REPORT_DIR, default=Path("reports"), show_default=True)
@click.option("--limit-bytes", type=int, help="Limite de transaction (défaut : celle du contrat de service).")
@click.option(
    "--service-contract",
    type=click.Path(dir_okay=False, path_type=Path),
    default=contract_path(SERVICE_CONTRACT),
    help="Contrat de service dont la qualité de service juge la charge.",
)
def load(
    target: str | None,
    config: Path | None,
    state_file: Path | None,
    profile: str,
    users: int,
    duration: str,
    workers: int,
    max_requests: int,
    report_dir: Path,
    limit_bytes: int | None,
    service_contract: Path,
) -> None:
    """Charge l'API du titulaire (locust) et juge les mesures au regard du contrat de service."""
    request = _request(profile, users, duration, workers, max_requests, report_dir, limit_bytes, service_contract)
    if target is None and config is None:
        request = replace(request, tags=request.tags.on_embedded_reference())
    with _target(target, config, state_file, request) as where:
        tags = request.tags
        console.print(f"Charge « {request.profile.name} » ({request.profile.description})")
        console.print(f"Exécution {tags.run_id} — motif {tags.motif} ({tags.label})")
        with console.status("Charge en cours…"):
            try:
                report = run_load(request, where)
            except LoadRunError as error:
                raise LoadError(str(error)) from error
    record_billing(request, report)
    print_report(report, request.charge_dir)
    sys.exit(0 if report["verdict"] == CONFORME else 1)


def _request(
    profile: str,
    users: int,
    duration: str,
    workers: int,
    max_requests: int,
    report_dir: Path,
    limit_bytes: int | None,
    service_contract: Path,
) -> LoadRequest:
    """Check every option (one-line errors) and make the request."""
    if profile not in PROFILES:
        raise LoadError(f"profil inconnu « {profile} » : {', '.join(PROFILES)}")
    for name, value, least in (("--users", users, 1), ("--workers", workers, 0), ("--max-requests", max_requests, 1)):
        if value < least:
            raise LoadError(f"{name} doit valoir au moins {least} (reçu {value})")
    if limit_bytes is not None and limit_bytes < MIN_LIMIT_BYTES:
        raise LoadError(f"--limit-bytes doit valoir au moins {MIN_LIMIT_BYTES} (reçu {limit_bytes})")
    try:
        tags = BillingTags.create(_env("RECETTE_MOTIF") or DEFAULT_MOTIF, _env("RECETTE_RUN_ID"))
    except MotifError as error:
        raise LoadError(f"RECETTE_MOTIF : {error}") from error
    request = LoadRequest(
        PROFILES[profile],
        tags=tags,
        users=users,
        duration_seconds=parse_duration(duration),
        workers=workers,
        max_requests=max_requests,
        report_dir=report_dir,
        service_contract=service_contract,
        limit_bytes=limit_bytes,
    )
    try:
        request.effective_limit()
    except ServiceContractError as error:
        raise LoadError(f"contrat de service refusé : {error}") from error
    return request


def _target(
    target: str | None, config: Path | None, state_file: Path | None, request: LoadRequest
) -> AbstractContextManager[LoadTarget]:
    if (target is not None or config is not None) and state_file is not None:
        raise LoadError("--state-file ou --target/--config : l'un ou l'autre, pas les deux")
    if target is not None or config is not None:
        return _configured(target, config, request.run_dir / "asp" / JOURNAL_FILE)
    if state_file is not None:
        if not state_file.is_file():
            raise LoadError(f"fichier d'état introuvable : {state_file}")
        return nullcontext(LoadTarget(state_file))
    return _embedded(request)


@contextmanager
def _configured(target: str | None, config_file: Path | None, journal: Path) -> Iterator[LoadTarget]:
    """A real platform, from the run configuration (TOML, then RECETTE_* variables, then --target); the journal
    of its returns kept with the load's reports."""
    with ExitStack() as stack:
        try:
            config = load_config(config_file, overrides={"target": target})
            found = stack.enter_context(configured_target(config, journal))
        except (ConfigError, TokenRequestError) as error:
            raise LoadError(str(error)) from error
        except (OSError, RuntimeError, AspSideError) as error:
            raise LoadError(f"le récepteur de retours n'a pas démarré ({config.callback_url}) : {error}") from error
        yield found


@contextmanager
def _embedded(request: LoadRequest) -> Iterator[LoadTarget]:
    with ExitStack() as stack:
        try:
            target = stack.enter_context(embedded_target(request.effective_limit()))
        except (OSError, RuntimeError) as error:
            raise LoadError(f"l'environnement n'a pas démarré : {error}") from error
        yield target


def _env(name: str) -> str | None:
    return os.environ.get(name) or None


def print_report(report: dict[str, Any], charge_dir: Path) -> None:
    """The verdict table, the figures per operation, the ramp's finding and where the reports are."""
    table = Table(title=f"Qualité de service — charge « {report['profil']} » ({report['idExecution']})")
    for column in ("Critère", "Attendu", "Mesuré", "Verdict"):
        table.add_column(column, overflow="fold")
    for c in report["criteres"]:
        table.add_row(c["nom"], c["attendu"], c["mesure"], "[green]réussi[/]" if c["reussi"] else "[red]échoué[/]")
    console.print(table)
    console.print(_operations_table(report["operations"]))
    if "rampe" in report:
        console.print(report["rampe"]["conclusion"])
    for line in failure_lines(report):
        console.print(f"[red]Échec :[/] {line}", soft_wrap=True)
    for note in report["notes"]:
        console.print(f"[yellow]Note :[/] {note}")
    colour = "green" if report["verdict"] == CONFORME else "red"
    console.print(f"Verdict : [{colour}]{report['verdict'].upper()}[/] — rapports dans {charge_dir}")


def _operations_table(operations: list[dict[str, Any]]) -> Table:
    table = Table(title="Mesures par opération (locust)")
    for column in ("Type", "Opération", "Requêtes", "Échecs", "p50 (ms)", "p95 (ms)", "max (ms)"):
        text = column in ("Type", "Opération")
        table.add_column(column, justify="left" if text else "right", overflow="fold", no_wrap=not text)
    for o in operations:
        cells = (o["requetes"], o["echecs"], f"{o['p50Ms']:.0f}", f"{o['p95Ms']:.0f}", f"{o['maxMs']:.0f}")
        table.add_row(o["methode"], o["nom"], *map(str, cells))
    return table
