"""The single return of each deposit, posted to the ASP's callback API; retries, then an incident by mail.

A return is built once (same `idRetour`, same content at every delivery). A 5xx, a 429 or a broken
connection is retried after the `Retry-After` the ASP asks, or our own growing backoff; a 202 ends it; any
other answer, or the attempts spent, is a failure: the deposit goes to ECHEC and a mail alerts the ASP.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
import time
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx

from tests.fair_titulaire.records import Deposit, Store, now
from tests.fair_titulaire.variations import Variation

log = logging.getLogger(__name__)
BACKOFF_SECONDS = (0.5, 1.0, 2.0, 3.0)
"""Waits between attempts (at least the ASP's Retry-After): five attempts within about ten seconds."""
RETRYABLE = {429, 500, 502, 503, 504}
TOKEN_MARGIN_SECONDS = 30


@dataclass(frozen=True)
class CallbackSettings:
    """Where returns go and how the titulaire authenticates there (mutual TLS + a token of the ASP-side issuer)."""

    url: str
    """`{callback.url}/v1/retours`."""
    token_url: str
    client: tuple[str, str]
    """Our return client at the ASP-side issuer: its id and secret (`client_secret_basic`)."""
    tls: ssl.SSLContext
    smtp: tuple[str, int] | None = None
    incident_mail: str = "incidents-recette@asp.example"


class Courier:
    """Sends returns on background threads, one per delivery."""

    def __init__(self, settings: CallbackSettings, store: Store, variation: Variation) -> None:
        self.settings = settings
        self.store = store
        self.variation = variation
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()
        self._http = httpx.Client(verify=settings.tls, timeout=10)
        self._stopping = threading.Event()

    def close(self) -> None:
        self._stopping.set()
        self._http.close()

    def process(self, deposit: Deposit) -> None:
        """Produce the deposit's return after the variation's delay, then deliver it."""
        threading.Thread(target=self._process, args=(deposit,), daemon=True).start()

    def redeliver(self, deposit: Deposit) -> None:
        """Send the same return again (retransmission on the ASP's request)."""
        threading.Thread(target=self._deliver, args=(deposit,), daemon=True).start()

    def _process(self, deposit: Deposit) -> None:
        with self.store.lock:
            deposit.move("EN_TRAITEMENT")
        if self._stopping.wait(self.variation.return_delay_seconds):
            return
        with self.store.lock:
            deposit.retour = self._retour(deposit)
            deposit.move("TRAITE")
        self._deliver(deposit)

    def _retour(self, deposit: Deposit) -> dict[str, Any]:
        instant = self.variation.instant
        return {
            "idRetour": deposit.id_retour,
            "idDepot": deposit.id,
            "modeEchange": "API",
            "metadonnees": deposit.metadata,
            "statut": "TRAITE",
            "pieces": deposit.pieces,
            "recuLe": instant(deposit.received_at),
            "traiteLe": instant(now()),
            "envoyeLe": instant(now()),
        }

    def _deliver(self, deposit: Deposit) -> None:
        assert deposit.retour is not None
        body = self.variation.dumps(deposit.retour)
        for attempt, backoff in enumerate((*BACKOFF_SECONDS, None)):
            if self._stopping.is_set():
                return
            with self.store.lock:
                deposit.attempts += 1
                if attempt == 0 and deposit.status == "TRAITE":
                    deposit.move("RETOURNE")
            answer = self._post(body)
            if answer is not None and answer.status_code == 202:
                self._acknowledged(deposit, answer.json())
                return
            if backoff is None or (answer is not None and answer.status_code not in RETRYABLE):
                break
            if self._stopping.wait(max(backoff, retry_after(answer))):
                return
        self._failed(deposit)

    def _post(self, body: bytes) -> httpx.Response | None:
        try:
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self._access_token()}"}
            return self._http.post(self.settings.url, content=body, headers=headers)
        except (httpx.HTTPError, KeyError, ValueError, RuntimeError) as error:  # RuntimeError: closed while stopping
            log.warning("retour non remis : %s", error)
            return None

    def _access_token(self) -> str:
        """A `retours:ecrire` token of the ASP-side issuer (client_credentials, our return client's secret)."""
        with self._lock:
            if self._token is None or self._token[1] < time.monotonic():
                answer = self._http.post(
                    self.settings.token_url,
                    data={"grant_type": "client_credentials", "scope": "retours:ecrire"},
                    auth=self.settings.client,
                )
                answer.raise_for_status()
                grant = answer.json()
                lifetime = float(grant.get("expires_in", 60)) - TOKEN_MARGIN_SECONDS
                self._token = (grant["access_token"], time.monotonic() + lifetime)
            return self._token[0]

    def _acknowledged(self, deposit: Deposit, ack: dict[str, Any]) -> None:
        with self.store.lock:
            if deposit.ack is None:
                deposit.ack = {"idAcquittement": ack.get("idAcquittement"), "acquitteLe": self.variation.instant(now())}
                deposit.move("ACQUITTE")

    def _failed(self, deposit: Deposit) -> None:
        with self.store.lock:
            if deposit.ack is not None:
                return
            deposit.move("ECHEC")
        self._alert(deposit)

    def _alert(self, deposit: Deposit) -> None:
        """The incident mail to the ASP's incident address, naming the deposit."""
        if self.settings.smtp is None:
            log.error("incident ouvert pour le dépôt %s (aucun serveur de courriel configuré)", deposit.id)
            return
        mail = EmailMessage()
        mail["From"] = "supervision@titulaire-equitable.example"
        mail["To"] = self.settings.incident_mail
        mail["Subject"] = f"Incident {uuid.uuid4().hex[:8]} : retour du dépôt {deposit.id} non remis"
        mail.set_content(
            f"Le retour {deposit.id_retour} du dépôt {deposit.id} n'a pas pu être remis à l'ASP "
            f"après {deposit.attempts} tentatives. Un ticket d'incident est ouvert."
        )
        try:
            with smtplib.SMTP(*self.settings.smtp, timeout=10) as smtp:
                smtp.send_message(mail)
        except OSError as error:
            log.error("courriel d'incident non envoyé : %s", error)


def retry_after(answer: httpx.Response | None) -> float:
    """The seconds the ASP asked to wait (`Retry-After`), 0 when it asked nothing."""
    value = answer.headers.get("retry-after", "") if answer is not None else ""
    return float(value) if value.isdigit() else 0.0
