"""The `recette` command: a group whose subcommands (one module each) are imported only when one is run.

`recette gate` and `recette lint` thus start without the campaign, pytest or openapi-core.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping

import click

COMMANDS = {
    "serve": "harness.cli.serve:serve",
    "run": "harness.cli.run:run",
    "billing": "harness.cli.run:billing",
    "gate": "harness.cli.gate:gate",
    "lint": "harness.cli.lint:lint",
    "load": "harness.cli.load:load",
    "plis": "harness.cli.plis:plis",
    "certificats": "harness.cli.certificats:certificats",
    "proxy": "harness.cli.proxy:proxy",
}
"""Each subcommand's `module:attribute`."""


class LazyCommands(MutableMapping[str, click.Command]):
    """The group's commands by name, each imported on first access (click reads `Group.commands` as a mapping)."""

    def __init__(self, paths: dict[str, str]) -> None:
        self.paths = dict(paths)
        self.loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self.loaded:
            module, _, attribute = self.paths[name].partition(":")
            self.loaded[name] = getattr(importlib.import_module(module), attribute)
        return self.loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self.loaded[name] = command
        self.paths.setdefault(name, "")

    def __delitem__(self, name: str) -> None:
        del self.paths[name]
        self.loaded.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)


@click.group(commands=LazyCommands(COMMANDS))
@click.version_option(package_name="recette-asp")
def main() -> None:
    """Harnais de qualification des échanges ASP ↔ titulaire."""
