"""What the harness's own tests share: a clock moved by hand, waiting, and problem+json answers."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx

from harness.campaign.config import RunConfig
from harness.campaign.suites.bdd.steps.communs import assert_problem as assert_contract_problem
from harness.foundations.polling import wait_until
from harness.foundations.servers import BackgroundServer, free_port
from harness.foundations.tls import RunCertificates
from mocks.oidc import Issuer, RegisteredClient
from mocks.oidc import create_app as create_issuer_app

__all__ = ["TESTS_DAY", "ManualClock", "assert_problem", "free_port", "wait_until"]

TESTS_DAY = date(2026, 12, 15)
"""The reference's date in the harness's own tests unless a test sets its clock: v1 served, v2 announced."""


class ManualClock:
    """A clock that moves only when told (injected into the reference, the issuer or the verifier)."""

    def __init__(self, start: datetime | None = None) -> None:
        """`start`: by default noon on the tests' day, whatever the system's date."""
        self.now = start or datetime.combine(TESTS_DAY, time(12), UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The campaign's problem+json check (what the contract fixes), and the `detail` our own servers always give."""
    body = assert_contract_problem(response, status, code)
    assert body.get("detail"), f"« detail » absent ou vide : {body}"
    return body


def placeholder_config(certs: RunCertificates, callback_url: str, **fields: Any) -> RunConfig:
    """A configuration whose platform is never called (`titulaire.example`): the ASP client of `certs`, our
    receiver at `callback_url`, and `fields` on top."""
    values: dict[str, Any] = {
        "target": "https://titulaire.example",
        "ca": certs.ca,
        "client_cert": certs.asp_client.cert,
        "client_key": certs.asp_client.key,
        "token_url": "https://titulaire.example/token",
        "client_id": "asp-recette",
        "client_secret": "s",
        "callback_url": callback_url,
    }
    return RunConfig(**(values | fields))


@contextmanager
def identity_provider(certs: RunCertificates, *clients: RegisteredClient) -> Iterator[Issuer]:
    """An OIDC identity provider of its own (the ASP's, say) serving `clients`, over TLS with `certs`' server
    certificate and no client certificate asked, as a real provider's discovery and keys are."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certs.server.cert, certs.server.key)
    issuer = Issuer(clients)
    with BackgroundServer(create_issuer_app(issuer), context, "fournisseur-d-identite") as server:
        issuer.url = server.url
        yield issuer
