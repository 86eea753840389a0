"""`recette certificats --config recette.toml`: prepare the ASP side's folder (`callback.dir`) once, before the
vendor configures its platform, and print what to hand over.

Reads only `callback.url`, `callback.dir`, `callback.listen`, and `callback.issuer` / `callback.audience` when the
return tokens come from the ASP's own identity provider (of the file, then the `RECETTE_*` variables);
idempotent: what exists is reused (the server certificate is re-issued by the same CA when `callback.url`'s host
changed). A bad setting is one French line and exit code 2.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Wanted:
    """The settings `recette certificats` reads."""

    callback_url: str
    directory: Path
    listen_host: str
    issuer: str | None
    """`callback.issuer`: the ASP's identity provider, where the titulaire's return client is registered."""
    audience: str | None


@click.command()
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), required=True)
def certificats(config_file: Path) -> None:
    """Prépare le dossier du côté ASP (callback.dir) : AC, certificats, émetteur des retours, fichiers à remettre."""
    try:
        wanted = _settings(config_file)
        side = AspSide.provision(wanted.directory, wanted.callback_url, wanted.listen_host)
    except (ConfigError, AspSideError, OSError, ValueError) as error:
        raise CertificatesError(str(error)) from error
    _print_handover(side, wanted)


def _settings(config_file: Path) -> Wanted:
    """`callback.url` (checked), `callback.dir`, the listening address and the ASP's identity provider (checked)
    of the file and the environment."""
    values: dict[str, Any] = toml_source(config_file)() | Environment(RunConfig, os.environ)()
    for name in ("callback_url", "callback_dir"):
        if not values.get(name):
            raise ConfigError(f"réglage manquant : {BY_FIELD[name].label}")
    url = _checked("callback_url", https_url, str(values["callback_url"]))
    listen = values.get("callback_listen")
    host = _checked("callback_listen", split_address, str(listen))[0] if listen else LOOPBACK
    issuer = values.get("callback_issuer")
    issuer = _checked("callback_issuer", https_url, str(issuer)) if issuer else None
    audience = str(values["callback_audience"]) if values.get("callback_audience") else None
    return Wanted(url, Path(values["callback_dir"]), host, issuer, audience)


def _checked(name: str, check: Callable[[str], T], value: str) -> T:
    """`check(value)`, its ValueError a `ConfigError` naming the setting."""
    try:
        return check(value)
    except ValueError as error:
        raise ConfigError(f"{BY_FIELD[name].label} : {error}") from None


def _print_handover(side: AspSide, wanted: Wanted) -> None:
    folder = side.directory / HANDOVER
    lines = [
        f"Dossier du côté ASP : {side.directory}",
        "",
        f"À remettre au titulaire ({folder}) :",
        f"  AC à approuver (serveur des retours, client de l'ASP) : {folder / HANDED_CA}",
        f"  Certificat client de l'ASP à accepter sur son API    : {folder / HANDED_CLIENT_CERT}",
        *_return_client(side, wanted),
        "",
        "Dans recette.toml :",
        f'  [client] cert = "{side.certs.asp_client.cert}"',
        f'           key = "{side.certs.asp_client.key}"',
    ]
    click.echo("\n".join(lines))


def _return_client(side: AspSide, wanted: Wanted) -> list[str]:
    """How the platform gets its return tokens: from the ASP-side issuer (its client handed over), or from the
    ASP's identity provider (`callback.issuer`), where the ASP registers the titulaire's client itself."""
    settings = side.returns_settings()
    if wanted.issuer is None:
        return [
            f"  Client des retours (secret compris, droits 600)       : {side.directory / HANDOVER / HANDED_SETTINGS}",
            "",
            "À configurer sur la plateforme :",
            f"  URL des retours : {settings['url_retours']}",
            f"  Émetteur (OIDC) : {settings['emetteur']}",
            f"  Point de jeton  : {settings['point_de_jeton']}",
            f"  Client          : {settings['client_id']} (client_secret_basic ; secret dans {HANDED_SETTINGS})",
            f"  Portée          : {settings['portee']}",
            f"  Audience        : {settings['audience']}",
        ]
    return [
        "",
        "À configurer sur la plateforme :",
        f"  URL des retours : {settings['url_retours']}",
        f"  Émetteur (OIDC) : {wanted.issuer} (fournisseur d'identité de l'ASP, callback.issuer : le client des "
        f"retours y est enregistré par l'ASP ; {HANDED_SETTINGS} ne sert pas)",
        f"  Portée          : {settings['portee']}",
        f"  Audience        : {wanted.audience or settings['audience']}",
    ]
