"""`recette serve`: the embedded environment on 127.0.0.1 until Ctrl-C or SIGTERM, with ready-to-paste curl lines."""

from __future__ import annotations

import json
import shlex
import signal
import tempfile
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from harness.campaign.environment import Environment, EnvironmentOptions
from harness.foundations.clock import OffsetClock
from harness.foundations.majors import Major

console = Console()


@click.command()
@click.option(
    "--state-file", type=click.Path(dir_okay=False, path_type=Path), help="Fichier JSON décrivant l'environnement."
)
@click.option("--dir", "run_dir", type=click.Path(file_okay=False, path_type=Path), help="Dossier de l'environnement.")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="Date de la référence (AAAA-MM-JJ).")
def serve(state_file: Path | None, run_dir: Path | None, day: datetime | None) -> None:
    """Démarre l'environnement complet sur 127.0.0.1 jusqu'à Ctrl-C ou SIGTERM."""
    run_dir = run_dir or Path(tempfile.mkdtemp(prefix="recette-"))
    state_file = state_file or run_dir / "etat.json"
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    clock = OffsetClock.on(day.date()) if day else OffsetClock()
    with _started(Environment(run_dir, EnvironmentOptions(clock=clock))) as env:
        env.write_state(state_file)
        _print_environment(env, state_file)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        console.print("Arrêt de l'environnement…")
    console.print("Environnement arrêté.")


class _started:
    """Start an environment, turning a start-up failure into a one-line error and exit code 2."""

    def __init__(self, env: Environment) -> None:
        self.env = env

    def __enter__(self) -> Environment:
        try:
            return self.env.start()
        except (OSError, RuntimeError) as error:
            raise click.ClickException(f"l'environnement n'a pas démarré : {error}") from error

    def __exit__(self, *_exc: object) -> None:
        self.env.stop()


def _print_environment(env: Environment, state_file: Path) -> None:
    state = env.state()
    console.print(f"API du titulaire       : {state['titulaire']['url']}")
    console.print(f"API de retour (mock)   : {state['asp_callback']['url']}")
    console.print(f"Émetteur OIDC          : {state['oauth']['issuer']}")
    console.print(f"Courriels (SMTP)       : {state['smtp']['host']}:{state['smtp']['port']}")
    console.print(f"AC, certificat client  : {state['tls']['ca']}, {state['tls']['client_cert']}")
    console.print(f"Description (JSON)     : {state_file}")
    console.print("\nDéposer une pièce, puis voir son retour :")
    major = env.current_major()
    console.print(_curl_example(state, state_file, major), highlight=False, markup=False, soft_wrap=True)
    console.print("\nCtrl-C pour arrêter.")


def _curl_example(state: dict[str, Any], state_file: Path, major: Major) -> str:
    """Ready-to-paste shell lines; the client secret is read from the state file, never printed."""
    tls = state["tls"]
    certs = " ".join(
        f"{flag} {shlex.quote(tls[key])}"
        for flag, key in (("--cacert", "ca"), ("--cert", "client_cert"), ("--key", "client_key"))
    )
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
            f"curl -s {certs} {state['asp_callback']['url']}/_inspection/retours",
        ]
    )
