"""`recette serve`: the embedded environment on 127.0.0.1 until Ctrl-C or SIGTERM, with ready-to-paste curl lines;
`recette serve --cote-asp --config recette.toml`: only the ASP side a real platform talks to (its receiver, issuer
and SMTP catcher, from `callback.dir`), for as long as the vendor needs.

With `--dir`, the environment lives in that folder and keeps it: started again on it, the mock callback finds
its journal of returns. Without, it lives in a temporary folder removed at the stop (CA private key included).
Any start-up error is one French line and exit code 2.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import tempfile
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from harness.campaign.asp_side import AspSideError
from harness.campaign.config import CONFIG_VARIABLE, ConfigError, load_config
from harness.campaign.environment import Environment, EnvironmentOptions
from harness.campaign.receiver import ReturnReceiver
from harness.campaign.results import EXIT_NOT_RUN
from harness.foundations.allocator import keep_freed_memory
from harness.foundations.clock import OffsetClock
from harness.foundations.majors import Major
from mocks.asp import JOURNAL_FILE
from mocks.depot.archives import Piece, build

console = Console()


class ServeError(click.ClickException):
    """The environment could not start: one line on stderr, exit code 2."""

    exit_code = EXIT_NOT_RUN


@click.command()
@click.option(
    "--state-file", type=click.Path(dir_okay=False, path_type=Path), help="Fichier JSON décrivant l'environnement."
)
@click.option(
    "--dir",
    "run_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Dossier de l'environnement, conservé (repris tel quel au redémarrage) ; sinon un dossier temporaire.",
)
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="Date de la référence (AAAA-MM-JJ).")
@click.option(
    "--cote-asp",
    "asp_side",
    is_flag=True,
    help="Seulement le côté ASP de recette.toml (récepteur, émetteur des retours, SMTP), pour une plateforme réelle.",
)
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help="recette.toml.")
@click.option("--proxy", "with_proxy", is_flag=True, help="Placer le proxy de recette sur les deux jambes (journal).")
def serve(
    state_file: Path | None,
    run_dir: Path | None,
    day: datetime | None,
    asp_side: bool,
    config_file: Path | None,
    with_proxy: bool = False,
) -> None:
    """Démarre l'environnement complet sur 127.0.0.1 (ou le seul côté ASP : --cote-asp) jusqu'à Ctrl-C ou SIGTERM."""
    if config_file is not None and not asp_side:
        raise ServeError("--config ne sert qu'avec --cote-asp")
    if asp_side and config_file is None and not os.environ.get(CONFIG_VARIABLE):
        raise ServeError(f"--cote-asp demande --config recette.toml (ou {CONFIG_VARIABLE})")
    if asp_side and with_proxy:
        raise ServeError("--proxy se place devant l'environnement embarqué, pas devant le seul côté ASP")
    if state_file is not None and not state_file.parent.is_dir():
        raise ServeError(f"le dossier du fichier d'état n'existe pas : {state_file.parent}")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    keep_freed_memory()  # a process serving 20 MB bodies (allocator.py)
    if asp_side:
        _serve_asp_side(config_file, run_dir, stop)
        return
    clock = OffsetClock.on(day.date()) if day else OffsetClock()
    with _environment_directory(run_dir) as directory:
        state_file = state_file or directory / "etat.json"
        proxied = ProxiedServe(with_proxy)
        options = EnvironmentOptions(clock=clock, reference=proxied.reference_settings())
        with _started(Environment(directory, options), state_file) as env, proxied.started(env, state_file):
            _print_environment(env, state_file)
            proxied.print_proxy(env, state_file)
            _print_depot(env, directory)
            console.print("\nCtrl-C pour arrêter.")
            while not stop.wait(0.5):
                pass
            console.print("Arrêt de l'environnement…")
    console.print("Environnement arrêté.")


@contextlib.contextmanager
def _environment_directory(run_dir: Path | None) -> Iterator[Path]:
    """`run_dir` (kept), else a temporary folder removed at the end."""
    if run_dir is not None:
        yield run_dir
        return
    with tempfile.TemporaryDirectory(prefix="recette-") as directory:
        yield Path(directory)


class _started:
    """Start an environment and write its state file; any failure is a one-line error and exit code 2."""

    def __init__(self, env: Environment, state_file: Path) -> None:
        self.env, self.state_file = env, state_file

    def __enter__(self) -> Environment:
        try:
            self.env.start()
        except Exception as error:
            raise ServeError(f"l'environnement n'a pas démarré : {error}") from error
        try:
            self.env.write_state(self.state_file)
        except OSError as error:
            self.env.stop()
            raise ServeError(f"fichier d'état impossible à écrire ({self.state_file}) : {error.strerror}") from error
        return self.env

    def __exit__(self, *_exc: object) -> None:
        self.env.stop()


def _print_environment(env: Environment, state_file: Path) -> None:
    state = env.state()
    console.print(f"API du titulaire       : {state['titulaire']['url']}")
    console.print(f"API de retour (mock)   : {state['asp_callback']['url']}")
    console.print(f"Journal des retours    : {state['asp_callback']['journal']}")
    console.print(f"Émetteur OIDC          : {state['oauth']['issuer']}")
    console.print(f"Courriels (SMTP)       : {state['smtp']['host']}:{state['smtp']['port']}")
    console.print(f"AC, certificat client  : {state['tls']['ca']}, {state['tls']['client_cert']}")
    console.print(f"Certificat de recette  : {state['tls']['recette_cert']} (seul admis sur /_inspection)")
    console.print(f"Description (JSON)     : {state_file}")
    console.print("\nDéposer une pièce, puis voir son retour :")
    major = env.current_major()
    console.print(_curl_example(state, state_file, major), highlight=False, markup=False, soft_wrap=True)


def _curl_flags(tls: dict[str, str], cert: str, key: str) -> str:
    flags = (("--cacert", "ca"), ("--cert", cert), ("--key", key))
    return " ".join(f"{flag} {shlex.quote(tls[name])}" for flag, name in flags)


def _curl_example(state: dict[str, Any], state_file: Path, major: Major) -> str:
    """Ready-to-paste shell lines; the client secret is read from the state file, never printed."""
    certs = _curl_flags(state["tls"], "client_cert", "client_key")
    recette = _curl_flags(state["tls"], "recette_cert", "recette_key")
    secret = (
        '$(python3 -c \'import json,sys; print(json.load(sys.stdin)["oauth"]["clients"][0]["client_secret"])\' '
        f"< {shlex.quote(str(state_file))})"
    )
    token = "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])'"
    internal = {
        "applicationSource": "DEMO",
        "referenceContrat": "M-1",
        "identifiantDossier": "DOS-1",
        "numeroIteration": 1,
    }
    metadonnees = json.dumps(major.wire_metadata(internal), separators=(",", ":"))
    return "\n".join(
        [
            f"TOKEN=$(curl -s {certs} -u asp-recette:{secret} -d grant_type=client_credentials "
            f"{state['oauth']['token_url']} | {token})",
            f'curl -s {certs} -H "Authorization: Bearer $TOKEN" '
            f"-F 'metadonnees={metadonnees};type=application/json' -F 'document=@/etc/hostname;type=text/plain' "
            f"{state['titulaire']['url']}{major.path('/depots')}",
            f"curl -s {recette} {state['asp_callback']['url']}/_inspection/retours",
        ]
    )


def _serve_asp_side(config_file: Path | None, run_dir: Path | None, stop: threading.Event) -> None:
    """The ASP side of `recette.toml` (its `callback.dir`) until `stop`; its journal in `run_dir` (kept) or a
    temporary folder."""
    try:
        config = load_config(config_file)
    except ConfigError as error:
        raise ServeError(str(error)) from error
    with _environment_directory(run_dir) as directory:
        try:
            receiver = ReturnReceiver(config, directory / "tls", directory / "asp" / JOURNAL_FILE).start()
        except (OSError, RuntimeError, AspSideError) as error:
            raise ServeError(f"le côté ASP n'a pas démarré ({config.callback_url}) : {error}") from error
        try:
            click.echo("\n".join(receiver.announcement()))
            click.echo(f"Journal des retours    : {receiver.recorder.journal}")
            click.echo(f"Certificat de recette  : {receiver.certs.recette_client.cert} (seul admis sur /_inspection)")
            click.echo("\nCtrl-C pour arrêter.")
            while not stop.wait(0.5):
                pass
        finally:
            receiver.stop()
    click.echo("Côté ASP arrêté.")


# -- `--proxy`: the recette proxy in front of both legs of the embedded environment ----------------------
# (its imports are local: this block stays whole beside the other helpers' additions to this file)


class ProxiedServe:
    """With `--proxy`: the reference posts its returns to the proxy's callback leg, the proxy forwards to the
    mock ASP; the state file gets a `proxy` key (its URLs, its journal in `reports/<run-id>/`)."""

    def __init__(self, enabled: bool) -> None:
        from harness.proxy.embedded import EmbeddedProxy

        self.enabled, self.proxy = enabled, EmbeddedProxy(enabled)

    def reference_settings(self) -> dict[str, Any]:
        return self.proxy.reference_settings()

    @contextlib.contextmanager
    def started(self, env: Environment, state_file: Path) -> Iterator[None]:
        from harness.cli.proxy import ProxyFailed
        from harness.foundations.billing import BillingTags
        from harness.proxy.launcher import ProxyError

        tags = BillingTags.create().on_embedded_reference()
        try:
            with self.proxy.started(env, Path("reports"), tags) as running:
                if running is not None:
                    state = json.loads(state_file.read_text(encoding="utf-8"))
                    state["proxy"] = {
                        "titulaire": running.urls["titulaire"],
                        "asp_callback": running.urls["asp-callback"],
                        "journal": str(running.settings.run_dir.resolve() / "journal.jsonl"),
                    }
                    state_file.write_text(json.dumps(state, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
                yield
        except ProxyError as error:
            raise ProxyFailed(str(error)) from error

    def print_proxy(self, env: Environment, state_file: Path) -> None:
        if not self.enabled:
            return
        state = json.loads(state_file.read_text(encoding="utf-8"))
        console.print(f"\nProxy devant le titulaire : {state['proxy']['titulaire']}")
        console.print(f"Proxy devant l'API de retour : {state['proxy']['asp_callback']}")
        console.print(f"Journal des échanges : {state['proxy']['journal']}")
        console.print("Déposer une pièce à travers le proxy :")
        through = state | {"titulaire": {"url": state["proxy"]["titulaire"]}}
        example = _curl_example(through, state_file, env.current_major())
        console.print(example, highlight=False, markup=False, soft_wrap=True)


# -- the ASP's deposit server (mode dossier) -------------------------------------------------------

SAMPLE_ID = "DOSSIER-EXEMPLE"


def _print_depot(env: Environment, directory: Path) -> None:
    """Where the deposit server listens, and the OpenSSH `sftp` lines that put a sample archive by hand."""
    if env.depot is None:
        return
    depot = env.depot.state()
    sample = _sample_archive(directory)
    command = env.depot.sftp_command("-b", "-")
    part = f"/entrant/.{sample.name}.part"
    console.print(f"\nServeur de dépôt (SFTP) : {depot['sftp']['host']}:{depot['sftp']['port']}")
    console.print(f"Serveur de dépôt (FTPS) : {depot['ftps']['host']}:{depot['ftps']['port']} (TLS explicite)")
    console.print(f"Journal des échanges    : {depot['journal']}")
    console.print("Déposer l'archive d'exemple par SFTP (nom temporaire puis renommage), puis lire sa notification :")
    lines = [
        f"printf 'put {sample} {part}\\nrename {part} /entrant/{sample.name}\\n' | {command}",
        f"echo 'get /sortant/{SAMPLE_ID}.notification.json {directory}/' | {command}",
    ]
    console.print("\n".join(lines), highlight=False, markup=False, soft_wrap=True)


def _sample_archive(directory: Path) -> Path:
    """A valid archive (manifest, one piece of two documents) written in the environment's folder."""
    metadata = {"applicationSource": "DEMO", "identifiantDossier": "DOS-1", "numeroIteration": 1}
    piece = Piece({"facture-1.pdf": b"%PDF-1.7\n%%EOF\n", "facture-2.pdf": b"%PDF-1.7\n%%EOF\n\n"})
    name, content = build(SAMPLE_ID, "zip", metadata, [piece])
    path = directory / name
    path.write_bytes(content)
    return path
