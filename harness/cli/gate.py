"""`recette gate BASE REVISION`: refuse a contract change that breaks the ASP's version rules.

BASE and REVISION are paths, or `REF:PATH` read in a git revision (`origin/main:contracts/…`); with
`--base-ref REF`, BASE is REVISION's own file in `REF`. Exit codes: 0 the change is acceptable, 1 it breaks a
rule, 2 an input could not be read.
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path
from typing import NoReturn
from zoneinfo import ZoneInfo

import click

from harness.foundations.calendar import PolicyError
from harness.foundations.document import (
    Input,
    LoadError,
    RefError,
    WorkingTree,
    contract_input,
    read_openapi,
    same_file_in,
)
from harness.gate.archives import SUFFIX as ARCHIVE_SCHEMA
from harness.gate.archives import archive_document
from harness.gate.changes import Change
from harness.gate.diff import diff_contracts
from harness.gate.model import Api, build_api
from harness.gate.policy import CalendarScope, calendar_scope, check_versions, required_bump
from harness.gate.report import RENDERERS, GateResult

PARIS = ZoneInfo("Europe/Paris")
"""The ASP's calendar dates are French dates: without --today, the gate judges on today in Paris."""


def load_api(contract: Path | Input) -> Api:
    """A contract file in the diff's common shape; a malformed structure is a `LoadError`."""
    contract = _as_input(contract)
    if contract.path.name.endswith(ARCHIVE_SCHEMA):
        document = archive_document(contract)
    else:
        document = read_openapi(contract.path, contract.source)
    try:
        return build_api(document)
    except (AttributeError, TypeError, ValueError, KeyError, IndexError) as error:
        detail = f"{type(error).__name__} : {error}"
        raise LoadError(f"structure de contrat inattendue dans {document.name} ({detail})") from error


def compare(base: Path | Input, revision: Path | Input) -> tuple[Api, Api, list[Change]]:
    """Both contracts and the changes between them."""
    old, new = load_api(base), load_api(revision)
    return old, new, diff_contracts(old, new)


def evaluate(
    base: Path | Input,
    revision: Path | Input,
    versions: Path | None = None,
    policy: Path | None = None,
    today: date | None = None,
    scope: CalendarScope | None = None,
) -> GateResult:
    """Diff the contracts and apply the semver rules, then the calendar (as of `today`) when one applies: the
    one `scope` found, else the one `versions` and `policy` give when both are given."""
    old, new, changes = compare(base, revision)
    required = required_bump(changes)
    declared, violations = check_versions(old.version, new.version, required)
    if scope is None and versions is not None and policy is not None:
        scope = CalendarScope.given(versions, policy)
    if scope is not None and scope.applies:
        violations += scope.check(new.version, declared, today or datetime.now(PARIS).date())
    calendar = scope.summary if scope is not None else None
    version_place = new.document.place(new.info.child("version"))
    return GateResult(changes, required, declared, violations, (old.version, new.version), calendar, version_place)


@click.command("gate")
@click.argument("contracts", metavar="BASE REVISION", nargs=-1, required=True)
@click.option(
    "--base-ref",
    metavar="REF",
    help="Révision git de la base : REVISION est comparé à son propre fichier dans REF (BASE omis).",
)
@click.option(
    "--versions",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Calendrier des versions publiées [défaut : le versions.yaml du dossier du contrat ou de son parent, "
    "s'il inscrit ce contrat].",
)
@click.option("--no-calendar", is_flag=True, help="Ne vérifier que la montée de version (semver), sans calendrier.")
@click.option(
    "--policy",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Politique de versions de l'ASP [défaut : contracts/version-policy.yaml du projet].",
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
    contracts: tuple[str, ...],
    base_ref: str | None,
    versions: Path | None,
    no_calendar: bool,
    policy: Path | None,
    today: datetime | None,
    output: str,
) -> None:
    """Compare deux versions d'un contrat OpenAPI (2.0 ou 3.0.x) et vérifie la politique de versions.

    Un schéma de l'échange d'archives (*.schema.json) se compare de même, sa version lue dans le
    version.yaml de son dossier.

    BASE et REVISION sont des chemins, ou REF:CHEMIN lu dans une révision git (ex.
    origin/main:contracts/titulaire/v1/openapi.yaml), ses $ref relatifs lus dans la même révision.

    Code de sortie : 0 accepté, 1 règle enfreinte, 2 entrée illisible.
    """
    if versions is not None and no_calendar:
        raise click.UsageError("--versions et --no-calendar s'excluent")
    try:
        base, revision = _inputs(contracts, base_ref)
        scope = CalendarScope.off() if no_calendar else calendar_scope(revision.path, versions, policy)
        result = evaluate(base, revision, today=today.date() if today else None, scope=scope)
    except RefError as error:
        _unreadable(f"contrat illisible : {error.referrer} : {error}")
    except LoadError as error:
        _unreadable(f"contrat illisible : {error}")
    except (PolicyError, FileNotFoundError) as error:
        _unreadable(str(error))
    click.echo(RENDERERS[output](result))
    sys.exit(0 if result.passed else 1)


def _inputs(contracts: tuple[str, ...], base_ref: str | None) -> tuple[Input, Input]:
    """BASE and REVISION, or REVISION alone with `--base-ref`."""
    if base_ref is not None:
        if len(contracts) != 1:
            raise click.UsageError("avec --base-ref, donner le seul contrat REVISION")
        revision = contract_input(contracts[0])
        return same_file_in(base_ref, revision), revision
    if len(contracts) != 2:
        raise click.UsageError("donner BASE et REVISION (ou --base-ref REF REVISION)")
    return contract_input(contracts[0]), contract_input(contracts[1])


def _as_input(contract: Path | Input) -> Input:
    return contract if isinstance(contract, Input) else Input(contract, WorkingTree())


def _unreadable(message: str) -> NoReturn:
    """Say on one line why an input could not be read, and exit 2."""
    click.echo(f"recette gate : {' '.join(message.splitlines())}", err=True)
    sys.exit(2)
