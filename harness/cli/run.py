"""`recette run` (the campaign) and `recette billing` (the ledger's summary)."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import click
from rich.console import Console
from rich.table import Table

from harness.campaign.config import CONFIG_VARIABLE, RETURN_CHANNELS, ConfigError, RunConfig, load_config
from harness.campaign.preflight import PreflightError
from harness.campaign.results import EXIT_NOT_RUN
from harness.campaign.runner import SUITES, CampaignError, RunOptions, run_campaign
from harness.foundations.billing import (
    BILLING_SUMMARY_FIELDS,
    LEDGER_NAME,
    BillingTags,
    MotifError,
    read_ledger,
    summarize,
)
from harness.foundations.majors import CONTRACTS
from harness.foundations.service_contract import ServiceContractError, load_service_contract
from harness.reference.faults import FAULTS

console = Console()
REPORT_DIR = click.Path(file_okay=False, path_type=Path)


class CouldNotRun(click.ClickException):
    """The run could not run: one line on stderr, exit code 2 (never a verdict)."""

    exit_code = EXIT_NOT_RUN

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"Recette impossible : {self.format_message()}", file=file or sys.stderr)


@click.command()
@click.option("--motif", default="recette", show_default=True, help="recette, evolution:REF ou build:REF.")
@click.option("--suites", default=",".join(SUITES), show_default=True, help="Suites séparées par des virgules.")
@click.option(
    "--tags", "tags_expression", help="Expression de sélection des scénarios par étiquettes (ex. « not lent »)."
)
@click.option(
    "--scenarios",
    "keywords",
    help="Expression de sélection des scénarios par leur nom (ex. « conservation and not expire ») ; le PV le dit.",
)
@click.option("--report-dir", type=REPORT_DIR, default=Path("reports"), show_default=True)
@click.option(
    "--defaut-reference",
    "faults",
    multiple=True,
    type=click.Choice(sorted(FAULTS)),
    help="Défaut volontaire de la référence embarquée, pour montrer que la campagne le détecte.",
)
@click.option(
    "--canal-retour",
    "return_channel",
    type=click.Choice(RETURN_CHANNELS),
    default="api",
    show_default=True,
    help="Canal du retour des archives de la référence embarquée : l'API de retour, ou une archive de retour "
    "(sortant/<id>.retour.zip) ; pour une plateforme, archives.canal_retour de recette.toml.",
)
@click.option(
    "--service-contract",
    "service_contract",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Contrat de service publié par la plateforme (ses délais bornent les attentes de la campagne).",
)
@click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Date à laquelle la recette est jugée (AAAA-MM-JJ) : horloge de la référence, calendrier des versions.",
)
@click.option(
    "--version",
    "version",
    type=click.Choice(sorted(CONTRACTS)),
    help="Version majeure recettée (par défaut : celle que le calendrier met en service à la date de la recette).",
)
@click.option(
    "--versions",
    "versions",
    help="Certifier une montée de version : la campagne sur chaque majeure (ex. « v1,v2 »), puis leur coexistence.",
)
@click.option("--target", help="URL de la plateforme du titulaire à qualifier (sinon : la référence embarquée).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help="recette.toml")
@click.option(
    "--journal", is_flag=True, help="Le proxy de recette entre le harnais et la plateforme : journal des échanges."
)
def run(
    motif: str,
    suites: str,
    tags_expression: str | None,
    keywords: str | None,
    report_dir: Path,
    faults: tuple[str, ...],
    return_channel: str,
    service_contract: Path | None,
    day: datetime | None,
    version: str | None,
    versions: str | None,
    target: str | None,
    config_file: Path | None,
    journal: bool = False,
) -> None:
    """Lance la campagne de recette.

    \b
    Codes de sortie :
      0  qualifié
      3  qualifié avec réserves (chaque réserve dit ce qu'il faut pour la lever)
      1  non qualifié
      2  recette impossible : configuration, ou contrôles préalables d'une plateforme
         (TLS mutuel, jeton, route de santé, récepteur de retours) ; aucun rapport écrit
    """
    try:
        tags = BillingTags.create(motif)
        chosen = tuple(s.strip() for s in suites.split(",") if s.strip())
        config = _config(target, config_file, faults, return_channel)
        if service_contract is not None:
            load_service_contract(service_contract)
        options = RunOptions(
            report_dir,
            tags,
            chosen,
            tags_expression,
            faults,
            config,
            service_contract=service_contract,
            day=day.date() if day else None,
            version=version,
            versions=tuple(v.strip() for v in (versions or "").split(",") if v.strip()),
            journal=journal,
            keywords=keywords,
            return_channel=return_channel,
        )
        console.print(f"Exécution {tags.run_id} — motif {tags.motif} ({tags.label})")
        report = run_campaign(options)
    except (MotifError, CampaignError, ConfigError, ServiceContractError, PreflightError) as error:
        raise CouldNotRun(str(error)) from error
    sys.exit(report.verdict.exit_code)


def _config(
    target: str | None, config_file: Path | None, faults: tuple[str, ...], return_channel: str
) -> RunConfig | None:
    """The external target's configuration, when one is asked for (file, RECETTE_* variables, --target)."""
    if target is None and config_file is None and not os.environ.get(CONFIG_VARIABLE):
        return None
    if faults:
        raise ConfigError("--defaut-reference ne s'applique qu'à la référence embarquée, pas à --target")
    if return_channel != "api":
        raise ConfigError("--canal-retour ne vaut que pour la référence embarquée ; sinon : archives.canal_retour")
    return load_config(config_file, overrides={"target": target})


@click.command()
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="Premier jour (AAAA-MM-JJ).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Dernier jour (AAAA-MM-JJ).")
@click.option("--format", "output", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--report-dir", type=REPORT_DIR, default=Path("reports"), show_default=True)
def billing(start: object, end: object, output: str, report_dir: Path) -> None:
    """Résume le registre de facturation : dépôts et octets par mois (heure de Paris), motif et facturabilité."""
    ledger = report_dir / LEDGER_NAME
    try:
        rows = summarize(read_ledger(ledger), _day(start), _day(end))
    except FileNotFoundError as error:
        raise click.ClickException(f"registre de facturation introuvable : {ledger}") from error
    except (ValueError, KeyError) as error:
        raise click.ClickException(f"registre de facturation illisible ({ledger}) : {error}") from error
    if not rows:  # one line, on stderr when stdout is for a program (json, csv)
        click.echo(f"Aucune exécution {_period(_day(start), _day(end))} dans {ledger}.", err=output != "table")
        if output == "table":
            return
    if output == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    elif output == "csv":
        click.echo(_csv(rows), nl=False)
    else:
        _print_billing(rows)


def _period(start: date | None, end: date | None) -> str:
    """`du 2027-03-01 au 2027-03-31`, `depuis le …`, `jusqu'au …`, or `enregistrée` when neither is given."""
    if start and end:
        return f"du {start} au {end}"
    if start:
        return f"depuis le {start}"
    return f"jusqu'au {end}" if end else "enregistrée"


def _day(value: object) -> date | None:
    return value.date() if value is not None else None  # type: ignore[attr-defined]


def _csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=BILLING_SUMMARY_FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _print_billing(rows: list[dict]) -> None:
    table = Table(title="Facturation de l'environnement de recette (mois de Paris)")
    for column in ("Mois", "Motif", "Facturable", "Exécutions", "Dépôts", "Octets"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["mois"], row["motif"], row["facturable"], *(str(row[k]) for k in ("executions", "depots", "octets"))
        )
    console.print(table)
