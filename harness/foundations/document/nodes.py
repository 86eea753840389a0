"""A value of a contract document with its place: the file's URI and the tokens of its JSON pointer."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit


def pointer(*tokens: str) -> str:
    """The JSON pointer (RFC 6901) of `tokens`."""
    return "".join("/" + token.replace("~", "~0").replace("/", "~1") for token in tokens)


@dataclass(frozen=True)
class Place:
    """Where a value is written: its file (relative to the current folder when inside it), line and column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


def shown(path: Path) -> str:
    """`path` relative to the current folder when it is inside it (as CI tools name files), else absolute."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def uri_path(uri: str) -> Path:
    """The file a `file:` URI names (POSIX paths: what `urllib.request.url2pathname` does there, without its
    slow import)."""
    return Path(unquote(urlsplit(uri).path))


@dataclass(frozen=True)
class Node:
    """A value inside a contract document; its identity is its file and pointer, never its value."""

    value: Any
    uri: str
    tokens: tuple[str, ...] = ()

    @property
    def pointer(self) -> str:
        return pointer(*self.tokens)

    @property
    def identity(self) -> tuple[str, tuple[str, ...]]:
        return (self.uri, self.tokens)

    def child(self, key: Any) -> Node:
        """The node under `key` of a mapping or (by index) of a list; a missing one has a `None` value."""
        value = self.value.get(key) if isinstance(self.value, dict) else None
        if isinstance(self.value, list) and isinstance(key, int) and 0 <= key < len(self.value):
            value = self.value[key]
        return Node(value, self.uri, (*self.tokens, str(key)))

    def find(self, key: str) -> Node | None:
        """The child at `key` of a mapping, or None when there is none."""
        if isinstance(self.value, dict) and key in self.value:
            return self.child(key)
        return None

    def get(self, key: Any, default: Any = None) -> Any:
        """The raw value at `key` of a mapping, or `default`."""
        return self.value.get(key, default) if isinstance(self.value, dict) else default

    def text(self, key: str) -> str:
        """The string at `key`, or an empty string."""
        value = self.get(key)
        return value if isinstance(value, str) else ""

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

    def elements(self) -> list[Node]:
        """The items of a list node; nothing for anything else."""
        return [item for _, item in self.children()] if isinstance(self.value, list) else []

    def address_from(self, folder: Path) -> str:
        """`file#/pointer`, the file relative to `folder` (for a node of another file than the contract's)."""
        relative = Path(os.path.relpath(uri_path(self.uri), folder)).as_posix()
        return f"{relative}#{self.pointer}"
