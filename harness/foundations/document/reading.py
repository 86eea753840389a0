"""Reading one contract file (YAML or JSON) into plain data, with one error for anything unreadable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml


class LoadError(Exception):
    """A contract that cannot be used as read: unreadable file, neither YAML nor JSON, wrong kind or dialect,
    or a `$ref` that leads nowhere. Its message is one French line that names the file."""


def parse(text: str) -> Any:
    """JSON first (exact), else YAML (a superset of most JSON)."""
    try:
        return json.loads(text)
    except ValueError:
        return yaml.safe_load(text)


def read_data(path: Path) -> Any:
    """The parsed content of `path`; `LoadError` when it is missing, unreadable or neither YAML nor JSON."""
    try:
        return parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise LoadError(f"{path} : fichier introuvable") from error
    except (OSError, UnicodeDecodeError) as error:
        raise LoadError(f"{path} : fichier illisible ({describe(error)})") from error
    except yaml.YAMLError as error:
        raise LoadError(f"{path} : ni YAML ni JSON ({describe(error)})") from error


def describe(error: Exception) -> str:
    """A one-line account of a read or parse error (YAML errors give their line and column)."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        return f"{error.problem}, ligne {mark.line + 1}, colonne {mark.column + 1}"
    if isinstance(error, OSError):
        return error.strerror or type(error).__name__
    return " ".join(str(error).split()) or type(error).__name__
