"""The SMTP catcher (collecteur de courriels): receives the incident mails meant for the ASP and keeps them.

It listens on 127.0.0.1 on a port chosen by the kernel; tests and scripts read what it caught with
`messages()` or wait for a mail with `wait_for()`.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, Self

from aiosmtpd.controller import UnthreadedController
from aiosmtpd.smtp import SMTP, Envelope, Session

from harness.foundations.clock import Clock, utc_now
from harness.foundations.running import Running

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


class SmtpCatcher(Running):
    """Collecteur SMTP: an SMTP server on 127.0.0.1 (or `host`, `port`) that keeps every mail it receives (thread-safe).

    Use it as a context manager, or call `start()` and `stop()`.
    """

    def __init__(self, clock: Clock = utc_now, host: str = LOOPBACK, port: int = 0) -> None:
        self._clock = clock
        self._host = host
        self._mails: list[CaughtMail] = []
        self._arrived = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._controller = UnthreadedController(_Handler(self._keep), hostname=host, port=port, loop=self._loop)
        self._thread = threading.Thread(target=self._serve, name="smtp-catcher", daemon=True)
        self._listening = threading.Event()
        self._failure: BaseException | None = None
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
        return self._host

    @property
    def port(self) -> int:
        """The listening port (known once started)."""
        if self._port is None:
            raise RuntimeError("the SMTP catcher is not started")
        return self._port

    def start(self) -> Self:
        """Listen, in a thread running aiosmtpd's `UnthreadedController` on its own event loop.

        Not aiosmtpd's threaded `Controller`: it checks it is up by connecting to its configured port, so it
        cannot listen on port 0.
        """
        self._thread.start()
        listening = self._listening.wait(READY_TIMEOUT_SECONDS)
        server = self._controller.server
        if not listening or not isinstance(server, asyncio.Server):
            raise RuntimeError(f"le collecteur SMTP n'a pas démarré : {self._failure or 'délai dépassé'}")
        self._port = int(server.sockets[0].getsockname()[1])
        self._running = True
        return self

    def _serve(self) -> None:
        try:
            self._controller.begin()
        except BaseException as error:  # noqa: BLE001 — told by `start()`, which raises it
            self._failure = error
        self._listening.set()
        if self._failure is None:
            self._loop.run_forever()
        self._loop.close()

    def stop(self) -> None:
        if self._running:
            self._loop.call_soon_threadsafe(self._controller.end)
            self._controller.ended.wait(READY_TIMEOUT_SECONDS)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._running = False

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
