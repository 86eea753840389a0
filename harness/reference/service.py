"""The reference titulaire as a service: its store, worker, outbox, incidents and retention, wired.

`Titulaire` holds the business operations the HTTP layer (`app.py`) calls; its `app` runs the worker,
the outbox and the retention purge for as long as the server runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import shutil
import ssl
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from harness.foundations.clock import Clock, utc_now
from harness.foundations.problems import Problem
from harness.foundations.tls import CertificatePair, client_context, server_context
from harness.foundations.tokens import ClientCredentials, ClientCredentialsAuth
from harness.reference.archives.consumer import ArchiveConsumer
from harness.reference.archives.return_channel import ArchiveReturnChannel
from harness.reference.callback_client import CallbackClient
from harness.reference.faults import Fault, arm
from harness.reference.incidents import Incidents
from harness.reference.intake import ReceivedBody
from harness.reference.outbox import Outbox
from harness.reference.paper.mailroom import MailRoom
from harness.reference.return_channels import ReturnChannels
from harness.reference.settings import ReferenceSettings, RetryPolicy
from harness.reference.store import PRIVATE_DIR, DepositRecord, DuplicateIdempotencyKey, Store
from harness.reference.worker import Worker, timestamp

RETRY_AFTER_SECONDS = "1"


@dataclass(frozen=True)
class RunTags:
    """The recette billing tags a deposit came with (X-Recette-Run, X-Recette-Motif), if any."""

    run_id: str | None
    motif: str | None


@dataclass(frozen=True)
class Acceptance:
    """A deposit accepted (or replayed with the same Idempotency-Key): its acknowledgement."""

    deposit: DepositRecord
    replayed: bool = False

    def body(self) -> bytes:
        return render_receipt(self.deposit.id, self.deposit.received_at, self.deposit.body_bytes, self.deposit.digest)


def render_receipt(deposit_id: str, received_at: datetime, body_bytes: int, digest: str) -> bytes:
    """The AccuseReception, compact and fixed-width but for `tailleOctets`, so its size is predictable."""
    receipt = {
        "idDepot": deposit_id,
        "statut": "RECU",
        "recuLe": timestamp(received_at),
        "tailleOctets": body_bytes,
        "empreinte": {"algorithme": "SHA-256", "valeur": digest},
    }
    return compact_json(receipt)


def compact_json(body: dict[str, Any]) -> bytes:
    """JSON without spaces: the receipt's rendering, whose size the transaction limit reserves."""
    return json.dumps(body, separators=(",", ":")).encode()


def receipt_size(body_bytes: int) -> int:
    """Exact size of the receipt answered to a body of `body_bytes`: the response side of a transaction."""
    return len(render_receipt(str(uuid.UUID(int=0)), datetime(2000, 1, 1, tzinfo=UTC), body_bytes, "0" * 64))


class Titulaire:
    """The reference titulaire: accepts deposits, processes each to one frozen return, delivers it at least once."""

    def __init__(self, settings: ReferenceSettings, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.clock = clock
        self.faults = arm(settings.faults)
        """The deliberate defects armed (none in normal use)."""
        self.store = Store(settings.data_dir / "titulaire.sqlite3")
        self.deposits_directory().mkdir(mode=PRIVATE_DIR, exist_ok=True)
        self.incidents = Incidents(self.store, settings, clock, self.faults)
        self.outbox = Outbox(
            self.store,
            ReturnChannels(self._callback_client(), self._archive_return_channel(), self.faults),
            self.incidents,
            clock,
            settings.poll_seconds,
            settings.retry.lease_seconds(),
            self.faults,
            settings.return_delay(),
        )
        self.worker = Worker(self.store, clock, self.outbox.wake, settings.poll_seconds, self.faults)
        self.archives = self._archive_consumer()
        self.mailroom = MailRoom(self.store, settings, clock, self.deposit_directory, self.worker.wake)
        """The mail room (mode papier): plis posted on `POST /_recette/plis`."""
        """The watcher of the ASP's deposit server (mode dossier), when one is configured."""
        self.accepting = True
        self.contract_violations: list[str] = []
        """Responses that left the contract (the tests assert none)."""
        self._in_flight = 0

    def server_context(self, ca: Path, pair: CertificatePair) -> ssl.SSLContext:
        """The TLS context the API listens with: TLS ≥ 1.2, a client certificate of `ca` required."""
        return self.faults.apply(Fault.server_tls, server_context(ca, pair))

    def _callback_client(self) -> CallbackClient:
        """The client of the ASP callback API: mutual TLS, and a Bearer token when a token URL is set."""
        settings = self.settings
        verify = ssl.create_default_context()
        if settings.ca_file is not None:
            pair = settings.client_certificate()
            verify = client_context(settings.ca_file, pair)
        auth: httpx.Auth | None = None
        if settings.callback_token_url is not None:
            credentials = ClientCredentials(
                settings.callback_token_url,
                settings.callback_client_id or "",
                settings.callback_client_secret or "",
                settings.callback_scopes,
            )
            auth = ClientCredentialsAuth(credentials, verify)  # token lifetimes follow the issuer's clock
        auth = self.faults.apply(Fault.callback_auth, auth)
        return CallbackClient(
            settings.callback_url, self._retry_policy(), verify=verify, auth=auth, limit_bytes=settings.limit_bytes
        )

    def _retry_policy(self) -> RetryPolicy:
        return self.faults.apply(Fault.retry_policy, self.settings.retry)

    def _archive_tls(self) -> ssl.SSLContext | None:
        """FTPS's TLS context towards the deposit server (our client certificate); None for SFTP."""
        archives = self.settings.archives
        if archives is None or archives.protocol != "ftps":
            return None
        assert self.settings.ca_file is not None, "FTPS needs the CA of the deposit server (ca_file)"
        return client_context(self.settings.ca_file, self.settings.client_certificate())

    def _archive_return_channel(self) -> ArchiveReturnChannel | None:
        """The return-archive channel, when the archives' returns are agreed on it."""
        archives = self.settings.archives
        if archives is None or archives.return_channel != "archive":
            return None
        return ArchiveReturnChannel(self.store, archives, self._archive_tls(), self._retry_policy(), self.faults)

    def _archive_consumer(self) -> ArchiveConsumer | None:
        archives = self.settings.archives
        if archives is None:
            return None
        return ArchiveConsumer(
            self.store,
            self.settings,
            archives,
            self._archive_tls(),
            self.incidents,
            self.clock,
            self.worker.wake,
            self.faults,
            self.resend,
        )

    def deposit_directory(self, deposit_id: str) -> Path:
        return self.deposits_directory() / deposit_id

    def deposits_directory(self) -> Path:
        return self.settings.data_dir / "depots"

    def remove_debris(self) -> list[str]:
        """Start-up: remove what a crash left on disk (folders of uploads never accepted, or purged); their names."""
        folder = self.deposits_directory()
        debris = [
            entry.name
            for entry in (folder.iterdir() if folder.is_dir() else [])
            if (deposit := self.store.deposit(entry.name)) is None or deposit.purged
        ]
        for name in debris:
            if (folder / name).is_dir():
                shutil.rmtree(folder / name)
            else:
                (folder / name).unlink()
        return debris

    # -- admission -----------------------------------------------------------------------------------

    def ensure_accepting(self) -> None:
        if not self.accepting:
            raise Problem(
                "service-indisponible",
                "Le service s'arrête et n'accepte plus de dépôt ; réessayez plus tard.",
                headers={"Retry-After": RETRY_AFTER_SECONDS},
            )

    @contextlib.contextmanager
    def deposit_slot(self) -> Any:
        """Bound the deposits received at once; beyond, 429 with Retry-After."""
        if self._in_flight >= self.settings.max_concurrent_deposits:
            raise Problem(
                "trop-de-requetes",
                f"Trop de dépôts en cours de réception (maximum {self.settings.max_concurrent_deposits}).",
                headers={"Retry-After": RETRY_AFTER_SECONDS},
            )
        self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1

    # -- deposits ------------------------------------------------------------------------------------

    async def accept(
        self, metadata: dict[str, Any], body: ReceivedBody, body_bytes: int, key: str | None, tags: RunTags
    ) -> Acceptance:
        """Record a fully received deposit, or replay/refuse it by its Idempotency-Key. The caller wakes the
        worker (`worker.wake`) once its answer is sent: the 202 does not share the machine with the work."""
        return await self.store.run(self._accept, metadata, body, body_bytes, key, tags)

    def _accept(
        self, metadata: dict[str, Any], body: ReceivedBody, body_bytes: int, key: str | None, tags: RunTags
    ) -> Acceptance:
        fingerprint = _fingerprint(metadata, body)
        key = self.faults.apply(Fault.idempotency_key, key)
        tags = self.faults.apply(Fault.run_tags, tags)
        if key is not None and (replayed := self._replay(key, fingerprint)):
            return replayed
        _check_sae(metadata, body.digest)
        now = self.clock()
        deposit = DepositRecord(
            id=body.directory.name,
            received_at=now,
            metadata=metadata,
            body_bytes=self.faults.apply(Fault.billed_bytes, body_bytes, sum(d.size for d in body.documents)),
            digest=body.digest,
            fingerprint=fingerprint,
            status="RECU",
            retain_until=self.faults.apply(Fault.retained_until, self.settings.retain_until(now), now),
            purged=False,
            run_id=tags.run_id,
            motif=tags.motif,
        )
        try:
            self.store.add_deposit(deposit, body.documents, key)
        except DuplicateIdempotencyKey:
            replayed = self._replay(key or "", fingerprint)
            if replayed is None:
                raise
            return replayed
        return Acceptance(deposit)

    def _replay(self, key: str, fingerprint: str) -> Acceptance | None:
        existing = self.store.deposit_by_key(key)
        if existing is None:
            return None
        if existing.fingerprint != fingerprint:
            raise Problem(
                "cle-idempotence-reutilisee",
                "Cette clé d'idempotence a déjà servi pour un dépôt au contenu différent.",
                {"idDepot": existing.id},
            )
        return Acceptance(existing, replayed=True)

    def known_deposit(self, deposit_id: str) -> DepositRecord:
        """The deposit, or 404 if unknown, 410 if past retention."""
        deposit = self.store.deposit(deposit_id)
        if deposit is None:
            raise Problem("depot-inconnu", f"Aucun dépôt {deposit_id}.")
        if deposit.purged or deposit.retain_until <= self.clock():
            raise Problem(
                "depot-expire",
                f"Le dépôt {deposit_id} a dépassé sa durée de conservation ({self.settings.retention}).",
            )
        return deposit

    async def state(self, deposit_id: str) -> dict[str, Any]:
        """The EtatDepot of a deposit."""
        return await self.store.run(self._state, deposit_id)

    def _state(self, deposit_id: str) -> dict[str, Any]:
        deposit = self.known_deposit(deposit_id)
        state: dict[str, Any] = {
            "idDepot": deposit.id,
            "statut": deposit.status,
            "recuLe": timestamp(deposit.received_at),
            "metadonnees": deposit.metadata,
            "historique": [_event(e) for e in self.store.events(deposit_id)],
            "conserveJusquau": timestamp(deposit.retain_until),
        }
        if (retour := self.store.return_of(deposit_id)) is not None:
            tracking: dict[str, Any] = {
                "idRetour": retour.return_id,
                "statut": retour.status,
                "tentatives": retour.attempts,
            }
            if retour.ack_id:
                tracking["idAcquittement"] = retour.ack_id
            if retour.acked_at:
                tracking["acquitteLe"] = timestamp(retour.acked_at)
            state["retour"] = tracking
        return state

    async def resend(self, deposit_id: str) -> dict[str, Any]:
        """Put the same return back in the outbox (retransmission within retention)."""
        asked = await self.store.run(self._resend, deposit_id)
        self.outbox.wake()
        return asked

    def _resend(self, deposit_id: str) -> dict[str, Any]:
        self.known_deposit(deposit_id)
        retour = self.store.return_of(deposit_id)
        if retour is None or retour.payload is None:
            raise Problem("retour-non-disponible", f"Le retour du dépôt {deposit_id} n'est pas encore produit.")
        now = self.clock()
        self.store.schedule_resend(deposit_id, now)
        return {"idDepot": deposit_id, "idRetour": retour.return_id, "demandeeLe": timestamp(now)}

    # -- retention -----------------------------------------------------------------------------------

    def purge_expired(self) -> list[str]:
        """Forget the results and documents of every deposit past its retention; return their ids."""
        now = self.clock()
        purged = self.store.expired(now)
        for deposit_id in purged:
            shutil.rmtree(self.deposit_directory(deposit_id), ignore_errors=True)
            self.store.mark_purged(deposit_id, now)
        return purged

    # -- lifetime ------------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def running(self, _app: Starlette) -> AsyncIterator[None]:
        """Lifespan: crash debris removed, then the worker, the outbox and the purge run while the server runs."""
        await asyncio.to_thread(self.remove_debris)
        tasks = [
            asyncio.create_task(self.worker.run(), name="worker"),
            asyncio.create_task(self.outbox.run(), name="outbox"),
            asyncio.create_task(self._purge_periodically(), name="retention"),
        ]
        if self.archives is not None:
            tasks.append(asyncio.create_task(self.archives.run(), name="archives"))
        try:
            yield
        finally:
            self.accepting = False
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.outbox.stop()
            self.store.close()

    async def _purge_periodically(self) -> None:
        while True:
            await asyncio.to_thread(self.purge_expired)
            await asyncio.sleep(self.settings.purge_every_seconds)


def _fingerprint(metadata: dict[str, Any], body: ReceivedBody) -> str:
    canonical = json.dumps(
        [metadata, [(d.name, d.digest) for d in body.documents]], sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _check_sae(metadata: dict[str, Any], digest: str) -> None:
    if metadata.get("sae") and metadata["empreinte"]["valeur"] != digest:
        raise Problem(
            "empreinte-non-concordante",
            "L'empreinte SHA-256 fournie (option SAE) ne concorde pas avec les documents déposés.",
            {"empreinteCalculee": {"algorithme": "SHA-256", "valeur": digest}},
        )


def _event(event: dict[str, Any]) -> dict[str, Any]:
    item = {"statut": event["status"], "horodatage": timestamp(event["at"])}
    if event["detail"]:
        item["detail"] = event["detail"]
    return item
