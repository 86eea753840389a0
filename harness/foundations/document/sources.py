"""Where contract files are read from: the working tree, or one revision of a git repository.

A contract named `REF:PATH` (`origin/main:contracts/titulaire/v1/openapi.yaml`) is read through git
(`git cat-file`), and so is every file its relative `$ref`s reach: the whole contract comes from that one
revision, without a temporary copy. As in git, `PATH` is relative to the repository's top folder, or to
the current folder when it starts with `./` or `../`. A name that is an existing file is always a plain path.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from harness.foundations.document.reading import LoadError

GIT_TIMEOUT_SECONDS = 60


class Source(Protocol):
    """Reads the text of a contract file, and names it in messages."""

    def read_text(self, path: Path) -> str:
        """The file's text; `FileNotFoundError` when it is absent, `OSError` or `UnicodeDecodeError` else."""
        ...

    def name(self, path: Path) -> str:
        """How messages name the file."""
        ...


@dataclass(frozen=True)
class WorkingTree:
    """Files as they are on disk."""

    def read_text(self, path: Path) -> str:
        return path.read_text(encoding="utf-8")

    def name(self, path: Path) -> str:
        return str(path)


@dataclass(frozen=True)
class GitRevision:
    """Files as they are in the revision `ref` of the repository whose top folder is `top`."""

    top: Path
    ref: str

    def relative(self, path: Path) -> str:
        """The path of `path` in the repository; `FileNotFoundError` for a file outside it."""
        try:
            return Path(os.path.normpath(path)).relative_to(self.top).as_posix()
        except ValueError as error:
            raise FileNotFoundError(f"{path} est hors du dépôt git {self.top}") from error

    def read_text(self, path: Path) -> str:
        blob = f"{self.ref}:{self.relative(path)}"
        found = _git(self.top, "cat-file", "blob", blob)
        if found.returncode != 0:
            raise FileNotFoundError(f"{blob} absent de la révision")
        return found.stdout.decode("utf-8")

    def name(self, path: Path) -> str:
        try:
            return f"{self.ref}:{self.relative(path)}"
        except FileNotFoundError:
            return str(path)


@dataclass(frozen=True)
class Input:
    """A contract named on the command line: its path (absolute for a git revision) and where it is read."""

    path: Path
    source: Source

    @property
    def name(self) -> str:
        return self.source.name(self.path)


def contract_input(text: str, cwd: Path | None = None) -> Input:
    """`PATH`, or `REF:PATH` read in that git revision; `LoadError` for an unknown revision or no repository."""
    folder = cwd or Path.cwd()
    ref, colon, inner = text.partition(":")
    if not colon or not ref or not inner or (folder / text).is_file():
        return Input(Path(text), WorkingTree())
    return in_revision(ref, inner, folder)


def in_revision(ref: str, inner: str, cwd: Path) -> Input:
    """The file `inner` (relative as `contract_input` says) in the git revision `ref` of the repository at `cwd`."""
    top = _git(cwd, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise LoadError(f"{ref}:{inner} : {cwd} n'est pas dans un dépôt git")
    root = Path(os.path.normpath(top.stdout.decode().strip()))
    if _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode != 0:
        raise LoadError(f"{ref}:{inner} : révision git inconnue « {ref} »")
    relative_to_cwd = inner.startswith(("./", "../"))
    path = Path(os.path.normpath((cwd.resolve() if relative_to_cwd else root) / inner))
    return Input(path, GitRevision(root, ref))


def same_file_in(ref: str, contract: Input, cwd: Path | None = None) -> Input:
    """The file of `contract` as it is in the git revision `ref` (`recette gate --base-ref`)."""
    folder = cwd or Path.cwd()
    path = contract.path if contract.path.is_absolute() else folder.resolve() / contract.path
    return in_revision(ref, "./" + os.path.relpath(os.path.normpath(path), folder.resolve()), folder)


def _git(folder: Path, *arguments: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", "-C", str(folder), *arguments], capture_output=True, timeout=GIT_TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise LoadError(f"git n'a pas répondu dans {folder} ({type(error).__name__})") from error
