"""Incident tickets: a record in the store and an alert mail to the ASP."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import uuid
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage

from harness.reference.faults.base import Fault, FaultSet
from harness.reference.settings import ReferenceSettings
from harness.reference.store import Store

log = logging.getLogger(__name__)


class Incidents:
    """Opens incident tickets (record + mail over SMTP to the configured ASP address)."""

    def __init__(
        self, store: Store, settings: ReferenceSettings, clock: Callable[[], datetime], faults: FaultSet
    ) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock
        self._faults = faults

    async def open(self, deposit_id: str | None, summary: str, detail: str) -> str:
        """Record the incident, then mail it; a mail failure is logged, the record stays."""
        incident_id = str(uuid.uuid4())
        deposit_id = self._faults.apply(Fault.incident_deposit, deposit_id)
        await self._store.run(self._store.add_incident, incident_id, deposit_id, self._clock(), summary, detail)
        try:
            await asyncio.to_thread(self._mail, incident_id, deposit_id, summary, detail)
        except (OSError, smtplib.SMTPException) as error:
            log.error("incident %s recorded but not mailed: %s", incident_id, error)
        else:
            await self._store.run(self._store.mark_incident_mailed, incident_id, self._clock())
        return incident_id

    def _mail(self, incident_id: str, deposit_id: str | None, summary: str, detail: str) -> None:
        message = EmailMessage()
        message["From"] = self._settings.incident_mail_from
        message["To"] = self._settings.incident_mail_to
        message["Subject"] = f"[Incident titulaire] {summary}"
        message["X-Incident-Id"] = incident_id
        message.set_content(
            f"Ticket d'incident : {incident_id}\n"
            f"Dépôt concerné : {deposit_id or 'aucun'}\n"
            f"Ouvert le : {self._clock().isoformat()}\n\n"
            f"{detail}\n"
        )
        mail: EmailMessage = self._faults.apply(Fault.incident_mail, message)
        with smtplib.SMTP(self._settings.smtp_host, self._settings.smtp_port, timeout=10) as smtp:
            smtp.send_message(mail)
