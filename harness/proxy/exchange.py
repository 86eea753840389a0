"""One exchange through the proxy (échange), as plain data: what the journal, the HAR and the page show.

Secrets never leave the proxy: `Authorization`, cookies and token-bearing headers are redacted, and so are
the token, secret and assertion fields of a form or JSON body kept as a file.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from harness.conformance.deposits import DEPOSIT_ROUTE
from harness.foundations.clock import Clock
from harness.foundations.contracts import ASP_CALLBACK_V1, load_yaml
from harness.foundations.majors import major_of
from harness.proxy.settings import CALLBACK_LEG, TITULAIRE_LEG, Leg

if TYPE_CHECKING:
    from mitmproxy import connection, http

KEY = "recette.exchange"
"""Where a flow's `Exchange` is kept (`flow.metadata`)."""
REDACTED = "[masqué]"
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"})
_SECRET_FIELDS = re.compile(
    rb'("?(?:access_token|refresh_token|id_token|client_secret|client_assertion|password)"?\s*[=:]\s*"?)([^"&,\s}]+)'
)


def redacted_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The headers with every secret value replaced."""
    return [(name, REDACTED if name.lower() in SECRET_HEADERS else value) for name, value in headers]


def redacted_body(body: bytes) -> bytes:
    """A body with the values of its token, secret and password fields replaced (form or JSON)."""
    return _SECRET_FIELDS.sub(lambda match: match.group(1) + REDACTED.encode(), body)


@dataclass
class BodyMeter:
    """A body measured and hashed as it goes through (streamed or whole); its first `keep` bytes held for the
    addons."""

    keep: int
    size: int = 0
    streamed: bool = False
    head: bytearray = field(default_factory=bytearray)
    _digest: Any = field(default_factory=hashlib.sha256, repr=False)

    def feed(self, chunk: bytes) -> bytes:
        self.size += len(chunk)
        self._digest.update(chunk)
        if len(self.head) <= self.keep:
            self.head += chunk[: self.keep + 1 - len(self.head)]
        return chunk

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    @property
    def whole(self) -> bytes | None:
        """The body, when it was held whole (at most `keep` bytes)."""
        return bytes(self.head) if len(self.head) <= self.keep and len(self.head) == self.size else None


@dataclass
class Exchange:
    """What the proxy saw of one request and its response, and what its addons judged of it."""

    number: int
    leg: str
    started: datetime
    method: str
    path: str
    client: str | None
    """The subject of the downstream client certificate (RFC 4514)."""
    url: str = ""
    """Where it was forwarded (the upstream URL, query included)."""
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    request: BodyMeter = field(default_factory=lambda: BodyMeter(0))
    response: BodyMeter = field(default_factory=lambda: BodyMeter(0))
    status: int | None = None
    duration_ms: float | None = None
    run: str | None = None
    motif: str | None = None
    tagged_by_proxy: bool = False
    id_depot: str | None = None
    id_retour: str | None = None
    contract: dict[str, str] = field(default_factory=dict)
    """`requete` / `reponse` → conforme, non conforme, non vérifiée (streamed or no contract for the route)."""
    violations: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    """What the limit and faults addons did: `limite-depassee`, `refusee-413`, `panne-503`, `coupure`, `delai`."""
    reconciliation: dict[str, Any] | None = None
    error: str | None = None
    files: dict[str, str] = field(default_factory=dict)

    @property
    def is_deposit(self) -> bool:
        """A `POST /vN/depots` (dépôt) to the titulaire."""
        major = major_of(self.path)
        return (
            self.leg == TITULAIRE_LEG
            and self.method == "POST"
            and major is not None
            and (self.path.rstrip("/").endswith(major.path(DEPOSIT_ROUTE)))
        )

    @property
    def is_return(self) -> bool:
        """A return (retour) posted to the ASP's callback API."""
        return self.leg == CALLBACK_LEG and self.method == "POST" and self.path == callback_route()

    @property
    def transaction_bytes(self) -> int:
        """The complete transaction: request and response bodies."""
        return self.request.size + self.response.size

    def line(self, limit_bytes: int) -> dict[str, Any]:
        """The journal line (French keys, like every report)."""
        return {
            "numero": self.number,
            "horodatage": self.started.isoformat().replace("+00:00", "Z"),
            "jambe": self.leg,
            "methode": self.method,
            "chemin": self.path,
            "url": self.url,
            "statut": self.status,
            "octetsRequete": self.request.size,
            "octetsReponse": self.response.size,
            "empreinteRequete": self.request.sha256,
            "empreinteReponse": self.response.sha256,
            "flux": {"requete": self.request.streamed, "reponse": self.response.streamed},
            "transaction": {
                "octets": self.transaction_bytes,
                "limiteOctets": limit_bytes,
                "depassee": self.transaction_bytes > limit_bytes,
            },
            "idDepot": self.id_depot,
            "idRetour": self.id_retour,
            "etiquettes": {"run": self.run, "motif": self.motif, "ajouteesParLeProxy": self.tagged_by_proxy},
            "dureeMs": self.duration_ms,
            "client": self.client,
            "contrat": self.contract,
            "violations": self.violations,
            "marques": self.flags,
            "rapprochement": self.reconciliation,
            "erreur": self.error,
            "fichiers": self.files,
            "entetesRequete": [list(pair) for pair in redacted_headers(self.request_headers)],
            "entetesReponse": [list(pair) for pair in redacted_headers(self.response_headers)],
        }


def callback_route() -> str:
    """The route of the ASP's callback API where returns are posted, as its contract names it."""
    return next(iter(load_yaml(ASP_CALLBACK_V1)["paths"]))


def json_of(body: bytes | None) -> Any:
    """A JSON body parsed, or None."""
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


class Recorder:
    """Addon `exchange`, first of the list: opens each flow's `Exchange` (its leg, client, start) and fills in
    what every other addon reads (headers, status, duration)."""

    def __init__(self, leg_of: Callable[[Any], Leg], clock: Clock) -> None:
        self.leg_of, self.clock = leg_of, clock
        self.count = itertools.count(1)

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        request = flow.request
        flow.metadata[KEY] = Exchange(
            next(self.count),
            self.leg_of(flow.client_conn).name,
            self.clock(),
            request.method,
            request.path.split("?", 1)[0],
            client_subject(flow.client_conn),
            url=redacted_body(request.url.encode()).decode(),
            request_headers=list(request.headers.items(multi=True)),
        )

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        exchange = of(flow)
        assert flow.response is not None
        exchange.status = flow.response.status_code
        exchange.response_headers = list(flow.response.headers.items(multi=True))

    def response(self, flow: http.HTTPFlow) -> None:
        self._finish(flow)

    def error(self, flow: http.HTTPFlow) -> None:
        """A flow that failed (cut, upstream down…); one that failed before its headers has no exchange."""
        if KEY in flow.metadata:
            exchange = self._finish(flow)
            exchange.error = str(flow.error) if flow.error else "erreur"

    def _finish(self, flow: http.HTTPFlow) -> Exchange:
        exchange = of(flow)
        exchange.duration_ms = round((self.clock() - exchange.started).total_seconds() * 1000, 1)
        return exchange


def of(flow: http.HTTPFlow) -> Exchange:
    """The flow's exchange (opened by `Recorder`)."""
    exchange: Exchange = flow.metadata[KEY]
    return exchange


def client_subject(client: connection.Client) -> str | None:
    """The subject of the certificate the downstream client presented."""
    if not client.certificate_list:
        return None
    return str(client.certificate_list[0].to_pyopenssl().to_cryptography().subject.rfc4514_string())
