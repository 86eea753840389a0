"""`recette certificats --config recette.toml`: prepare the ASP side's folder (`callback.dir`) once, before the
vendor configures its platform, and print what to hand over.

Reads only `callback.url`, `callback.dir` and `callback.listen` (of the file, then the `RECETTE_*` variables);
idempotent: what exists is reused (the server certificate is re-issued by the same CA when `callback.url`'s host
changed). A bad setting is one French line and exit code 2.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from harness.campaign.asp_side import HANDED_CA, HANDED_CLIENT_CERT, HANDED_SETTINGS, HANDOVER, AspSide, AspSideError
from harness.campaign.config import (
    BY_FIELD,
    ConfigError,
    Environment,
    RunConfig,
    https_url,
    split_address,
    toml_source,
)
from harness.campaign.results import EXIT_NOT_RUN
from harness.foundations.servers import LOOPBACK

T = TypeVar("T")


class CertificatesError(click.ClickException):
    """The folder could not be prepared: one line on stderr, exit code 2."""

    exit_code = EXIT_NOT_RUN


@click.command()
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), required=True)
def certificats(config_file: Path) -> None:
    """Prépare le dossier du côté ASP (callback.dir) : AC, certificats, émetteur des retours, fichiers à remettre."""
    try:
        url, directory, host = _settings(config_file)
        side = AspSide.provision(directory, url, host)
    except (ConfigError, AspSideError, OSError, ValueError) as error:
        raise CertificatesError(str(error)) from error
    _print_handover(side)


def _settings(config_file: Path) -> tuple[str, Path, str]:
    """`callback.url` (checked), `callback.dir` and the listening address of the file and the environment."""
    values: dict[str, Any] = toml_source(config_file)() | Environment(RunConfig, os.environ)()
    for name in ("callback_url", "callback_dir"):
        if not values.get(name):
            raise ConfigError(f"réglage manquant : {BY_FIELD[name].label}")
    url = _checked("callback_url", https_url, str(values["callback_url"]))
    listen = values.get("callback_listen")
    host = _checked("callback_listen", split_address, str(listen))[0] if listen else LOOPBACK
    return url, Path(values["callback_dir"]), host


def _checked(name: str, check: Callable[[str], T], value: str) -> T:
    """`check(value)`, its ValueError a `ConfigError` naming the setting."""
    try:
        return check(value)
    except ValueError as error:
        raise ConfigError(f"{BY_FIELD[name].label} : {error}") from None


def _print_handover(side: AspSide) -> None:
    folder, settings = side.directory / HANDOVER, side.returns_settings()
    lines = [
        f"Dossier du côté ASP : {side.directory}",
        "",
        f"À remettre au titulaire ({folder}) :",
        f"  AC à approuver (serveur des retours, client de l'ASP) : {folder / HANDED_CA}",
        f"  Certificat client de l'ASP à accepter sur son API    : {folder / HANDED_CLIENT_CERT}",
        f"  Client des retours (secret compris, droits 600)       : {folder / HANDED_SETTINGS}",
        "",
        "À configurer sur la plateforme :",
        f"  URL des retours : {settings['url_retours']}",
        f"  Émetteur (OIDC) : {settings['emetteur']}",
        f"  Point de jeton  : {settings['point_de_jeton']}",
        f"  Client          : {settings['client_id']} (client_secret_basic ; secret dans {HANDED_SETTINGS})",
        f"  Portée          : {settings['portee']}",
        f"  Audience        : {settings['audience']}",
        "",
        "Dans recette.toml :",
        f'  [client] cert = "{side.certs.asp_client.cert}"',
        f'           key = "{side.certs.asp_client.key}"',
    ]
    click.echo("\n".join(lines))
