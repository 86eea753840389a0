"""`recette gate BASE REVISION`: refuse a contract change that breaks the ASP's version rules.

Exit codes: 0 the change is acceptable, 1 it breaks a rule, 2 an input could not be read.
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path
from typing import NoReturn
from zoneinfo import ZoneInfo

import click

from harness.foundations.calendar import PolicyError, load_calendar
from harness.foundations.contracts import contract_path
from harness.foundations.document import LoadError, RefError, read_openapi
from harness.foundations.document.nodes import uri_path
from harness.gate.changes import Change
from harness.gate.diff import diff_contracts
from harness.gate.model import Api, build_api
from harness.gate.policy import check_calendar, check_versions, load_policy, required_bump
from harness.gate.report import RENDERERS, GateResult

DEFAULT_VERSIONS = "titulaire/versions.yaml"
DEFAULT_POLICY = "version-policy.yaml"
PARIS = ZoneInfo("Europe/Paris")
"""The ASP's calendar dates are French dates: without --today, the gate judges on today in Paris."""


def load_api(path: Path) -> Api:
    """A contract file in the diff's common shape; a malformed structure is a `LoadError`."""
    document = read_openapi(path)
    try:
        return build_api(document)
    except (AttributeError, TypeError, ValueError, KeyError, IndexError) as error:
        raise LoadError(f"structure de contrat inattendue dans {path} ({type(error).__name__} : {error})") from error


def compare(base: Path, revision: Path) -> tuple[Api, Api, list[Change]]:
    """Both contracts and the changes between them."""
    old, new = load_api(base), load_api(revision)
    return old, new, diff_contracts(old, new)


def evaluate(
    base: Path, revision: Path, versions: Path | None = None, policy: Path | None = None, today: date | None = None
) -> GateResult:
    """Diff the contracts and apply the semver rules, then the calendar (as of `today`) when both files are given."""
    old, new, changes = compare(base, revision)
    required = required_bump(changes)
    declared, violations = check_versions(old.version, new.version, required)
    if versions is not None and policy is not None:
        calendar, rules = load_calendar(versions), load_policy(policy)
        violations += check_calendar(calendar, rules, new.version, declared, today or datetime.now(PARIS).date())
    return GateResult(changes, required, declared, violations, (old.version, new.version))


@click.command("gate")
@click.argument("base", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("revision", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--versions",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Calendrier des versions publiées [défaut : contracts/titulaire/versions.yaml].",
)
@click.option(
    "--policy",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Politique de versions de l'ASP [défaut : contracts/version-policy.yaml].",
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="AAAA-MM-JJ",
    help="Date du jour pour le calendrier [défaut : aujourd'hui].",
)
@click.option(
    "--format",
    "output",
    type=click.Choice(sorted(RENDERERS)),
    default="text",
    show_default=True,
    help="Format de sortie.",
)
def gate(
    base: Path, revision: Path, versions: Path | None, policy: Path | None, today: datetime | None, output: str
) -> None:
    """Compare deux versions d'un contrat OpenAPI (2.0 ou 3.0.x) et vérifie la politique de versions.

    Code de sortie : 0 accepté, 1 règle enfreinte, 2 entrée illisible.
    """
    try:
        versions = versions or contract_path(DEFAULT_VERSIONS)
        policy = policy or contract_path(DEFAULT_POLICY)
        result = evaluate(base, revision, versions, policy, today.date() if today else None)
    except RefError as error:
        _unreadable(f"contrat illisible : {uri_path(error.referrer)} : {error}")
    except LoadError as error:
        _unreadable(f"contrat illisible : {error}")
    except (PolicyError, FileNotFoundError) as error:
        _unreadable(str(error))
    click.echo(RENDERERS[output](result))
    sys.exit(0 if result.passed else 1)


def _unreadable(message: str) -> NoReturn:
    """Say on one line why an input could not be read, and exit 2."""
    click.echo(f"recette gate : {' '.join(message.splitlines())}", err=True)
    sys.exit(2)
