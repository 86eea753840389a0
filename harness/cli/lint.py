"""The `recette lint CONTRACT... [--format …] [--config FILE] [--rules]` command."""

from __future__ import annotations

from pathlib import Path

import click

from harness.lint import ALL_RULES, ConfigError, LintConfig, LoadError, Report, lint_file, read_config
from harness.lint.findings import format_json
from harness.lint.formats import FORMATS

EXIT_OK, EXIT_ERRORS, EXIT_UNREADABLE = 0, 1, 2


@click.command("lint")
@click.argument("contracts", metavar="CONTRACT...", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["json", *FORMATS]),
    default="text",
    show_default=True,
    help="text : une ligne par constat ; json : un objet par contrat ; sarif (2.1.0), github (annotations), "
    "gitlab (Code Quality), markdown (commentaire de merge request), junit : pour la CI.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Règles choisies par l'équipe : section [lint] d'un recette.toml, ou un .recette-lint.yaml.",
)
@click.option("--rules", "list_rules", is_flag=True, help="Liste les règles (source, niveau, état) et sort.")
@click.pass_context
def lint(
    ctx: click.Context, contracts: tuple[Path, ...], output_format: str, config_file: Path | None, list_rules: bool
) -> None:
    """Vérifie des contrats OpenAPI (2.0 ou 3.0.x) et le contrat de service selon les règles de l'ASP.

    Code de sortie : 0 sans erreur, 1 si un contrat a des erreurs, 2 si un fichier est illisible ou n'est pas
    un contrat.
    """
    try:
        config = read_config(config_file, {r.id for r in ALL_RULES}) if config_file else LintConfig()
    except ConfigError as error:
        click.echo(f"erreur : {error}", err=True)
        ctx.exit(EXIT_UNREADABLE)
    if list_rules:
        click.echo(_rules_table(config))
        ctx.exit(EXIT_OK)
    if not contracts:
        raise click.UsageError("donner au moins un CONTRACT (ou --rules)")
    reports: list[Report] = []
    unreadable: list[str] = []
    for path in contracts:
        try:
            reports.append(lint_file(path, config))
        except LoadError as error:
            unreadable.append(str(error))
    if reports:
        if output_format == "json":
            click.echo(format_json(reports, as_list=len(contracts) > 1))
        else:
            click.echo(FORMATS[output_format](reports))
    for message in unreadable:
        click.echo(f"erreur : {message}", err=True)
    ctx.exit(_exit_code(reports, unreadable))


def _rules_table(config: LintConfig) -> str:
    """One line per rule: id, level (doit, devrait), severity as configured, state, source, summary."""
    lines = []
    for rule in ALL_RULES:
        enabled = config.enabled(rule.id, rule.optional)
        state = "active" if enabled else ("facultative, inactive" if rule.optional else "désactivée")
        severity = config.severity(rule.id, rule.severity) if enabled else "-"
        lines.append(f"{rule.id:<30} {rule.level:<11} {severity:<8} {state:<22} {rule.source} — {rule.summary}")
    return "\n".join(lines)


def _exit_code(reports: list[Report], unreadable: list[str]) -> int:
    if unreadable:
        return EXIT_UNREADABLE
    return EXIT_ERRORS if any(report.has_errors for report in reports) else EXIT_OK
