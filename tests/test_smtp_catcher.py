"""The SMTP catcher: incident mails sent with smtplib, as the reference titulaire sends them."""

from __future__ import annotations

import smtplib
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from mocks.smtp import CaughtMail, SmtpCatcher


@pytest.fixture
def smtp() -> Iterator[SmtpCatcher]:
    with SmtpCatcher() as catcher:
        yield catcher


def incident_mail(
    subject: str, body: str = "Ticket d'incident : 42\n", to: str = "incidents@asp.example"
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "titulaire@recette.example"
    message["To"] = to
    message["Subject"] = subject
    message["X-Incident-Id"] = "42"
    message.set_content(body)
    return message


def send(catcher: SmtpCatcher, message: EmailMessage) -> None:
    with smtplib.SMTP(catcher.host, catcher.port, timeout=10) as client:
        client.send_message(message)


def test_a_mail_sent_with_smtplib_is_caught(smtp: SmtpCatcher) -> None:
    before = datetime.now(UTC)
    send(smtp, incident_mail("[Incident titulaire] dépôt en échec", "Dépôt concerné : é à ç\nSecond line\n"))
    mail = smtp.wait_for(timeout=5)
    assert mail.sender == "titulaire@recette.example"
    assert mail.recipients == ["incidents@asp.example"]
    assert mail.subject == "[Incident titulaire] dépôt en échec"
    assert mail.body == "Dépôt concerné : é à ç\nSecond line\n"
    assert mail.header("x-incident-id") == "42"
    assert mail.received_at.tzinfo == UTC
    assert mail.received_at >= before
    assert smtp.messages() == [mail]


def test_an_encoded_body_is_decoded(smtp: SmtpCatcher) -> None:
    message = incident_mail("base64")
    message.set_content("Accentué, encodé en base64.\n", cte="base64")
    send(smtp, message)
    assert smtp.wait_for(timeout=5).body == "Accentué, encodé en base64.\n"


def test_the_text_part_of_a_multipart_mail_is_its_body(smtp: SmtpCatcher) -> None:
    message = incident_mail("multipart", "Texte brut\n")
    message.add_alternative("<p>HTML</p>", subtype="html")
    send(smtp, message)
    assert smtp.wait_for(timeout=5).body == "Texte brut\n"


def test_wait_for_waits_for_the_matching_mail(smtp: SmtpCatcher) -> None:
    send(smtp, incident_mail("[Incident] autre dépôt"))
    later = threading.Timer(0.3, send, args=(smtp, incident_mail("[Incident] dépôt D-7")))
    later.start()
    try:
        mail = smtp.wait_for(lambda m: "D-7" in m.subject, timeout=10)
    finally:
        later.join()
    assert mail.subject == "[Incident] dépôt D-7"
    assert [m.subject for m in smtp.messages()] == ["[Incident] autre dépôt", "[Incident] dépôt D-7"]


def test_wait_for_times_out_with_a_clear_message(smtp: SmtpCatcher) -> None:
    with pytest.raises(TimeoutError, match=rf"aucun courriel reçu par le collecteur SMTP 127\.0\.0\.1:{smtp.port}"):
        smtp.wait_for(timeout=0.2)
    send(smtp, incident_mail("[Incident] dépôt D-1"))
    with pytest.raises(
        TimeoutError, match=r"1 courriel\(s\) reçu\(s\), aucun ne satisfait.*« \[Incident\] dépôt D-1 »"
    ):
        smtp.wait_for(lambda m: "D-2" in m.subject, timeout=0.2)


def test_mails_sent_concurrently_are_all_kept(smtp: SmtpCatcher) -> None:
    threads = [threading.Thread(target=send, args=(smtp, incident_mail(f"mail {n}"))) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(m.subject for m in smtp.messages()) == sorted(f"mail {n}" for n in range(10))


def test_clear_forgets_the_mails(smtp: SmtpCatcher) -> None:
    send(smtp, incident_mail("à oublier"))
    smtp.wait_for(timeout=5)
    smtp.clear()
    assert smtp.messages() == []


def test_each_catcher_has_its_own_port_and_stop_closes_it() -> None:
    with SmtpCatcher() as first, SmtpCatcher() as second:
        assert first.port != second.port
        port = first.port
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_the_caught_mail_is_serialisable() -> None:
    mail = CaughtMail("a@x", ["b@y"], "sujet", "corps\n", datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC), (("To", "b@y"),))
    assert mail.to_json() == {
        "sender": "a@x",
        "recipients": ["b@y"],
        "subject": "sujet",
        "body": "corps\n",
        "received_at": "2025-01-02T03:04:05+00:00",
        "headers": {"To": "b@y"},
    }
