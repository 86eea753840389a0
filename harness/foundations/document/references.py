"""Following `$ref`s on demand, across files, without ever inlining them (a cyclic schema would be infinite)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

import yaml

from harness.foundations.document.nodes import Node, Place, shown, uri_path
from harness.foundations.document.reading import LoadError, Parsed, Position, describe, parse
from harness.foundations.document.sources import Source, WorkingTree


class RefError(LoadError):
    """A `$ref` that leads nowhere: missing file or pointer, remote URL, or a loop of references.

    Its message says what is wrong with the reference; `referrer` names the file that holds it.
    """

    def __init__(self, message: str, referrer: str) -> None:
        super().__init__(message)
        self.referrer = referrer


@dataclass
class Resolver:
    """The documents of one contract (its file and the files it references), each read once from `source`."""

    source: Source = field(default_factory=WorkingTree)
    files: dict[str, Parsed] = field(default_factory=dict)

    def name(self, uri: str) -> str:
        """How messages name the file at `uri`."""
        return self.source.name(uri_path(uri))

    def position(self, node: Node) -> Position:
        """The line and column where `node` is written in its file (1, 1 for a file not read as text)."""
        parsed = self.files.get(node.uri)
        return parsed.position(node.tokens) if parsed is not None else (1, 1)

    def place(self, node: Node) -> Place:
        """The file, line and column where `node` is written."""
        return Place(shown(uri_path(node.uri)), *self.position(node))

    def resolve(self, node: Node) -> Node:
        """`node` itself, or the target of its `$ref` (chains followed); `RefError` when it leads nowhere."""
        seen: set[tuple[str, tuple[str, ...]]] = set()
        while isinstance(node.value, dict) and isinstance(node.value.get("$ref"), str):
            if node.identity in seen:
                raise RefError(f"référence circulaire : {node.value['$ref']}", self.name(node.uri))
            seen.add(node.identity)
            node = self._target(node, node.value["$ref"])
        return node

    def _target(self, node: Node, ref: str) -> Node:
        target_uri, fragment = urldefrag(urljoin(node.uri, ref))
        if urlsplit(target_uri).scheme != "file":
            raise RefError(f"référence distante non suivie : {ref}", self.name(node.uri))
        referrer = self.name(node.uri)
        value = self._document(target_uri, ref, referrer)
        tokens = _pointer_tokens(unquote(fragment), referrer)
        for token in tokens:
            value = _step(value, token, ref, referrer)
        return Node(value, target_uri, tokens)

    def _document(self, uri: str, ref: str, referrer: str) -> Any:
        if uri not in self.files:
            try:
                self.files[uri] = parse(self.source.read_text(uri_path(uri)))
            except FileNotFoundError as error:
                raise RefError(f"fichier référencé introuvable : {ref}", referrer) from error
            except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
                raise RefError(f"fichier référencé illisible : {ref} ({describe(error)})", referrer) from error
        return self.files[uri].data


def _pointer_tokens(text: str, referrer: str) -> tuple[str, ...]:
    if not text:
        return ()
    if not text.startswith("/"):
        raise RefError(f"pointeur JSON invalide : {text}", referrer)
    return tuple(token.replace("~1", "/").replace("~0", "~") for token in text[1:].split("/"))


def _step(value: Any, token: str, ref: str, referrer: str) -> Any:
    try:
        return value[int(token)] if isinstance(value, list) else value[token]
    except (KeyError, IndexError, ValueError, TypeError) as error:
        raise RefError(f"référence introuvable : {ref}", referrer) from error
