"""The version calendar of a contract (`versions.yaml`): each release's semver and its dates.

Versions are parsed and ordered by the `semver` package, not `packaging`: PEP 440 is not semver (it
orders `1.0.0+build` after `1.0.0`, refuses `1.0.0-alpha.beta`, and compares pre-releases by its own rules).

Read by the reference (deprecation headers, end of life), by the gate (notice and coexistence rules) and
by the campaign (which major the calendar requires on the run's date).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import semver
import yaml


class PolicyError(Exception):
    """An unreadable policy or versions file."""


class Version(semver.Version):
    """A semantic version: semver precedence (a pre-release comes before its release, build metadata ignored)."""

    __slots__ = ()

    @property
    def core(self) -> tuple[int, int, int]:
        """(major, minor, patch), without pre-release or build."""
        return (self.major, self.minor, self.patch)


def parse_version(text: Any) -> Version | None:
    """The semver in `text`, or None."""
    try:
        return Version.parse(str(text).strip())
    except ValueError:
        return None


@dataclass(frozen=True)
class Release:
    """One entry of `versions.yaml`."""

    version: Version
    announced: date | None
    published: date | None
    deprecated: date | None
    end_of_life: date | None
    migration_guide: str | None
    contract: str | None


@dataclass(frozen=True)
class Calendar:
    """`versions.yaml`: the released (or planned) versions; paths in it are relative to the file."""

    path: Path
    releases: tuple[Release, ...]

    def find(self, version: Version) -> Release | None:
        return next((r for r in self.releases if r.version == version), None)

    def previous_major(self, version: Version) -> Release | None:
        """The latest release of an earlier major (the line the new major replaces)."""
        earlier = [r for r in self.releases if r.version.major < version.major]
        return max(earlier, key=lambda r: r.version, default=None)

    def resolve(self, relative: str) -> Path:
        return self.path.parent / relative

    def majors(self) -> list[int]:
        return sorted({r.version.major for r in self.releases})

    def latest_of(self, major: int) -> Release | None:
        """The latest release of `major` (its end of life is the major's)."""
        return max((r for r in self.releases if r.version.major == major), key=lambda r: r.version, default=None)

    def deprecated_on(self, major: int) -> date | None:
        """When `major` is deprecated: its latest release's date, at the latest the next major's publication."""
        latest = self.latest_of(major)
        if latest is not None and latest.deprecated is not None:
            return latest.deprecated
        later = [r.published for r in self.releases if r.version.major > major and r.published]
        return min(later, default=None)

    def end_of(self, major: int) -> date | None:
        """The end of life of `major` (its latest release's); None: not planned."""
        latest = self.latest_of(major)
        return latest.end_of_life if latest else None

    def served_on(self, day: date) -> list[int]:
        """The majors the calendar requires to be served on `day`: published, not past their end of life."""
        return [major for major in self.majors() if self.status_on(major, day) is None]

    def status_on(self, major: int, day: date) -> str | None:
        """Why the calendar does not require `major` on `day` (French, for a skip's reason); None: it does."""
        published = [r.published for r in self.releases if r.version.major == major and r.published]
        latest = self.latest_of(major)
        if not published or min(published) > day:
            when = f"le {min(published).isoformat()}" if published else "à une date non planifiée"
            return f"la version {major} n'est publiée que {when} (recette datée du {day.isoformat()})"
        if latest is not None and latest.end_of_life is not None and latest.end_of_life <= day:
            end = latest.end_of_life.isoformat()
            return f"la version {major} est en fin de vie depuis le {end} (recette datée du {day.isoformat()})"
        return None

    def current_major(self, day: date) -> int:
        """The latest major served on `day` (the default of a run); a PolicyError when none is."""
        served = self.served_on(day)
        if not served:
            raise PolicyError(f"{self.path} : aucune version majeure n'est en service le {day.isoformat()}")
        return served[-1]


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise PolicyError(f"fichier illisible : {path} ({str(error).splitlines()[0]})") from error
    if not isinstance(data, dict):
        raise PolicyError(f"{path} : un objet YAML est attendu")
    return data


def load_calendar(path: Path) -> Calendar:
    """Read `versions.yaml`."""
    entries = read_yaml_mapping(path).get("versions")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise PolicyError(f"{path} : « versions » doit être une liste d'objets")
    releases = tuple(_release(entry, path) for entry in entries)
    numbers = [r.version for r in releases]
    if len(set(numbers)) != len(numbers):
        raise PolicyError(f"{path} : une version y est inscrite deux fois")
    return Calendar(path, releases)


def _release(entry: dict[str, Any], path: Path) -> Release:
    version = parse_version(entry.get("numero", ""))
    if version is None:
        raise PolicyError(f"{path} : numero « {entry.get('numero')} » n'est pas une version semver (entre guillemets)")
    return Release(
        version=version,
        announced=_date(entry, "annonceeLe", path),
        published=_date(entry, "publieeLe", path),
        deprecated=_date(entry, "deprecieeLe", path),
        end_of_life=_date(entry, "finDeVieLe", path),
        migration_guide=entry.get("guideDeMigration"),
        contract=entry.get("contrat"),
    )


def _date(entry: dict[str, Any], key: str, path: Path) -> date | None:
    value = entry.get(key)
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as error:
        raise PolicyError(f"{path} : {key} « {value} » n'est pas une date AAAA-MM-JJ") from error
