"""The ASP's version policy: the bump the changes require, the bump declared, and the calendar.

Versions (`info.version`) are semver. The required bump is `major` if any change is breaking, `minor` if
any is non-breaking, `patch` if only information changed, `none` otherwise. The calendar rules read
`version-policy.yaml` (durations) and `versions.yaml` (dates of each released version), whose formats are
documented at the top of those files:

- a minor version is announced at least `preavisMineure` (P1M) before it is published, a major one at
  least `preavisMajeure` (P3M) before; a version not yet announced counts as announced `--today`;
- the previous major's end of life (`finDeVieLe` of its latest version) is at least `coexistenceMajeures`
  (P6M) after the new major is published, and it is not deprecated before that publication;
- a major that replaces another has a migration guide (`guideDeMigration`, a path relative to
  `versions.yaml` that must exist) when `guideDeMigrationObligatoire` is true.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import isodate

from harness.foundations.calendar import (
    Calendar,
    PolicyError,
    Release,
    Version,
    load_calendar,
    parse_version,
    read_yaml_mapping,
)
from harness.foundations.document import shown
from harness.foundations.resources import project_folder
from harness.gate.changes import Change, Level

BUMPS = ("none", "patch", "minor", "major")
BUMP_NAMES = {
    "none": "aucune",
    "patch": "corrective",
    "minor": "mineure",
    "major": "majeure",
    "prerelease": "pré-version",
    "downgrade": "régression",
}


SEMVER = "gestion sémantique des versions (semver 2.0.0), exigée par la politique de versions de l'ASP"
ASP_CALENDAR = "spécification des échanges de l'ASP : préavis, coexistence des majeures, guide de migration"
VIOLATION_RULES: dict[str, tuple[str, str]] = {
    "version-non-semver": ("info.version est une version semver X.Y.Z.", SEMVER),
    "version-regressee": ("La version ne recule pas.", SEMVER),
    "version-inchangee": ("Un contrat qui change change de version.", SEMVER),
    "cassant-sans-version-majeure": ("Un changement cassant demande une version majeure.", SEMVER),
    "montee-de-version-insuffisante": ("La montée déclarée couvre la montée que les changements exigent.", SEMVER),
    "version-non-inscrite": ("La version publiée est inscrite au calendrier (versions.yaml).", ASP_CALENDAR),
    "contrat-introuvable": ("Le contrat que le calendrier associe à la version existe.", ASP_CALENDAR),
    "publication-non-datee": ("La version a une date de publication (publieeLe).", ASP_CALENDAR),
    "preavis-insuffisant": ("Préavis d'au moins un mois (mineure) ou trois mois (majeure).", ASP_CALENDAR),
    "coexistence-insuffisante": (
        "La majeure précédente vit six mois après la publication de la nouvelle.",
        ASP_CALENDAR,
    ),
    "depreciation-anticipee": ("La majeure précédente n'est pas dépréciée avant la nouvelle.", ASP_CALENDAR),
    "guide-de-migration-manquant": ("Une nouvelle majeure a un guide de migration.", ASP_CALENDAR),
    "guide-de-migration-introuvable": ("Le guide de migration inscrit au calendrier existe.", ASP_CALENDAR),
}
"""Each rule of the policy: what it asks (French) and where it comes from."""


@dataclass(frozen=True)
class Violation:
    """A broken rule of the version policy."""

    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "message": self.message}


def required_bump(changes: list[Change]) -> str:
    """major if anything breaks, minor if anything changes the contract, patch for information only."""
    levels = {change.level for change in changes}
    if Level.BREAKING in levels:
        return "major"
    if Level.NON_BREAKING in levels:
        return "minor"
    return "patch" if levels else "none"


def declared_bump(base: Version, revision: Version) -> str:
    """The bump from `base` to `revision`: major, minor, patch, prerelease (same core), none or downgrade."""
    if revision < base:
        return "downgrade"
    if revision == base:
        return "none"
    if revision.core == base.core:
        return "prerelease"
    if revision.core[0] != base.core[0]:
        return "major"
    return "minor" if revision.core[1] != base.core[1] else "patch"


def check_versions(base_text: str, revision_text: str, required: str) -> tuple[str | None, list[Violation]]:
    """The declared bump and the violations of the semver rules."""
    base, revision = parse_version(base_text), parse_version(revision_text)
    if base is None or revision is None:
        bad = base_text if base is None else revision_text
        return None, [Violation("version-non-semver", f"info.version « {bad} » n'est pas une version semver X.Y.Z")]
    declared = declared_bump(base, revision)
    return declared, _bump_violations(base, revision, declared, required)


def _bump_violations(base: Version, revision: Version, declared: str, required: str) -> list[Violation]:
    if declared == "prerelease":
        return []  # semver §9: a pre-release carries no compatibility promise
    violations: list[Violation] = []
    if declared == "downgrade":
        violations.append(Violation("version-regressee", f"la version recule : {base} → {revision}"))
    elif declared == "none" and required != "none":
        text = f"le contrat change mais sa version reste {revision} (montée {BUMP_NAMES[required]} requise)"
        violations.append(Violation("version-inchangee", text))
    rank = BUMPS.index(declared) if declared in BUMPS else -1
    if required == "major" and rank < BUMPS.index("major"):
        text = f"changement cassant sans montée de version majeure : {base} → {revision}"
        violations.append(Violation("cassant-sans-version-majeure", text))
    elif declared in ("patch", "minor") and rank < BUMPS.index(required):
        text = f"montée {BUMP_NAMES[required]} requise, montée {BUMP_NAMES[declared]} déclarée : {base} → {revision}"
        violations.append(Violation("montee-de-version-insuffisante", text))
    return violations


# --- policy and calendar files ----------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """`version-policy.yaml`: notice per bump, coexistence of majors, migration guide."""

    minor_notice: Any
    major_notice: Any
    coexistence: Any
    migration_guide_required: bool

    def notice(self, bump: str) -> Any:
        return self.major_notice if bump == "major" else self.minor_notice


def load_policy(path: Path) -> Policy:
    """Read `version-policy.yaml`."""
    data = read_yaml_mapping(path)
    flag = data.get("guideDeMigrationObligatoire")
    if not isinstance(flag, bool):
        raise PolicyError(f"{path} : guideDeMigrationObligatoire doit valoir true ou false")
    return Policy(
        minor_notice=_duration(data, "preavisMineure", path),
        major_notice=_duration(data, "preavisMajeure", path),
        coexistence=_duration(data, "coexistenceMajeures", path),
        migration_guide_required=flag,
    )


def _duration(data: dict[str, Any], key: str, path: Path) -> Any:
    try:
        return isodate.parse_duration(str(data[key]))
    except (KeyError, isodate.ISO8601Error) as error:
        raise PolicyError(f"{path} : {key} doit être une durée ISO 8601 (ex. P3M)") from error


# --- calendar rules ---------------------------------------------------------------------------------


def check_calendar(
    calendar: Calendar, policy: Policy, revision_text: str, bump: str | None, today: date
) -> list[Violation]:
    """The calendar violations of publishing `revision_text` with this declared bump."""
    version = parse_version(revision_text)
    if version is None or bump not in ("major", "minor", "patch"):
        return []
    release = calendar.find(version)
    if release is None:
        return [Violation("version-non-inscrite", f"la version {version} n'est pas inscrite dans {calendar.path.name}")]
    violations = _contract_file(calendar, release)
    if bump == "patch":
        return violations
    violations += _notice(policy, release, bump, today)
    if bump == "major":
        previous = calendar.previous_major(version)
        if previous is not None:
            violations += _coexistence(policy, release, previous)
            violations += _migration_guide(calendar, policy, release)
    return violations


def _contract_file(calendar: Calendar, release: Release) -> list[Violation]:
    if release.contract and not calendar.resolve(release.contract).is_file():
        return [
            Violation(
                "contrat-introuvable", f"contrat de la version {release.version} introuvable : {release.contract}"
            )
        ]
    return []


def _notice(policy: Policy, release: Release, bump: str, today: date) -> list[Violation]:
    if release.published is None:
        text = f"la version {release.version} n'a pas de date de publication (publieeLe) : préavis invérifiable"
        return [Violation("publication-non-datee", text)]
    announced = release.announced or today
    notice = policy.notice(bump)
    earliest = announced + notice
    if earliest <= release.published:
        return []
    when = f"annoncée le {announced}" if release.announced else f"non encore annoncée (au mieux le {today})"
    text = (
        f"préavis insuffisant pour la version {BUMP_NAMES[bump]} {release.version} : {when}, publication le "
        f"{release.published} ; {isodate.duration_isoformat(notice)} exigés, publication au plus tôt le {earliest}"
    )
    return [Violation("preavis-insuffisant", text)]


def _coexistence(policy: Policy, release: Release, previous: Release) -> list[Violation]:
    if release.published is None:
        return []
    violations: list[Violation] = []
    earliest_end = release.published + policy.coexistence
    if previous.end_of_life is not None and previous.end_of_life < earliest_end:
        text = (
            f"fin de vie de {previous.version} le {previous.end_of_life}, moins de "
            f"{isodate.duration_isoformat(policy.coexistence)} après la publication de {release.version} le "
            f"{release.published} (au plus tôt le {earliest_end})"
        )
        violations.append(Violation("coexistence-insuffisante", text))
    if previous.deprecated is not None and previous.deprecated < release.published:
        text = f"{previous.version} est dépréciée le {previous.deprecated}, avant la publication de {release.version}"
        violations.append(Violation("depreciation-anticipee", text))
    return violations


def _migration_guide(calendar: Calendar, policy: Policy, release: Release) -> list[Violation]:
    if not policy.migration_guide_required:
        return []
    if not release.migration_guide:
        text = f"la version majeure {release.version} n'a pas de guide de migration (guideDeMigration)"
        return [Violation("guide-de-migration-manquant", text)]
    if not calendar.resolve(release.migration_guide).is_file():
        text = f"guide de migration de {release.version} introuvable : {release.migration_guide}"
        return [Violation("guide-de-migration-introuvable", text)]
    return []


# --- which calendar applies -------------------------------------------------------------------------

CALENDAR_NAME = "versions.yaml"
POLICY_NAME = "version-policy.yaml"


@dataclass(frozen=True)
class CalendarScope:
    """The calendar and policy that apply to a contract, or why none does (`calendar` is None)."""

    calendar: Calendar | None
    policy: Path | None
    reason: str

    @classmethod
    def given(cls, versions: Path, policy: Path) -> CalendarScope:
        return cls(load_calendar(versions), policy, f"{shown(versions)} (--versions)")

    @classmethod
    def off(cls) -> CalendarScope:
        return cls(None, None, "--no-calendar")

    @property
    def applies(self) -> bool:
        return self.calendar is not None

    @property
    def summary(self) -> str:
        """A French line for reports: which calendar was applied, or why none was."""
        return f"calendrier {self.reason}" if self.applies else f"calendrier non appliqué : {self.reason}"

    def check(self, revision_text: str, bump: str | None, today: date) -> list[Violation]:
        if self.calendar is None or self.policy is None:
            return []
        return check_calendar(self.calendar, load_policy(self.policy), revision_text, bump, today)


def calendar_scope(contract: Path, versions: Path | None, policy: Path | None) -> CalendarScope:
    """The calendar of `contract`: `versions` when given, else the `versions.yaml` of the contract's folder or
    of its parent that inscribes this very file (a release whose `contrat` names it) — never another API's.

    The policy is `policy`, else the project's `contracts/version-policy.yaml` (the ASP's rules).
    """
    rules = policy or project_folder("contracts") / POLICY_NAME
    if versions is not None:
        return CalendarScope.given(versions, rules)
    target = contract.resolve()
    for folder in (target.parent, target.parent.parent):
        candidate = folder / CALENDAR_NAME
        if candidate.is_file():
            calendar = load_calendar(candidate)
            if any(r.contract and calendar.resolve(r.contract).resolve() == target for r in calendar.releases):
                return CalendarScope(calendar, rules, f"{shown(candidate)} (trouvé près du contrat)")
            return CalendarScope(None, None, f"{shown(candidate)} n'inscrit pas {contract.name} (champ contrat)")
    return CalendarScope(None, None, f"aucun {CALENDAR_NAME} dans le dossier du contrat ni dans son parent")
