"""Benchmark of the archive mode: a big archive through the real SFTP server, and archives at a fixed rate.

    .venv/bin/python load/bench_archive.py [--octets 1000000000] [--cadence 3x200000000/10] [--json bench.json]

1. one archive of `--octets` (a tar: its manifest and one piece) put in `entrant/`: the delay until its
   notice is published (download, streaming extraction, hashing, durable records) ÷ the raw SFTP download of
   the same bytes by the same client in the same run — target ≤ 1.3 times; and the peak RSS growth of this
   process (the reference runs in it) during that archive — target ≤ 64 MiB (streaming, never whole in memory);
2. `--cadence NxBYTES/SECONDS`: N archives of BYTES, one every SECONDS: each one's notice delay (put →
   notice) and return delay (notice → return received by the ASP's mock), against the service contract's
   `modeDossier` deadlines.

A locust profile does not fit: locust drives request/response clients, an archive is a file put then watched
for; this runner puts files as the ASP does and polls the outbound folder. Everything runs in this process on
127.0.0.1 (the machine is shared: the figures vary from run to run). It prints the table and exits 0 whatever
the figures: timings are figures, never verdicts of a test.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import json
import os
import tarfile
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncssh
import isodate
import psutil
from rich.console import Console
from rich.table import Table

from harness.campaign.environment import Environment, EnvironmentOptions
from harness.foundations.archive_convention import INBOUND, MANIFEST, temporary_name
from harness.foundations.contracts import SERVICE_CONTRACT, contract_path
from harness.foundations.polling import wait_until
from harness.foundations.service_contract import load_service_contract
from harness.reference.archives.remote import SFTP_BLOCK_BYTES
from harness.reference.settings import ArchiveLimits
from mocks.depot import DepositServer
from mocks.depot.archives import Piece, manifest
from mocks.depot.sftp import LOOPBACK

CHUNK = 8 * 1024 * 1024
BIG_LIMITS = ArchiveLimits(entry_bytes=4 * 1024**3, total_bytes=4 * 1024**3)
SAMPLE_SECONDS = 0.05
TIMEOUT_SECONDS = 3600.0
METADATA = {"applicationSource": "BANC", "identifiantDossier": "DOS-BANC", "numeroIteration": 1}
console = Console()


def write_tar(path: Path, archive_id: str, size: int) -> None:
    """A tar of one piece of `size` random bytes and its manifest, written in streaming (never in memory)."""
    piece = path.with_suffix(".piece")
    digest = hashlib.sha256()
    with piece.open("wb") as sink:
        for offset in range(0, size, CHUNK):
            chunk = os.urandom(min(CHUNK, size - offset))
            digest.update(chunk)
            sink.write(chunk)
    declared = manifest(archive_id, METADATA, [Piece({"scan.bin": b""})])
    declared["pieces"][0]["documents"][0] |= {"tailleOctets": size, "empreinte": empreinte_of(digest)}
    content = json.dumps(declared).encode()
    with tarfile.open(path, mode="w", format=tarfile.PAX_FORMAT) as bundle:
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(content)
        bundle.addfile(info, io.BytesIO(content))
        info = tarfile.TarInfo("pieces/scan.bin")
        info.size = size
        with piece.open("rb") as source:
            bundle.addfile(info, source)
    piece.unlink()


def empreinte_of(digest: Any) -> dict[str, str]:
    return {"algorithme": "SHA-256", "valeur": digest.hexdigest()}


def publish(depot: DepositServer, built: Path, name: str) -> float:
    """Move a built archive into `entrant/` atomically (same file system); the instant it is published."""
    inbound = depot.space() / INBOUND
    temporary = inbound / temporary_name(name)
    built.rename(temporary)
    temporary.rename(inbound / name)
    return time.monotonic()


def raw_download(depot: DepositServer, path: Path, target: Path) -> float:
    """Seconds the reference's SFTP client takes to download `path` (in the titulaire's space) to `target`."""

    async def download() -> float:
        access = depot.access
        async with (
            asyncssh.connect(
                LOOPBACK,
                depot.sftp_port,
                username=access.user,
                client_keys=[str(access.key)],
                known_hosts=str(depot.known_hosts),
                agent_path=None,
            ) as connection,
            connection.start_sftp_client() as client,
        ):
            start = time.monotonic()
            await client.get(f"/{path.relative_to(depot.space())}", str(target), block_size=SFTP_BLOCK_BYTES)
            return time.monotonic() - start

    return asyncio.run(download())


@contextmanager
def peak_rss() -> Iterator[dict[str, int]]:
    """The peak RSS growth of this process while the block runs, sampled (`growth` in bytes)."""
    process = psutil.Process()
    figures = {"start": process.memory_info().rss, "peak": 0}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(SAMPLE_SECONDS):
            figures["peak"] = max(figures["peak"], process.memory_info().rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield figures
    finally:
        done.set()
        sampler.join()
        figures["growth"] = max(0, figures["peak"] - figures["start"])


def notice_of(depot: DepositServer, archive_id: str) -> dict[str, Any]:
    return wait_until(lambda: depot.notice(archive_id), f"notification de {archive_id}", TIMEOUT_SECONDS, every=0.02)


def big_archive(env: Environment, work: Path, size: int) -> dict[str, float]:
    depot = env.depot
    assert depot is not None
    raw = depot.space() / "etalon.bin"
    write_tar(raw, "ETALON", size)  # the same bytes, give or take the manifest, outside `entrant/`
    raw_seconds = raw_download(depot, raw, work / "etalon-recu.bin")
    raw.unlink()
    (work / "etalon-recu.bin").unlink()
    built = work / "GROS.tar"
    write_tar(built, "GROS", size)
    with peak_rss() as memory:
        start = publish(depot, built, "GROS.tar")
        notice = notice_of(depot, "GROS")
        seconds = time.monotonic() - start
    assert notice["statut"] == "ACCEPTEE", notice
    return {
        "octets": notice["tailleOctets"],
        "sftpBrutSecondes": raw_seconds,
        "notificationSecondes": seconds,
        "rapport": seconds / raw_seconds,
        "croissanceRssMio": memory["growth"] / 1024**2,
    }


def cadence(env: Environment, work: Path, count: int, size: int, every: float) -> list[dict[str, float]]:
    depot = env.depot
    assert depot is not None
    inspector = env.inspector()
    figures, started = [], []
    for number in range(count):
        built = work / f"CADENCE-{number}.tar"
        write_tar(built, f"CADENCE-{number}", size)
        next_at = (started[0] + number * every) if started else time.monotonic()
        time.sleep(max(0.0, next_at - time.monotonic()))
        started.append(publish(depot, built, built.name))
    for number, start in enumerate(started):
        notice = notice_of(depot, f"CADENCE-{number}")
        noticed = time.monotonic()
        inspector.wait_for_return(notice["idDepot"], timeout=TIMEOUT_SECONDS)
        figures.append({"notificationSecondes": noticed - start, "retourSecondes": time.monotonic() - noticed})
    return figures


def deadlines() -> dict[str, float]:
    mode = load_service_contract(contract_path(SERVICE_CONTRACT))["modeDossier"]
    return {
        key: isodate.parse_duration(mode[key]).total_seconds() for key in ("delaiMaxNotification", "delaiMaxRetour")
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--octets", type=int, default=1_000_000_000)
    parser.add_argument("--cadence", default="3x200000000/10", help="N x OCTETS / SECONDES")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    count, rest = args.cadence.split("x")
    size, every = rest.split("/")
    with tempfile.TemporaryDirectory(prefix="banc-archives-") as directory:
        work = Path(directory)
        options = EnvironmentOptions(archives="sftp", archive_limits=BIG_LIMITS, reference={"poll_seconds": 0.1})
        with Environment(work / "env", options) as env:
            results = {
                "grosse": big_archive(env, work, args.octets),
                "cadence": cadence(env, work, int(count), int(size), float(every)),
                "delais": deadlines(),
            }
    show(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def show(results: dict[str, Any]) -> None:
    big = results["grosse"]
    table = Table(title="Mode dossier (SFTP, 127.0.0.1)")
    for column in ("mesure", "valeur", "cible"):
        table.add_column(column)
    table.add_row("archive", f"{big['octets']} octets", "")
    table.add_row("téléchargement SFTP brut", f"{big['sftpBrutSecondes']:.2f} s", "")
    table.add_row("dépôt → notification", f"{big['notificationSecondes']:.2f} s", "")
    table.add_row("rapport", f"{big['rapport']:.2f}", "≤ 1,3")
    table.add_row("croissance RSS (pic)", f"{big['croissanceRssMio']:.1f} Mio", "≤ 64 Mio")
    limits = results["delais"]
    for number, figure in enumerate(results["cadence"]):
        table.add_row(
            f"cadence #{number} : notification / retour",
            f"{figure['notificationSecondes']:.2f} s / {figure['retourSecondes']:.2f} s",
            f"≤ {limits['delaiMaxNotification']:.0f} s / ≤ {limits['delaiMaxRetour']:.0f} s",
        )
    console.print(table)


if __name__ == "__main__":
    main()
