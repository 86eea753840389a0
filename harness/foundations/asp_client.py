"""The ASP's client of a titulaire API (the harness acts as the ASP), and of the mock callback's inspection.

It speaks the titulaire contract of one major (`Major`): multipart deposits, state, retransmissions, health,
under that major's prefix and with the metadata in its model. It returns the raw `httpx.Response` so that
a campaign can judge every status code itself.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

import httpx

from harness.foundations.majors import Major
from harness.foundations.polling import wait_until

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)


@dataclass(frozen=True)
class Document:
    """One document (pièce) to deposit."""

    name: str
    content: bytes
    content_type: str = "application/octet-stream"


class DepositBody:
    """A multipart/form-data deposit body, encoded by httpx, whose exact size is known before sending."""

    def __init__(self, metadonnees: Mapping[str, Any], documents: Sequence[Document]) -> None:
        files: list[tuple[str, tuple[str | None, bytes, str]]] = [
            ("metadonnees", (None, json.dumps(metadonnees, ensure_ascii=False).encode(), "application/json"))
        ]
        files += [("document", (d.name, d.content, d.content_type)) for d in documents]
        request = httpx.Request("POST", "https://encoder/", files=files)
        self.content_type = request.headers["content-type"]
        self.size = int(request.headers["content-length"])
        self._request = request

    def chunks(self, chunk_size: int = 1024 * 1024) -> Iterator[bytes]:
        """The encoded body, piece by piece (sent without Content-Length: chunked transfer encoding)."""
        buffer = self.content()
        for start in range(0, len(buffer), chunk_size):
            yield buffer[start : start + chunk_size]

    def content(self) -> bytes:
        return b"".join(self._request.stream)  # type: ignore[arg-type]

    @classmethod
    def of_size(cls, metadonnees: Mapping[str, Any], target_bytes: int, name: str = "piece.bin") -> DepositBody:
        """A body of exactly `target_bytes` bytes: one document padded to fill what the parts leave."""
        overhead = cls(metadonnees, [Document(name, b"")]).size
        if target_bytes < overhead:
            raise ValueError(f"a deposit body cannot be smaller than {overhead} bytes")
        return cls(metadonnees, [Document(name, b"\0" * (target_bytes - overhead))])


@dataclass
class DepositMeter:
    """Deposits the target accepted during a run, and their bytes (the billing ledger's figures), per suite.

    Every sender of deposits meters here: the ASP clients of the target, the fuzzer, and the load run (which
    adds what its locust processes counted). A refused deposit and a replay (same Idempotency-Key, same idDepot)
    are not counted: the figures are the ones the titulaire's own records hold, so both sides reconcile.
    """

    deposits: int = 0
    bytes_sent: int = 0
    suite: str = ""
    """The suite sending now (set by the campaign before each test): its deposits are filed under it."""
    per_suite: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Suite → (deposits, bytes)."""
    _seen: set[str] = field(default_factory=set, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, body_bytes: int, response: httpx.Response) -> None:
        """An API deposit: counted when the answer is a 202 naming its idDepot."""
        if response.status_code != 202:
            return
        try:
            id_depot = str(response.json()["idDepot"])
        except (ValueError, KeyError, TypeError):
            return
        self.accepted(id_depot, body_bytes)

    def accepted(self, id_depot: str, body_bytes: int) -> None:
        """A deposit the target accepted, in whatever mode (an API deposit, an archive, a pli), counted once."""
        with self._lock:
            if id_depot not in self._seen:
                self._seen.add(id_depot)
                self._add(self.suite, 1, body_bytes)

    def add(self, suite: str, deposits: int, bytes_sent: int) -> None:
        """Deposits counted elsewhere (a load run's locust processes), filed under `suite`."""
        with self._lock:
            self._add(suite, deposits, bytes_sent)

    def _add(self, suite: str, deposits: int, bytes_sent: int) -> None:
        self.deposits += deposits
        self.bytes_sent += bytes_sent
        before = self.per_suite.get(suite, (0, 0))
        self.per_suite[suite] = (before[0] + deposits, before[1] + bytes_sent)

    def breakdown(self) -> dict[str, dict[str, int]]:
        """Per suite, as the reports write it: `{"bdd": {"depots": 3, "octets": 1200}}`."""
        return {suite or "hors suite": {"depots": d, "octets": b} for suite, (d, b) in sorted(self.per_suite.items())}


class HttpSession:
    """An httpx client (`http`) closed by `close()` or at the end of a `with` block."""

    http: httpx.Client

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class AspClient(HttpSession):
    """Calls one major of a titulaire API as the ASP does: HTTPS, mutual TLS, a Bearer token when `auth` is given."""

    def __init__(
        self,
        base_url: str,
        verify: ssl.SSLContext | bool,
        auth: httpx.Auth | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        major: Major,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        meter: DepositMeter | None = None,
        on_request: Callable[[httpx.Request], None] | None = None,
        on_response: Callable[[httpx.Response], None] | None = None,
    ) -> None:
        hooks: dict[str, list[Callable[..., Any]]] = {
            "request": [on_request] if on_request else [],
            "response": [on_response] if on_response else [],
        }
        self.http = httpx.Client(
            base_url=base_url,
            verify=verify,
            auth=auth,
            headers=dict(headers or {}),
            timeout=timeout,
            event_hooks=hooks,
        )
        self.meter = meter or DepositMeter()
        self.major = major

    def deposit(
        self,
        metadonnees: Mapping[str, Any],
        documents: Sequence[Document],
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        """POST …/depots with a metadonnees part (in the harness's model) and one document part per document."""
        return self.send_body(self.body(metadonnees, documents), idempotency_key)

    def body(self, metadonnees: Mapping[str, Any], documents: Sequence[Document]) -> DepositBody:
        """A deposit body of this major: `metadonnees` written in its model."""
        return DepositBody(self.major.wire_metadata(dict(metadonnees)), documents)

    def send_body(self, body: DepositBody, idempotency_key: str | None = None, chunked: bool = False) -> httpx.Response:
        """POST a prepared deposit body, with its Content-Length or chunked."""
        headers = {"Content-Type": body.content_type}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        content: Any = body.chunks() if chunked else body.content()
        response = self.http.post(self.major.path("/depots"), content=content, headers=headers)
        self.meter.record(body.size, response)
        return response

    def body_size_for_transaction(self, transaction_bytes: int, metadonnees: Mapping[str, Any]) -> int:
        """The request body size whose transaction (request body + receipt) is exactly `transaction_bytes`.

        The receipt's size is observed on a small deposit: it grows only with the digits of `tailleOctets`.
        """
        probe = self.deposit(metadonnees, [Document("sonde.txt", b"sonde")])
        probe.raise_for_status()
        overhead = len(probe.content) - len(str(probe.json()["tailleOctets"]))
        size = transaction_bytes - overhead - len(str(transaction_bytes))
        if len(str(size)) != len(str(transaction_bytes)):  # one digit fewer in tailleOctets: one byte more of body
            size += 1
        return size

    def state(self, id_depot: str) -> httpx.Response:
        return self.http.get(self.major.path(f"/depots/{id_depot}"))

    def resend(self, id_depot: str) -> httpx.Response:
        return self.http.post(self.major.path(f"/depots/{id_depot}/retransmissions"))

    def health(self) -> httpx.Response:
        return self.http.get(self.major.path("/sante"))


class CallbackInspector(HttpSession):
    """Reads what the mock ASP callback API received (`/_inspection/…`) and arms its faults.

    `verify` must present the recette team's client certificate: the mock refuses any other (403).
    """

    def __init__(self, base_url: str, verify: ssl.SSLContext | bool) -> None:
        self.http = httpx.Client(base_url=base_url, verify=verify, timeout=DEFAULT_TIMEOUT)

    def received(self, id_depot: str | None = None, everything: bool = False) -> list[dict[str, Any]]:
        """The calls the mock received since its latest mark (all with `everything`; one deposit's with `id_depot`)."""
        params = {"idDepot": id_depot} if id_depot else {}
        if everything:
            params["tout"] = "1"
        response = self.http.get("/_inspection/retours", params=params)
        response.raise_for_status()
        return response.json()

    def wait_for_return(self, id_depot: str, timeout: float = 30.0, count: int = 1) -> list[dict[str, Any]]:
        """Wait until `count` calls for `id_depot` were received, at most `timeout` seconds (the campaign's
        suites give the service contract's deadline; the default is for the harness's own tests)."""

        def enough() -> list[dict[str, Any]] | None:
            calls = self.received(id_depot)
            return calls if len(calls) >= count else None

        return wait_until(enough, f"{count} retour(s) reçu(s) pour le dépôt {id_depot}", timeout)

    def arm_fault(self, kind: str, count: int = 1, delay_seconds: float | None = None) -> None:
        """Make the next `count` calls fail: erreur-500, erreur-503, delai or coupure."""
        fault: dict[str, Any] = {"type": kind, "nombre": count}
        if delay_seconds is not None:
            fault["delaiSecondes"] = delay_seconds
        self.http.post("/_inspection/pannes", json=fault).raise_for_status()

    def clear_faults(self) -> None:
        self.http.delete("/_inspection/pannes").raise_for_status()

    def mails(self) -> list[dict[str, Any]]:
        response = self.http.get("/_inspection/courriels")
        response.raise_for_status()
        return response.json()

    def evidence_digest(self) -> dict[str, Any]:
        """The empreinte of the evidence the run is judged on: the mock's journal file, as
        `{"algorithme": "SHA-256", "empreinte": hex, "lignes": n, "octets": n, "lignesIllisibles": n}`."""
        response = self.http.get("/_inspection/empreinte")
        response.raise_for_status()
        return response.json()
