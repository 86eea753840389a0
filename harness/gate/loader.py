"""Read contract files and follow their `$ref`s, across files, without ever inlining them.

A contract is never expanded: a cyclic schema would be infinite. Instead every piece of a document is a
`Node` (its value, its file, its JSON pointer), and `Resolver.deref` follows `$ref` chains on demand. The
diff uses the resolved node's address as its identity, which is how it detects cycles.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

SUPPORTED = "OpenAPI 2.0 (Swagger) ou 3.0.x"


class LoadError(Exception):
    """A contract that cannot be read: missing file, bad YAML/JSON, unknown dialect, dangling `$ref`."""


@dataclass(frozen=True)
class Node:
    """A value inside a contract document, with the file its relative `$ref`s are read from."""

    value: Any
    file: Path
    pointer: str = ""

    def child(self, key: str | int) -> Node:
        """The node under `key` (missing keys give a `None` value)."""
        value = self.value.get(key) if isinstance(self.value, dict) else None
        if isinstance(self.value, list) and isinstance(key, int) and key < len(self.value):
            value = self.value[key]
        return Node(value, self.file, f"{self.pointer}/{escape(str(key))}")

    def get(self, key: str, default: Any = None) -> Any:
        return self.value.get(key, default) if isinstance(self.value, dict) else default

    @property
    def identity(self) -> tuple[Path, str]:
        return (self.file, self.pointer)


def escape(token: str) -> str:
    """Escape one JSON pointer token (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")


def _unescape(token: str) -> str:
    return unquote(token).replace("~1", "/").replace("~0", "~")


@dataclass
class Resolver:
    """Loads documents once each and follows `$ref`s relative to the file that holds them."""

    documents: dict[Path, Any] = field(default_factory=dict)

    def load(self, path: Path) -> Node:
        """The root node of the document at `path`."""
        path = path.resolve()
        if path not in self.documents:
            self.documents[path] = _parse(path)
        return Node(self.documents[path], path)

    def deref(self, node: Node) -> Node:
        """Follow `$ref` until a non-reference value; a reference loop is an error."""
        seen: set[tuple[Path, str]] = set()
        while isinstance(node.value, dict) and isinstance(node.value.get("$ref"), str):
            if node.identity in seen:
                raise LoadError(f"référence circulaire sans fin : {node.value['$ref']} ({node.file.name})")
            seen.add(node.identity)
            node = self._target(node.value["$ref"], node.file)
        return node

    def _target(self, ref: str, base: Path) -> Node:
        parts = urlsplit(ref)
        if parts.scheme or parts.netloc:
            raise LoadError(f"référence distante non prise en charge : {ref}")
        target = self.load(base.parent / unquote(parts.path)) if parts.path else self.load(base)
        node = target
        for token in [t for t in parts.fragment.split("/") if t]:
            key = _unescape(token)
            container = node.value
            if isinstance(container, list) and key.isdigit() and int(key) < len(container):
                node = node.child(int(key))
            elif isinstance(container, dict) and key in container:
                node = node.child(key)
            else:
                raise LoadError(f"référence introuvable : {ref} (depuis {base.name})")
        return node


def _parse(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise LoadError(f"fichier illisible : {path} ({error})") from error
    try:
        return json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, ValueError) as error:
        raise LoadError(f"contenu YAML/JSON invalide : {path} ({_first_line(error)})") from error


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


@dataclass(frozen=True)
class Document:
    """A loaded contract: its root node, its dialect (`2.0` or `3.0`) and the resolver of its refs."""

    root: Node
    dialect: str
    resolver: Resolver


def load_contract(path: Path) -> Document:
    """Read an OpenAPI 3.0.x or Swagger 2.0 contract; anything else raises `LoadError`."""
    resolver = Resolver()
    root = resolver.load(path)
    if not isinstance(root.value, dict):
        raise LoadError(f"le contrat n'est pas un objet YAML/JSON : {path}")
    return Document(root, _dialect(root.value, path), resolver)


def _dialect(spec: dict[str, Any], path: Path) -> str:
    if str(spec.get("swagger", "")) == "2.0":
        return "2.0"
    version = str(spec.get("openapi", ""))
    if version.startswith("3.0."):
        return "3.0"
    found = f"openapi {version}" if version else "aucun champ openapi/swagger"
    raise LoadError(f"version de contrat non prise en charge ({found}) dans {path} : {SUPPORTED} attendu")
