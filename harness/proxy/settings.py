"""What one proxy run is given: its legs, certificates, tags, limits and faults, as JSON for its process."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from harness.foundations.billing import BillingTags
from harness.foundations.limits import TRANSACTION_LIMIT_BYTES
from harness.foundations.servers import LOOPBACK
from harness.foundations.tls import CertificatePair

TITULAIRE_LEG = "titulaire"
CALLBACK_LEG = "asp-callback"
LEGS = (TITULAIRE_LEG, CALLBACK_LEG)
FAULT_KINDS = ("delai", "503", "coupure")
SETTINGS_FILE = "proxy-settings.json"
READY_FILE = "proxy-ready.json"


@dataclass(frozen=True)
class Leg:
    """One side of the exchange: where the proxy listens, where it forwards, which identity it presents there."""

    name: str
    upstream: str
    """The real server, `https://host:port` (no path)."""
    client: CertificatePair
    """The client certificate presented upstream (the ASP's to the titulaire, the titulaire's to the ASP)."""
    port: int = 0
    """The listen port; 0: a free one."""
    host: str = LOOPBACK
    """The listen address."""


@dataclass(frozen=True)
class FaultRule:
    """A fault injected on `leg` into `share` of its requests (every 1/share-th one, counted): a `delai` of
    `seconds` before forwarding, a `503` problem+json instead of forwarding, or a `coupure` of the connection."""

    kind: str
    leg: str
    share: float = 1.0
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"panne inconnue « {self.kind} » : choisir parmi {', '.join(FAULT_KINDS)}")
        if self.leg not in LEGS:
            raise ValueError(f"jambe inconnue « {self.leg} » : choisir parmi {', '.join(LEGS)}")
        if not 0 < self.share <= 1:
            raise ValueError(f"part de requêtes hors de ]0, 1] : {self.share}")

    @classmethod
    def parse(cls, text: str) -> FaultRule:
        """`leg:kind[:share[:seconds]]`, e.g. `titulaire:503:0.5` or `asp-callback:delai:1:2.5`."""
        leg, _, rest = text.partition(":")
        kind, _, rest = rest.partition(":")
        share, _, seconds = rest.partition(":")
        try:
            return cls(kind, leg, float(share or 1), float(seconds or 0))
        except ValueError as error:
            raise ValueError(f"panne « {text} » : {error}") from error


@dataclass(frozen=True)
class ProxySettings:
    """Everything the proxy process needs; `run_dir` is `reports/<run-id>`, where the journal goes."""

    run_dir: Path
    ca: Path
    """Trusted for the upstream servers and required of every downstream client certificate."""
    server: CertificatePair
    """The certificate the proxy presents downstream (signed by the run's CA)."""
    legs: tuple[Leg, ...]
    tags: BillingTags
    body_bytes: int = 64 * 1024
    """Bodies up to this size are kept as files beside the journal (0: none); every body is measured and hashed."""
    limit_bytes: int = TRANSACTION_LIMIT_BYTES
    refuse_over_limit: bool = False
    """Refuse a declared-too-large request with the reference's 413 problem+json instead of only flagging it."""
    faults: tuple[FaultRule, ...] = ()
    max_return_delay_seconds: float | None = None
    """The service contract's delay for a return; None: the project's service contract."""
    ledger: Path | None = None
    """The billing ledger the run's line is appended to on stop; None: none."""
    client_ca: Path | None = None
    """The CA required of downstream client certificates when it is not `ca` (a real platform's CA is not the
    one that issues the harness's certificate towards the proxy); None: `ca`."""

    def leg(self, name: str) -> Leg:
        return next(leg for leg in self.legs if leg.name == name)

    def write(self) -> Path:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        path = self.run_dir / SETTINGS_FILE
        path.write_text(json.dumps(dataclasses.asdict(self), default=str, indent=2), encoding="utf-8")
        return path

    @classmethod
    def read(cls, path: Path) -> ProxySettings:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            run_dir=Path(data["run_dir"]),
            ca=Path(data["ca"]),
            server=_pair(data["server"]),
            legs=tuple(
                Leg(leg["name"], leg["upstream"], _pair(leg["client"]), leg["port"], leg["host"])
                for leg in data["legs"]
            ),
            tags=BillingTags(**data["tags"]),
            body_bytes=data["body_bytes"],
            limit_bytes=data["limit_bytes"],
            refuse_over_limit=data["refuse_over_limit"],
            faults=tuple(FaultRule(**rule) for rule in data["faults"]),
            max_return_delay_seconds=data["max_return_delay_seconds"],
            ledger=Path(data["ledger"]) if data["ledger"] else None,
            client_ca=Path(data["client_ca"]) if data["client_ca"] else None,
        )


def _pair(data: dict[str, str]) -> CertificatePair:
    return CertificatePair(Path(data["cert"]), Path(data["key"]))


def both_legs(
    titulaire: str,
    callback: str,
    asp_client: CertificatePair,
    titulaire_client: CertificatePair,
    callback_port: int = 0,
) -> tuple[Leg, Leg]:
    """The two legs: in front of the titulaire at `titulaire` (presenting the ASP's certificate) and in front
    of the ASP's callback at `callback` (presenting the titulaire's), the latter on `callback_port`."""
    return (
        Leg(TITULAIRE_LEG, titulaire, asp_client),
        Leg(CALLBACK_LEG, callback, titulaire_client, callback_port),
    )
