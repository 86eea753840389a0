"""The SMTP catcher (collecteur de courriels): receives the incident mails meant for the ASP and keeps them.

It listens on 127.0.0.1 on a port chosen by the kernel; tests and scripts read what it caught with
`messages()` or wait for a mail with `wait_for()`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from harness.foundations.clock import Clock, utc_now

LOOPBACK = "127.0.0.1"
READY_TIMEOUT_SECONDS = 15.0

MailPredicate = Callable[["CaughtMail"], bool]


@dataclass(frozen=True)
class CaughtMail:
    """One mail received by the catcher (courriel reçu), its text body decoded."""

    sender: str
    recipients: list[str]
    subject: str
    body: str
    received_at: datetime
    headers: tuple[tuple[str, str], ...] = ()

    def header(self, name: str) -> str | None:
        """The first header called `name` (case-insensitive), or None."""
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "sender": self.sender,
            "recipients": list(self.recipients),
            "subject": self.subject,
            "body": self.body,
            "received_at": self.received_at.isoformat(),
            "headers": dict(self.headers),
        }


def parse_mail(envelope: Envelope, received_at: datetime) -> CaughtMail:
    """Decode the envelope's message: subject and text body as a reader sees them."""
    raw = envelope.original_content or envelope.content or b""
    message = message_from_bytes(raw if isinstance(raw, bytes) else raw.encode(), policy=policy.default)
    return CaughtMail(
        sender=envelope.mail_from or "",
        recipients=list(envelope.rcpt_tos),
        subject=str(message.get("subject", "")),
        body=_text_body(message),
        received_at=received_at,
        headers=tuple((key, str(value)) for key, value in message.items()),
    )


def _text_body(message: Any) -> str:
    if not isinstance(message, EmailMessage):
        return ""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()
    text = content if isinstance(content, str) else content.decode("utf-8", "replace")
    return text.replace("\r\n", "\n")


class _Handler:
    """The aiosmtpd handler: hands each received message to `keep`."""

    def __init__(self, keep: Callable[[Envelope], None]) -> None:
        self._keep = keep

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self._keep(envelope)
        return "250 Message accepted for delivery"


class _EphemeralPortController(Controller):
    """An aiosmtpd controller bound to a kernel-chosen port (port 0), which it learns once listening."""

    def _trigger_server(self) -> None:
        if self.server is not None and self.server.sockets:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpCatcher:
    """Collecteur SMTP: an SMTP server on 127.0.0.1 that keeps every mail it receives (thread-safe).

    Use it as a context manager, or call `start()` and `stop()`.
    """

    def __init__(self, clock: Clock = utc_now) -> None:
        self._clock = clock
        self._mails: list[CaughtMail] = []
        self._arrived = threading.Condition()
        handler = _Handler(self._keep)
        self._controller = _EphemeralPortController(
            handler, hostname=LOOPBACK, port=0, ready_timeout=READY_TIMEOUT_SECONDS
        )
        self._running = False
        self._port: int | None = None

    def _keep(self, envelope: Envelope) -> None:
        mail = parse_mail(envelope, self._clock())
        with self._arrived:
            self._mails.append(mail)
            self._arrived.notify_all()

    # -- lifetime -----------------------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return LOOPBACK

    @property
    def port(self) -> int:
        """The listening port (known once started)."""
        if self._port is None:
            raise RuntimeError("the SMTP catcher is not started")
        return self._port

    def start(self) -> SmtpCatcher:
        self._controller.start()
        self._port = int(self._controller.port)
        self._running = True
        return self

    def stop(self) -> None:
        if self._running:
            self._controller.stop()
            self._running = False

    def __enter__(self) -> SmtpCatcher:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    # -- what it caught -----------------------------------------------------------------------------------

    def messages(self) -> list[CaughtMail]:
        """Every mail caught so far, oldest first."""
        with self._arrived:
            return list(self._mails)

    def clear(self) -> None:
        with self._arrived:
            self._mails.clear()

    def wait_for(self, predicate: MailPredicate | None = None, timeout: float = 10.0) -> CaughtMail:
        """The oldest mail matching `predicate` (any mail when None), waiting up to `timeout` seconds for it."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                found = next((m for m in self._mails if predicate is None or predicate(m)), None)
                if found is not None:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(self._timeout_message(predicate, timeout))
                self._arrived.wait(remaining)

    def _timeout_message(self, predicate: MailPredicate | None, timeout: float) -> str:
        where = f"le collecteur SMTP {self.host}:{self.port}" if self._running else "le collecteur SMTP (arrêté)"
        if not self._mails:
            return f"aucun courriel reçu par {where} en {timeout:g} s"
        subjects = ", ".join(f"« {m.subject} »" for m in self._mails[-5:])
        return (
            f"aucun courriel attendu reçu par {where} en {timeout:g} s : "
            f"{len(self._mails)} courriel(s) reçu(s), aucun ne satisfait le critère ; "
            f"derniers sujets : {subjects}"
        )
