"""What a team controls of `recette lint`: rules turned on or off, their severity, and findings ignored with a reason.

Written as the `[lint]` section of a `recette.toml`, or as a whole `.recette-lint.yaml`:

```yaml
rules:
  chemins-pluriel: off          # a rule turned off
  operation-resume: error       # its severity changed (error, warning, info)
  info-licence: on              # an optional rule turned on, at its own severity
ignore:
  - rule: modeles-descriptions  # or "*" for every rule
    path: /components/schemas/Ancien*   # a JSON pointer, `*` matching anything
    reason: schéma historique, retiré en 2.0
```

A rule whose errors stop the later stages (`references-resolues`, `structure-valide`) keeps stopping them
whatever its configured severity: the later rules would read a contract they cannot trust.
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, get_args

import yaml

from harness.lint.findings import Finding, Severity


class ConfigError(ValueError):
    """A lint configuration that cannot be used: unreadable, or naming an unknown rule, or an ignore without reason."""


@dataclass(frozen=True)
class Ignore:
    """Findings of `rule` (or of every rule, `*`) whose path matches `path`, ignored for `reason`."""

    rule: str
    path: str
    reason: str

    def matches(self, finding: Finding) -> bool:
        return self.rule in ("*", finding.rule) and fnmatch.fnmatchcase(finding.path, self.path)


@dataclass(frozen=True)
class LintConfig:
    """Per-rule switches (`off`, `on`, or a severity) and the ignores; the default configuration changes nothing."""

    rules: dict[str, str] = field(default_factory=dict)
    ignores: tuple[Ignore, ...] = ()

    def enabled(self, rule_id: str, optional: bool) -> bool:
        """Whether a rule runs: an optional rule when turned on (or given a severity), any other unless off."""
        setting = self.rules.get(rule_id)
        return setting != "off" and (not optional or setting is not None)

    def severity(self, rule_id: str, default: Severity) -> Severity:
        setting = self.rules.get(rule_id)
        return setting if setting in get_args(Severity) else default  # type: ignore[return-value]

    def apply(self, findings: Iterable[Finding]) -> tuple[list[Finding], list[tuple[Finding, Ignore]]]:
        """The findings kept (at their configured severity) and those ignored, each with its ignore."""
        kept: list[Finding] = []
        ignored: list[tuple[Finding, Ignore]] = []
        for finding in findings:
            ignore = next((i for i in self.ignores if i.matches(finding)), None)
            if ignore is not None:
                ignored.append((finding, ignore))
            else:
                kept.append(replace(finding, severity=self.severity(finding.rule, finding.severity)))
        return kept, ignored


def read_config(path: Path, known: set[str]) -> LintConfig:
    """The configuration in `path` (`[lint]` of a TOML file, or a YAML file), checked against the `known` rule ids."""
    try:
        text = path.read_text(encoding="utf-8")
        data = (tomllib.loads(text).get("lint", {})) if path.suffix == ".toml" else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, yaml.YAMLError) as error:
        raise ConfigError(f"configuration de lint illisible : {path} ({' '.join(str(error).split())})") from error
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path} : un objet est attendu (rules, ignore)")
    return LintConfig(_rules(data.get("rules") or {}, known, path), _ignores(data.get("ignore") or [], known, path))


def _rules(raw: Any, known: set[str], path: Path) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} : « rules » doit associer un identifiant de règle à on, off, error, warning ou info")
    allowed = {"on", "off", *get_args(Severity)}
    rules: dict[str, str] = {}
    for rule_id, setting in raw.items():
        # YAML 1.1 reads a bare on/off as a boolean.
        value = {True: "on", False: "off"}.get(setting, setting) if isinstance(setting, bool) else setting
        if rule_id not in known:
            raise ConfigError(f"{path} : règle inconnue « {rule_id} » (voir recette lint --rules)")
        if value not in allowed:
            raise ConfigError(f"{path} : « {rule_id} » : {setting!r} n'est pas on, off, error, warning ou info")
        rules[str(rule_id)] = str(value)
    return rules


def _ignores(raw: Any, known: set[str], path: Path) -> tuple[Ignore, ...]:
    if not isinstance(raw, list):
        raise ConfigError(f"{path} : « ignore » doit être une liste de {{rule, path, reason}}")
    ignores = []
    for entry in raw:
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("rule", "path")):
            raise ConfigError(f"{path} : chaque entrée de « ignore » a une règle (rule) et un chemin (path)")
        if entry["rule"] not in {*known, "*"}:
            raise ConfigError(f"{path} : règle inconnue « {entry['rule']} » dans « ignore »")
        if not str(entry.get("reason") or "").strip():
            raise ConfigError(f"{path} : ignorer « {entry['rule']} » en {entry['path']} demande une raison (reason)")
        ignores.append(Ignore(entry["rule"], entry["path"], str(entry["reason"]).strip()))
    return tuple(ignores)
