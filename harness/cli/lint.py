"""The `recette lint CONTRACT... [--format text|json]` command."""

from __future__ import annotations

from pathlib import Path

import click

from harness.lint import LoadError, Report, lint_file
from harness.lint.findings import format_json, format_text

EXIT_OK, EXIT_ERRORS, EXIT_UNREADABLE = 0, 1, 2


@click.command("lint")
@click.argument("contracts", metavar="CONTRACT...", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Une ligne par constat (text) ou un objet JSON par contrat (json).",
)
@click.pass_context
def lint(ctx: click.Context, contracts: tuple[Path, ...], output_format: str) -> None:
    """Vérifie des contrats OpenAPI (2.0 ou 3.0.x) et le contrat de service selon les règles de l'ASP.

    Code de sortie : 0 sans erreur, 1 si un contrat a des erreurs, 2 si un fichier est illisible ou n'est pas
    un contrat.
    """
    reports: list[Report] = []
    unreadable: list[str] = []
    for path in contracts:
        try:
            reports.append(lint_file(path))
        except LoadError as error:
            unreadable.append(str(error))
    if reports:
        text = format_json(reports, as_list=len(contracts) > 1) if output_format == "json" else format_text(reports)
        click.echo(text)
    for message in unreadable:
        click.echo(f"erreur : {message}", err=True)
    ctx.exit(_exit_code(reports, unreadable))


def _exit_code(reports: list[Report], unreadable: list[str]) -> int:
    if unreadable:
        return EXIT_UNREADABLE
    return EXIT_ERRORS if any(report.has_errors for report in reports) else EXIT_OK
