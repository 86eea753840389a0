"""`recette proxy`: the traffic journal of every exchange, in front of a titulaire's API and of the ASP's
callback API, until Ctrl-C or SIGTERM; a live table of the exchanges on the terminal meanwhile.

Mutual TLS on both sides: the proxy presents `--cert` (signed by `--ca`) to its clients and requires theirs
from `--ca`; upstream it presents the ASP's identity to the titulaire and the titulaire's to the ASP. The
journal goes to `<report-dir>/<run-id>/` (journal.jsonl, journal.har, journal.html, rapprochement.json).
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.live import Live
from rich.table import Table

from harness.campaign.config import ProxyTable, load_config, split_address
from harness.campaign.results import EXIT_NOT_RUN
from harness.conformance import max_return_delay
from harness.foundations.billing import LEDGER_NAME, BillingTags, MotifError
from harness.foundations.service_contract import ServiceContractError
from harness.foundations.tls import CertificatePair
from harness.proxy.har import HAR_FILE
from harness.proxy.journal import JOURNAL_FILE, read_journal
from harness.proxy.launcher import ProxyError, ProxyProcess
from harness.proxy.page import PAGE_FILE
from harness.proxy.reconciliation import RECONCILIATION_FILE
from harness.proxy.settings import CALLBACK_LEG, TITULAIRE_LEG, FaultRule, Leg, ProxySettings

console = Console()
PEM = click.Path(exists=True, dir_okay=False, path_type=Path)
SHOWN_ROWS = 20


class ProxyFailed(click.ClickException):
    """The proxy could not start: one line on stderr, exit code 2."""

    exit_code = EXIT_NOT_RUN


@click.command()
@click.option(
    "--titulaire", "titulaire_url", help="URL de l'API du titulaire (https://hôte:port) ; défaut : target.url."
)
@click.option("--callback", "callback_url", required=True, help="URL de l'API de retour de l'ASP (https://hôte:port).")
@click.option("--ca", type=PEM, required=True, help="AC des serveurs amont et des certificats clients exigés.")
@click.option("--cert", type=PEM, required=True, help="Certificat présenté par le proxy à ses clients.")
@click.option("--key", type=PEM, required=True, help="Clé privée de --cert.")
@click.option("--asp-cert", type=PEM, help="Certificat client de l'ASP, présenté au titulaire ; défaut : client.cert.")
@click.option("--asp-key", type=PEM, help="Sa clé privée ; défaut : client.key.")
@click.option("--titulaire-cert", type=PEM, required=True, help="Certificat client du titulaire, présenté à l'ASP.")
@click.option("--titulaire-key", type=PEM, required=True)
@click.option("--port-titulaire", type=int, help="Port d'écoute devant le titulaire (0 : libre) ; défaut : [proxy].")
@click.option("--port-callback", type=int, help="Port d'écoute devant l'API de retour (0 : libre) ; défaut : [proxy].")
@click.option("--motif", default="recette", show_default=True, help="recette, evolution:REF ou build:REF.")
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"))
@click.option("--corps-max", "body_bytes", type=int, help="Corps gardés (octets) ; défaut : [proxy] corps_max, 65536.")
@click.option("--refuser-hors-limite", "refuse", is_flag=True, help="Refuser (413) une transaction de plus de 20 Mo.")
@click.option("--panne", "faults", multiple=True, help="Panne injectée : jambe:delai|503|coupure[:part[:secondes]].")
@click.option("--service-contract", type=PEM, help="Contrat de service (son délai de retour borne le rapprochement).")
@click.option("--config", "config_file", type=PEM, help="recette.toml : sa table [proxy], target.url et client.*.")
def proxy(**options: Any) -> None:
    """Journalise chaque échange entre les applications de l'ASP et le titulaire, dans les deux sens."""
    try:
        options = configured(options)
        tags = BillingTags.create(options["motif"])
        faults = tuple(FaultRule.parse(text) for text in options["faults"])
        delay = max_return_delay(options["service_contract"]).total_seconds()
    except (MotifError, ServiceContractError, ValueError) as error:
        raise ProxyFailed(str(error)) from error
    legs = (
        Leg(TITULAIRE_LEG, options["titulaire_url"], _pair(options, "asp"), *options["ecoute_titulaire"]),
        Leg(CALLBACK_LEG, options["callback_url"], _pair(options, "titulaire"), *options["ecoute_retour"]),
    )
    settings = ProxySettings(
        options["report_dir"] / tags.run_id,
        options["ca"],
        CertificatePair(options["cert"], options["key"]),
        legs,
        tags,
        body_bytes=options["body_bytes"],
        refuse_over_limit=options["refuse"],
        faults=faults,
        max_return_delay_seconds=delay,
        ledger=options["report_dir"] / LEDGER_NAME,
    )
    with started(settings) as running:
        print_urls(running)
        watch(running, until_signal())
    print_outputs(settings)


def configured(options: dict[str, Any]) -> dict[str, Any]:
    """The options completed from `--config` (a ConfigError, a ValueError, when unusable): the titulaire's URL
    and the ASP's certificate from `target.url` and `client.*`, the listen addresses (port, address), kept
    bodies and over-limit refusal from `[proxy]`; what the command line gives wins."""
    config = load_config(options["config_file"]) if options["config_file"] else None
    table = (config.proxy if config else None) or ProxyTable()
    if config is not None:
        defaults = {"titulaire_url": config.target, "asp_cert": config.client_cert, "asp_key": config.client_key}
        options = {**options, **{name: options[name] or value for name, value in defaults.items()}}
    for name, option in (("titulaire_url", "--titulaire"), ("asp_cert", "--asp-cert"), ("asp_key", "--asp-key")):
        if options[name] is None:
            raise ValueError(f"option manquante : {option} (ou --config)")
    return {
        **options,
        "ecoute_titulaire": _listen(table.ecoute_titulaire, options["port_titulaire"]),
        "ecoute_retour": _listen(table.ecoute_retour, options["port_callback"]),
        "body_bytes": table.corps_max if options["body_bytes"] is None else options["body_bytes"],
        "refuse": options["refuse"] or table.refuser_hors_limite,
    }


def _listen(address: str, port: int | None) -> tuple[int, str]:
    """(port, address) of a leg: the table's address, its port unless `port` is given."""
    host, configured_port = split_address(address)
    return (configured_port if port is None else port), host


def _pair(options: dict[str, Any], name: str) -> CertificatePair:
    return CertificatePair(options[f"{name}_cert"], options[f"{name}_key"])


class started:
    """Start the proxy; a failure is one French line and exit code 2."""

    def __init__(self, settings: ProxySettings) -> None:
        self.process = ProxyProcess(settings)

    def __enter__(self) -> ProxyProcess:
        try:
            return self.process.start()
        except ProxyError as error:
            raise ProxyFailed(str(error)) from error

    def __exit__(self, *_exc: object) -> None:
        console.print("Arrêt du proxy…")
        self.process.stop()


def until_signal() -> threading.Event:
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def print_urls(running: ProxyProcess) -> None:
    console.print(f"Proxy devant le titulaire      : {running.urls[TITULAIRE_LEG]}")
    console.print(f"Proxy devant l'API de retour   : {running.urls[CALLBACK_LEG]}")
    console.print(f"Journal                        : {running.settings.run_dir / JOURNAL_FILE}")
    console.print("Ctrl-C pour arrêter.")


def watch(running: ProxyProcess, stop: threading.Event) -> None:
    """The live table of the latest exchanges, read from the journal as it grows, until `stop`."""
    journal = running.settings.run_dir / JOURNAL_FILE
    with Live(table([]), console=console, refresh_per_second=2, transient=False) as live:
        while not stop.wait(0.5):
            live.update(table(read_journal(journal)[-SHOWN_ROWS:]))


def table(lines: list[dict[str, Any]]) -> Table:
    shown = Table("n°", "jambe", "requête", "statut", "octets", "idDepot", "contrat", "rapprochement", "marques")
    for line in lines:
        contract = "ok" if not line["violations"] else f"{len(line['violations'])} violation(s)"
        verdict = (line["rapprochement"] or {}).get("verdict", "")
        shown.add_row(
            str(line["numero"]),
            line["jambe"],
            f"{line['methode']} {line['chemin']}",
            str(line["statut"]),
            str(line["transaction"]["octets"]),
            line["idDepot"] or "",
            contract,
            verdict,
            ", ".join(line["marques"]),
        )
    return shown


def print_outputs(settings: ProxySettings) -> None:
    for name in (JOURNAL_FILE, HAR_FILE, PAGE_FILE, RECONCILIATION_FILE):
        console.print(f"{name:<20}: {settings.run_dir / name}")
