"""A contract file as read: an OpenAPI (or Swagger 2.0) document, or a service contract, walked with its `$ref`s."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from harness.foundations.document.dialects import HTTP_METHODS, SCHEMA_CONTAINERS, Dialect, dialect_of, family_of
from harness.foundations.document.nodes import Node, Place
from harness.foundations.document.reading import LoadError, Parsed, read_parsed
from harness.foundations.document.references import RefError, Resolver
from harness.foundations.document.sources import Source, WorkingTree

Kind = Literal["openapi", "service", "json-schema"]

SCHEMA_LIST_KEYS = ("allOf", "anyOf", "oneOf")
SCHEMA_KEYS = ("items", "additionalProperties", "not")
# Literal values, never walked as contract structure.
OPAQUE_KEYS = frozenset({"example", "examples", "enum", "const"})


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
class Document:
    """A contract file as read, with the resolver of its `$ref`s."""

    path: Path
    data: dict[str, Any]
    kind: Kind
    resolver: Resolver = field(default_factory=Resolver, repr=False)

    def __post_init__(self) -> None:
        self.resolver.files.setdefault(self.uri, Parsed("", self.data))

    @functools.cached_property
    def uri(self) -> str:
        return self.path.resolve().as_uri()

    @property
    def name(self) -> str:
        """How messages name the file: its path, or `REF:PATH` for a file read in a git revision."""
        return self.resolver.source.name(self.path)

    def place(self, node: Node) -> Place:
        """The file, line and column where `node` is written (its own file, which may be another than this one)."""
        return self.resolver.place(node)

    def place_of(self, location: str) -> Place:
        """The place of a `location` as `location()` writes it: a JSON pointer, or `file#pointer` relative to
        this contract's folder."""
        in_this_file = location == "" or location.startswith("/")
        file, _, fragment = ("", "", location) if in_this_file else location.partition("#")
        uri = self.uri if in_this_file else (self.folder / file).resolve().as_uri()
        tokens = tuple(t.replace("~1", "/").replace("~0", "~") for t in fragment.split("/")[1:])
        return self.resolver.place(Node(None, uri, tokens))

    @property
    def folder(self) -> Path:
        return self.path.resolve().parent

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
    def dialect(self) -> Dialect:
        return dialect_of(self.data)

    @property
    def is_swagger2(self) -> bool:
        return self.dialect.version_key == "swagger"

    @property
    def family(self) -> str | None:
        """`2.0`, `3.0`, `3.1` or `3.2` when the version is one openapi-spec-validator knows, else None."""
        return family_of(self.data)

    def location(self, node: Node) -> str:
        """Where `node` is: its JSON pointer, prefixed by its file (relative) when it is not this one."""
        return node.pointer if node.uri == self.uri else node.address_from(self.folder)

    def resolve(self, node: Node) -> Node:
        """`node` itself, or the target of its `$ref` (chains followed); `RefError` when it leads nowhere."""
        return self.resolver.resolve(node)

    def security_schemes(self) -> dict[str, Node]:
        """The declared security schemes by name, resolved."""
        return self.dialect.security_schemes(self.root, self.resolver)

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
        for template, path_item in _mapping(self.root.find("paths")):
            if template.startswith("/"):
                yield from self._path_operations(template, self.resolve(path_item), callback=False)
        if callbacks:
            for operation in list(self.operations()):
                for _, callback in _mapping(operation.node.find("callbacks")):
                    for expression, path_item in _mapping(self.resolve(callback)):
                        yield from self._path_operations(expression, self.resolve(path_item), callback=True)

    def _path_operations(self, template: str, path_item: Node, *, callback: bool) -> Iterator[Operation]:
        for method in HTTP_METHODS:
            operation = path_item.find(method)
            if operation is not None and isinstance(operation.value, dict):
                yield Operation(template, method, self.resolve(operation), path_item, callback)


def read_contract(path: Path, source: Source | None = None) -> Document:
    """The contract at `path`, read from `source` (the working tree by default); `LoadError` when it is
    unreadable or not a contract."""
    resolver = Resolver(source or WorkingTree())
    name = resolver.source.name(path)
    parsed = read_parsed(path, resolver.source)
    data = parsed.data
    if not isinstance(data, dict):
        raise LoadError(f"{name} : le contenu n'est pas un objet YAML/JSON")
    resolver.files[path.resolve().as_uri()] = parsed
    if "openapi" in data or "swagger" in data:
        return Document(path, data, "openapi", resolver)
    if "contratDeService" in data:
        return Document(path, data, "service", resolver)
    if "$schema" in data:
        return Document(path, data, "json-schema", resolver)  # the archive exchange's (contracts/archives)
    kinds = "ni un contrat OpenAPI (champ openapi ou swagger), ni un contrat de service, ni un schéma JSON ($schema)"
    raise LoadError(f"{name} : {kinds}")


def _mapping(node: Node | None) -> Iterator[tuple[str, Node]]:
    if node is not None and isinstance(node.value, dict):
        yield from node.children()


def _structure_children(node: Node) -> list[tuple[Node, bool]]:
    """Children of a non-schema node, each flagged when it is a schema."""
    in_schemas = node.tokens[-2:] == SCHEMA_CONTAINERS[0] or node.tokens == SCHEMA_CONTAINERS[1]
    return [
        (child, in_schemas or key == "schema")
        for key, child in node.children()
        if key not in OPAQUE_KEYS and not key.startswith("x-")
    ]


def _schema_children(node: Node) -> list[tuple[Node, bool]]:
    """The subschemas of a schema: properties, items, additionalProperties, not, allOf/anyOf/oneOf."""
    found: list[Node] = [child for _, child in _mapping(node.find("properties"))]
    for key in SCHEMA_KEYS:
        child = node.find(key)
        if child is not None and isinstance(child.value, dict):
            found.append(child)
        elif child is not None and isinstance(child.value, list):
            found += child.elements()
    for key in SCHEMA_LIST_KEYS:
        child = node.find(key)
        if child is not None:
            found += [item for _, item in child.children()]
    return [(child, True) for child in found]
