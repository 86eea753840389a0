"""Reading a contract file, and walking it with its `$ref`s resolved (across files, cycles cut)."""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urldefrag, urljoin, urlsplit
from urllib.request import url2pathname

import yaml

Kind = Literal["openapi", "service"]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SCHEMA_LIST_KEYS = ("allOf", "anyOf", "oneOf")
SCHEMA_KEYS = ("items", "additionalProperties", "not")
# Literal values, never walked as contract structure.
OPAQUE_KEYS = frozenset({"example", "examples", "enum", "const"})


class LoadError(Exception):
    """The file cannot be read, is not YAML/JSON, or is neither an OpenAPI contract nor a service contract."""


class RefError(Exception):
    """A `$ref` that leads nowhere: missing file or pointer, remote URL, or a loop of references."""


@dataclass(frozen=True)
class Node:
    """A value of a contract document with its place: the file's URI and the tokens of its JSON pointer."""

    value: Any
    uri: str
    tokens: tuple[str, ...] = ()

    @property
    def pointer(self) -> str:
        return pointer(*self.tokens)

    def get(self, key: str) -> Node | None:
        """The child at `key` of a mapping, or None."""
        if isinstance(self.value, dict) and key in self.value:
            return Node(self.value[key], self.uri, (*self.tokens, key))
        return None

    def children(self) -> Iterator[tuple[str, Node]]:
        """The children of a mapping (by key) or of a list (by index); nothing for a scalar."""
        if isinstance(self.value, dict):
            items: Any = self.value.items()
        elif isinstance(self.value, list):
            items = enumerate(self.value)
        else:
            return
        for key, value in items:
            yield str(key), Node(value, self.uri, (*self.tokens, str(key)))

    def text(self, key: str) -> str:
        """The string at `key`, or an empty string."""
        value = self.value.get(key) if isinstance(self.value, dict) else None
        return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class Operation:
    """An operation of the contract: `path` is its path template, `node` the resolved Operation Object."""

    path: str
    method: str
    node: Node
    path_item: Node
    callback: bool = False


@dataclass(frozen=True)
class Reached:
    """A node met while walking the contract; `broken` says why a `$ref` could not be followed."""

    node: Node
    is_schema: bool
    broken: str | None = None


@dataclass
class Contract:
    """A contract file as read: an OpenAPI (or Swagger 2.0) document, or a service contract."""

    path: Path
    data: dict[str, Any]
    kind: Kind
    _documents: dict[str, Any] = field(default_factory=dict, repr=False)

    @functools.cached_property
    def uri(self) -> str:
        return self.path.resolve().as_uri()

    @property
    def root(self) -> Node:
        return Node(self.data, self.uri)

    @property
    def version(self) -> str | None:
        """The raw `openapi` (or `swagger`) field, as a string."""
        for key in ("openapi", "swagger"):
            if key in self.data:
                return str(self.data[key])
        return None

    @property
    def is_swagger2(self) -> bool:
        return "swagger" in self.data

    @property
    def family(self) -> str | None:
        """`2.0`, `3.0`, `3.1` or `3.2` when the version is one openapi-spec-validator knows, else None."""
        if self.is_swagger2:
            return "2.0" if self.data["swagger"] == "2.0" else None
        match = re.fullmatch(r"(3\.[0-2])\.\d+(-.+)?", str(self.data.get("openapi", "")))
        return match.group(1) if match else None

    def location(self, node: Node) -> str:
        """Where `node` is: its JSON pointer, prefixed by its file (relative) when it is not this one."""
        if node.uri == self.uri:
            return node.pointer
        other = Path(url2pathname(urlsplit(node.uri).path))
        return f"{Path(os.path.relpath(other, self.path.resolve().parent)).as_posix()}#{node.pointer}"

    def resolve(self, node: Node) -> Node:
        """`node` itself, or the target of its `$ref` (chains followed); `RefError` when it leads nowhere."""
        seen: set[tuple[str, tuple[str, ...]]] = set()
        while isinstance(node.value, dict) and isinstance(node.value.get("$ref"), str):
            if (node.uri, node.tokens) in seen:
                raise RefError(f"référence circulaire : {node.value['$ref']}")
            seen.add((node.uri, node.tokens))
            node = self._target(node, node.value["$ref"])
        return node

    def walk(self) -> Iterator[Reached]:
        """Every node reachable from the root, once each, `$ref`s followed across files, cycles cut."""
        seen: set[tuple[str, tuple[str, ...], bool]] = set()
        stack: list[tuple[Node, bool]] = [(self.root, False)]
        while stack:
            node, is_schema = stack.pop()
            try:
                node = self.resolve(node)
            except RefError as error:
                yield Reached(node, is_schema, str(error))
                continue
            if (node.uri, node.tokens, is_schema) in seen:
                continue
            seen.add((node.uri, node.tokens, is_schema))
            yield Reached(node, is_schema)
            children = _schema_children(node) if is_schema else _structure_children(node)
            stack.extend(reversed(children))

    def schemas(self) -> Iterator[Node]:
        """Every schema reachable from the contract, resolved, once each."""
        for reached in self.walk():
            if reached.is_schema and reached.broken is None:
                yield reached.node

    def operations(self, *, callbacks: bool = False) -> Iterator[Operation]:
        """The operations under `paths` and, when asked, those described in their `callbacks`."""
        for template, path_item in _mapping(self.root.get("paths")):
            if template.startswith("/"):
                yield from self._path_operations(template, self.resolve(path_item), callback=False)
        if callbacks:
            for operation in list(self.operations()):
                for _, callback in _mapping(operation.node.get("callbacks")):
                    for expression, path_item in _mapping(self.resolve(callback)):
                        yield from self._path_operations(expression, self.resolve(path_item), callback=True)

    def _path_operations(self, template: str, path_item: Node, *, callback: bool) -> Iterator[Operation]:
        for method in HTTP_METHODS:
            operation = path_item.get(method)
            if operation is not None and isinstance(operation.value, dict):
                yield Operation(template, method, self.resolve(operation), path_item, callback)

    def _target(self, node: Node, ref: str) -> Node:
        target_uri, fragment = urldefrag(urljoin(node.uri, ref))
        if urlsplit(target_uri).scheme != "file":
            raise RefError(f"référence distante non suivie : {ref}")
        value = self._document(target_uri, ref)
        tokens = _pointer_tokens(unquote(fragment))
        for token in tokens:
            value = _step(value, token, ref)
        return Node(value, target_uri, tokens)

    def _document(self, uri: str, ref: str) -> Any:
        if uri == self.uri:
            return self.data
        if uri not in self._documents:
            path = Path(url2pathname(urlsplit(uri).path))
            try:
                self._documents[uri] = _parse(path.read_text(encoding="utf-8"))
            except FileNotFoundError as error:
                raise RefError(f"fichier référencé introuvable : {ref}") from error
            except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
                raise RefError(f"fichier référencé illisible : {ref} ({_describe(error)})") from error
        return self._documents[uri]


def read_contract(path: Path) -> Contract:
    """The contract at `path`; `LoadError` when it is unreadable or not a contract."""
    try:
        data = _parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise LoadError(f"{path} : fichier introuvable") from error
    except (OSError, UnicodeDecodeError) as error:
        raise LoadError(f"{path} : fichier illisible ({_describe(error)})") from error
    except yaml.YAMLError as error:
        raise LoadError(f"{path} : ni YAML ni JSON ({_describe(error)})") from error
    if isinstance(data, dict) and ("openapi" in data or "swagger" in data):
        return Contract(path, data, "openapi")
    if isinstance(data, dict) and "contratDeService" in data:
        return Contract(path, data, "service")
    raise LoadError(f"{path} : ni un contrat OpenAPI (champ openapi ou swagger) ni un contrat de service")


def pointer(*tokens: str) -> str:
    """The JSON pointer (RFC 6901) of `tokens`."""
    return "".join("/" + token.replace("~", "~0").replace("/", "~1") for token in tokens)


def _pointer_tokens(text: str) -> tuple[str, ...]:
    if not text:
        return ()
    if not text.startswith("/"):
        raise RefError(f"pointeur JSON invalide : {text}")
    return tuple(token.replace("~1", "/").replace("~0", "~") for token in text[1:].split("/"))


def _step(value: Any, token: str, ref: str) -> Any:
    try:
        return value[int(token)] if isinstance(value, list) else value[token]
    except (KeyError, IndexError, ValueError, TypeError) as error:
        raise RefError(f"référence introuvable : {ref}") from error


def _parse(text: str) -> Any:
    """JSON first (exact), else YAML (a superset of most JSON)."""
    try:
        return json.loads(text)
    except ValueError:
        return yaml.safe_load(text)


def _describe(error: Exception) -> str:
    """A one-line account of a read or parse error (YAML errors give their line and column)."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        return f"{error.problem}, ligne {mark.line + 1}, colonne {mark.column + 1}"
    if isinstance(error, OSError):
        return error.strerror or type(error).__name__
    return " ".join(str(error).split()) or type(error).__name__


def _mapping(node: Node | None) -> Iterator[tuple[str, Node]]:
    if node is not None and isinstance(node.value, dict):
        yield from node.children()


def _structure_children(node: Node) -> list[tuple[Node, bool]]:
    """Children of a non-schema node, each flagged when it is a schema."""
    in_schemas = node.tokens[-2:] == ("components", "schemas") or node.tokens == ("definitions",)
    return [
        (child, in_schemas or key == "schema")
        for key, child in node.children()
        if key not in OPAQUE_KEYS and not key.startswith("x-")
    ]


def _schema_children(node: Node) -> list[tuple[Node, bool]]:
    """The subschemas of a schema: properties, items, additionalProperties, not, allOf/anyOf/oneOf."""
    found: list[Node] = [child for _, child in _mapping(node.get("properties"))]
    for key in SCHEMA_KEYS:
        child = node.get(key)
        if child is not None and isinstance(child.value, dict):
            found.append(child)
        elif child is not None and isinstance(child.value, list):
            found += [item for _, item in child.children()]
    for key in SCHEMA_LIST_KEYS:
        child = node.get(key)
        if child is not None:
            found += [item for _, item in child.children()]
    return [(child, True) for child in found]
