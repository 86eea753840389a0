"""Reading one contract file (YAML or JSON) into plain data, with one error for anything unreadable.

A file is kept as read (`Parsed`): its data, and the YAML node tree that knows where each value is written
(line and column), composed on demand for a JSON file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from harness.foundations.document.sources import Source

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML was built with it (ten times faster: most of a gate's time), else PyYAML's."""
Position = tuple[int, int]
"""A line and a column, both from 1."""


class LoadError(Exception):
    """A contract that cannot be used as read: unreadable file, neither YAML nor JSON, wrong kind or dialect,
    or a `$ref` that leads nowhere. Its message is one French line that names the file."""


@dataclass
class Parsed:
    """A file's text, its data, and (composed when first asked) its YAML node tree."""

    text: str
    data: Any
    tree: yaml.Node | None = None
    composed: bool = False

    def position(self, tokens: tuple[str, ...]) -> Position:
        """Where the value at `tokens` is written: its key's line and column in a mapping (the deepest existing
        parent's for a value that is absent)."""
        node, mark = self._tree(), None
        for token in tokens:
            found = _step(node, token)
            if found is None:
                break
            mark, node = found
        start = mark or (node.start_mark if node is not None else None)
        return (start.line + 1, start.column + 1) if start is not None else (1, 1)

    def _tree(self) -> yaml.Node | None:
        """The node tree, composed on first use for a file read as JSON (None when YAML cannot read it)."""
        if self.tree is None and not self.composed:
            self.composed = True
            try:
                self.tree = yaml.compose(self.text, Loader=LOADER)
            except yaml.YAMLError:
                self.tree = None  # JSON that YAML 1.1 does not read: values are placed at the top of the file
        return self.tree


def _step(node: yaml.Node | None, token: str) -> tuple[Any, yaml.Node] | None:
    """The mark to report and the node under `token` of a mapping or sequence node."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == token:
                return key.start_mark, value
    if isinstance(node, yaml.SequenceNode) and token.isdigit() and int(token) < len(node.value):
        item = node.value[int(token)]
        return item.start_mark, item
    return None


def parse(text: str) -> Parsed:
    """JSON first (exact), else YAML (a superset of most JSON), keeping the YAML node tree."""
    try:
        return Parsed(text, json.loads(text))
    except ValueError:
        pass
    loader = LOADER(text)
    try:
        tree = loader.get_single_node()
        return Parsed(text, loader.construct_document(tree) if tree is not None else None, tree)
    finally:
        loader.dispose()


def read_parsed(path: Path, source: Source) -> Parsed:
    """The parsed file at `path`; `LoadError` when it is missing, unreadable or neither YAML nor JSON."""
    name = source.name(path)
    try:
        return parse(source.read_text(path))
    except FileNotFoundError as error:
        raise LoadError(f"{name} : fichier introuvable") from error
    except (OSError, UnicodeDecodeError) as error:
        raise LoadError(f"{name} : fichier illisible ({describe(error)})") from error
    except yaml.YAMLError as error:
        raise LoadError(f"{name} : ni YAML ni JSON ({describe(error)})") from error


def describe(error: Exception) -> str:
    """A one-line account of a read or parse error (YAML errors give their line and column)."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        return f"{error.problem}, ligne {mark.line + 1}, colonne {mark.column + 1}"
    if isinstance(error, OSError):
        return error.strerror or type(error).__name__
    return " ".join(str(error).split()) or type(error).__name__
