"""The ASP as a locust virtual user: mutual TLS, OAuth 2.0 token, billing tags, deposits and their return.

Every profile (`limite.py`, `mixte.py`, `horslimite.py`, `rampe.py`) builds on `AspUser`. It reads the
environment's state file (`RECETTE_STATE_FILE`, written by `recette load` or `recette serve`), presents
the ASP's client certificate, obtains a `client_credentials` token from the issuer, tags each request
with `X-Recette-Run` / `X-Recette-Motif`, and after each accepted deposit waits for its single return
on the mock callback's inspection, reported as a `RETOUR` request whose response time is the delay
from the 202 to the return's reception by the ASP. Against a platform whose returns go to the run's
receiver (no `asp_callback` in the state), the users do not wait: the master writes every accepted deposit
and its time (`envoi.json`) and the harness measures the delays at the receiver (`harness.load.returns`).

Imported only by locust processes (locust's gevent monkey-patching must never reach the harness).
The whole run stops after `RECETTE_MAX_REQUESTS` requests.
"""

from __future__ import annotations

import functools
import json
import logging
import ssl
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import gevent
import requests
from locust import HttpUser, between, events
from locust.env import Environment as LocustEnvironment
from locust.exception import StopUser
from locust.runners import WorkerRunner

from harness.foundations.asp_client import AspClient, DepositBody, DepositMeter
from harness.foundations.service_contract import ServiceContractError
from harness.foundations.tls import CertificatePair, client_context
from harness.foundations.tokens import ClientCredentials, ClientCredentialsAuth
from harness.load.profiles import NEAR_LIMIT_MARGIN_BYTES
from harness.load.qos import RETURN_NAME, RETURN_TYPE, TOKEN_NAME, QosTargets
from harness.load.settings import LoadSettings, LoadSettingsError

log = logging.getLogger("recette.charge")
WRITE_SCOPE = "depots:ecrire"
CHUNK_BYTES = 1024 * 1024
POLL_FIRST_SECONDS, POLL_MAX_SECONDS = 0.02, 0.25


def _load() -> tuple[LoadSettings, dict[str, Any], QosTargets]:
    try:
        settings = LoadSettings.from_env()
        state = json.loads(settings.state_file.read_text(encoding="utf-8"))
        return settings, state, QosTargets.from_file(settings.service_contract)
    except (LoadSettingsError, ServiceContractError, OSError, ValueError) as error:
        sys.exit(f"charge : réglages illisibles : {error}")


SETTINGS, STATE, TARGETS = _load()
TLS = STATE["tls"]
CLIENTS = STATE["oauth"]["clients"]
CLIENT = next((c for c in CLIENTS if WRITE_SCOPE in c["scopes"]), CLIENTS[0])
CREDENTIALS = ClientCredentials(
    STATE["oauth"]["token_url"], CLIENT["client_id"], CLIENT.get("client_secret", ""), tuple(CLIENT["scopes"])
)
CALLBACK_URL: str | None = (STATE.get("asp_callback") or {}).get("url")
"""The mock callback whose inspection shows the returns; None for a platform whose receiver is not ours."""
MAJOR = SETTINGS.major()
"""The major loaded (`RECETTE_VERSION`, else the calendar's current one)."""
METADONNEES: dict[str, Any] = {
    "applicationSource": "RECETTE-CHARGE",
    "referenceContrat": "MARCHE-RECETTE-CHARGE",
    "identifiantDossier": f"CHARGE-{SETTINGS.tags.run_id}"[:128],
    "numeroIteration": 1,
    "donneesMetier": {"campagne": "charge"},
}
"""In the harness's (callback) model; each deposit writes it in `MAJOR`'s."""


# -- deposit bodies, built once per size and process -------------------------------------------------

_bodies: dict[int, tuple[str, bytes]] = {}
_near_limit: list[int] = []
_lock = threading.Lock()  # a gevent lock once locust has monkey-patched threading


def body_of(size: int) -> tuple[str, bytes]:
    """Content type and bytes of a multipart deposit body of exactly `size` bytes."""
    with _lock:
        if size not in _bodies:
            body = DepositBody.of_size(MAJOR.wire_metadata(METADONNEES), size)
            _bodies[size] = (body.content_type, body.content())
        return _bodies[size]


def near_limit_size() -> int:
    """The body size whose transaction (body + receipt) is just under the limit, probed once with the ASP client."""
    with _lock:
        if not _near_limit:
            _near_limit.append(_probe_body_size(SETTINGS.limit_bytes - NEAR_LIMIT_MARGIN_BYTES))
        return _near_limit[0]


def _probe_body_size(transaction_bytes: int) -> int:
    context = tls_context()
    auth, meter = ClientCredentialsAuth(CREDENTIALS, context), DepositMeter()
    url, headers = STATE["titulaire"]["url"], SETTINGS.tags.headers()
    with AspClient(url, context, auth, headers, major=MAJOR, meter=meter) as client:
        size = client.body_size_for_transaction(transaction_bytes, METADONNEES)
    _sent["depots"] += meter.deposits  # the probe is a deposit too (its return is not measured)
    _sent["octets"] += meter.bytes_sent
    return size


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The ASP's mutual TLS context of the run (made once per process)."""
    return client_context(TLS["ca"], CertificatePair(TLS["client_cert"], TLS["client_key"]))


def chunks(content: bytes) -> Iterator[memoryview]:
    """The body in pieces: requests sends a generator with chunked transfer encoding."""
    view = memoryview(content)
    for start in range(0, len(view), CHUNK_BYTES):
        yield view[start : start + CHUNK_BYTES]


# -- the request cap, and what was sent (for the billing ledger) -------------------------------------

_requests_here = [0]
_sent: dict[str, Any] = {"depots": 0, "octets": 0, "acceptes": []}
"""Deposits the titulaire accepted from this process, their bytes, and each one's idDepot and time of
acceptance (since its last report to the master, on a worker): the figures of the billing ledger."""
_runner: list[Any] = []


@events.request.add_listener
def _count_request(**_kwargs: Any) -> None:
    _requests_here[0] += 1


@events.init.add_listener
def _on_init(environment: LocustEnvironment, **_kwargs: Any) -> None:
    # gevent's timers count from the loop's cached time: after a slow start (imports on a loaded machine)
    # locust's --run-time timer, armed next, would fire at once; refresh that time first.
    gevent.get_hub().loop.update_now()
    _runner.append(environment.runner)
    if not isinstance(environment.runner, WorkerRunner):
        gevent.spawn(_stop_at_cap, environment)


@events.report_to_master.add_listener
def _report_sent(client_id: str, data: dict[str, Any]) -> None:
    data["recette_envoi"] = dict(_sent)
    _sent.update(depots=0, octets=0, acceptes=[])


@events.worker_report.add_listener
def _add_sent(client_id: str, data: dict[str, Any]) -> None:
    for key, value in data.get("recette_envoi", {}).items():
        _sent[key] += value


@events.quit.add_listener
def _write_sent(**_kwargs: Any) -> None:
    if SETTINGS.sent_report is not None and not isinstance(_runner[0] if _runner else None, WorkerRunner):
        SETTINGS.sent_report.write_text(json.dumps(_sent) + "\n", encoding="utf-8")


def _stop_at_cap(environment: LocustEnvironment) -> None:
    """On the master (or a lone process): stop the run once the whole run made `max_requests` requests."""
    while environment.runner is not None:
        gevent.sleep(0.2)
        if environment.runner.stats.total.num_requests >= SETTINGS.max_requests:
            log.warning("plafond de %d requêtes atteint : arrêt de la charge", SETTINGS.max_requests)
            environment.runner.quit()
            return


# -- the virtual user ----------------------------------------------------------------------------------


class AspUser(HttpUser):
    """One ASP client: deposits through mutual TLS with a Bearer token, then waits for the return."""

    abstract = True
    host = STATE["titulaire"]["url"]
    wait_time = between(0.0, 0.2)

    def on_start(self) -> None:
        self.inspection = requests.Session()
        for session in (self.client, self.inspection):
            session.trust_env = False  # else REQUESTS_CA_BUNDLE would override the run's CA
            session.cert = (TLS["client_cert"], TLS["client_key"])
            session.verify = TLS["ca"]
        if "recette_cert" in TLS:  # the mock callback's inspection answers the recette team's identity alone
            self.inspection.cert = (TLS["recette_cert"], TLS["recette_key"])
        self.client.headers.update(SETTINGS.tags.headers())
        self.auth = ClientCredentialsAuth(CREDENTIALS, tls_context(), post=self._post_token)
        self.deposits: list[str] = []

    def on_stop(self) -> None:
        self.inspection.close()

    # -- OAuth 2.0 client_credentials ----------------------------------------------------------------

    def bearer(self) -> str:
        """The Authorization header value: the project's OAuth2 client, renewing its token before it expires."""
        return f"Bearer {self.auth.access_token()}"

    def _post_token(self, **request: Any) -> requests.Response:
        """The token request, through this user's session so that locust measures it."""
        return self.client.post(**request, name=TOKEN_NAME)

    # -- the API -------------------------------------------------------------------------------------

    def check_budget(self) -> None:
        """Stop this user once its process reached the run's request cap."""
        if _requests_here[0] >= SETTINGS.max_requests:
            raise StopUser()

    def call(self, method: str, path: str, operation: str, expected: int, **kwargs: Any) -> requests.Response | None:
        """One API call named by its operationId; a status other than `expected` is a failure."""
        headers = {"Authorization": self.bearer(), **kwargs.pop("headers", {})}
        with self.client.request(
            method, path, headers=headers, name=operation, catch_response=True, **kwargs
        ) as response:
            if response.status_code == expected:
                response.success()
                return response
            if response.status_code == 401:
                self.auth.forget()
            response.failure(f"HTTP {response.status_code} {_problem_code(response)}".strip())
            return None

    def deposit(self, size: int, chunked: bool = False, expected: int = 202, operation: str = "deposerPieces") -> None:
        """POST …/depots (of `MAJOR`) with a body of `size` bytes; when accepted, wait for its single return."""
        self.check_budget()
        content_type, content = body_of(size)
        data: Any = chunks(content) if chunked else content
        headers = {"Content-Type": content_type}
        response = self.call("POST", MAJOR.path("/depots"), operation, expected, data=data, headers=headers)
        if response is None or expected != 202:
            return
        accepted_at = time.time()
        id_depot = response.json()["idDepot"]
        self.deposits.append(id_depot)
        _sent["depots"] += 1
        _sent["octets"] += size
        _sent["acceptes"].append([id_depot, accepted_at])
        if CALLBACK_URL is not None:
            self.wait_for_return(id_depot, accepted_at)

    def wait_for_return(self, id_depot: str, accepted_at: float) -> None:
        """Poll the mock callback's inspection until the deposit's return is acknowledged; report its delay."""
        url = f"{CALLBACK_URL}/_inspection/retours"
        deadline = time.monotonic() + TARGETS.max_return_seconds
        pause = POLL_FIRST_SECONDS
        while True:
            try:
                calls = self.inspection.get(url, params={"idDepot": id_depot}, timeout=30).json()
            except (requests.RequestException, ValueError) as error:
                self._report_return(time.time() - accepted_at, error)
                return
            acknowledged = [c for c in calls if c.get("idAcquittement")]
            if acknowledged:
                received = datetime.fromisoformat(acknowledged[0]["recuLe"]).timestamp()
                self._report_return(max(0.0, received - accepted_at))
                return
            if time.monotonic() > deadline:
                error = TimeoutError(f"aucun retour acquitté en {TARGETS.max_return_seconds:g} s")
                self._report_return(time.time() - accepted_at, error)
                return
            gevent.sleep(pause)
            pause = min(pause * 1.5, POLL_MAX_SECONDS)

    def _report_return(self, delay_seconds: float, error: Exception | None = None) -> None:
        events.request.fire(
            request_type=RETURN_TYPE,
            name=RETURN_NAME,
            response_time=delay_seconds * 1000,
            response_length=0,
            exception=error,
            context={},
        )


def _problem_code(response: requests.Response) -> str:
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        return ""
    try:
        return str(response.json().get("code", ""))
    except ValueError:
        return ""
