"""Settings of the reference titulaire, with the defaults of the ASP's specification."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import isodate

from harness.foundations.archive_convention import RETURN_CHANNELS
from harness.foundations.limits import TRANSACTION_LIMIT_BYTES
from harness.foundations.servers import HeaderLimits
from harness.foundations.tls import CertificatePair
from harness.reference.faults import FAULTS, unknown_faults

DEFAULT_RETENTION = "P3M"


@dataclass(frozen=True)
class RetryPolicy:
    """How the callback client retries a return: exponential backoff (or the ASP's `Retry-After`), within a
    budget in time long enough to ride out an ASP outage of a few minutes, and short enough that the ASP hears
    of every deposit within the service contract's `delaiMaxRetour` (PT5M): by its return, or by its incident."""

    budget_seconds: float = 240.0
    """No new attempt starts after this long since the first one; then the deposit fails (ECHEC, incident). With
    the last delay and the last attempt's timeout, the worst case (`lease_seconds`, 280 s) ends within PT5M."""
    first_delay_seconds: float = 0.2
    max_delay_seconds: float = 30.0
    timeout_seconds: float = 10.0
    attempts: int | None = None
    """An optional cap on the attempts besides the time budget (None: the budget alone)."""
    honour_retry_after: bool = True
    """Wait what the ASP's `Retry-After` asks (RFC 9110 §10.2.3) rather than the backoff's own delay."""

    def lease_seconds(self) -> float:
        """How long the outbox leases a return to one delivery: its whole budget, and its last attempt."""
        return self.budget_seconds + self.max_delay_seconds + self.timeout_seconds

    def delay_before(self, attempt: int) -> float:
        """Delay before attempt number `attempt` (2, 3, …)."""
        return min(self.first_delay_seconds * 2 ** (attempt - 2), self.max_delay_seconds)


@dataclass(frozen=True)
class IntakeLimits:
    """Bounds on what one request may make the reference do, each enforced before the work it protects.

    Every refusal is a problem+json; the README's rules section lists each limit with its default and answer.
    """

    header_bytes: int = HeaderLimits.head_bytes
    """Bytes of the request line and headers; beyond: 400 requete-invalide, before more is buffered."""
    header_count: int = HeaderLimits.count
    """Headers of one request; beyond: 400 requete-invalide."""
    idle_seconds: float = 30.0
    """Longest wait for the next chunk of a deposit body; beyond: 400 requete-invalide, the slot freed."""
    upload_seconds: float = 900.0
    """Longest reception of one deposit body (20 MB at 25 kB/s); beyond: 400 requete-invalide."""
    boundary_length: int = 70
    """Characters of a multipart boundary (RFC 2046 allows 1 to 70); beyond: 400 requete-invalide."""
    parts: int = 1000
    """Parts of one deposit body; beyond: 413 transaction-trop-volumineuse."""
    metadata_bytes: int = 1_000_000
    """Bytes of the `metadonnees` part; beyond: 400 requete-invalide."""
    metadata_depth: int = 32
    """Nesting of objects and arrays in the metadata; beyond: 422 metadonnees-invalides."""
    file_name_length: int = 255
    """Characters of a document's file name; beyond (or a control character in it): 400 requete-invalide."""
    tag_length: int = 128
    """Characters of an `X-Recette-Run` or `X-Recette-Motif` tag; beyond: 400 parametre-invalide."""


# -- archive mode (mode dossier) -------------------------------------------------------------------


@dataclass(frozen=True)
class ArchiveLimits:
    """Bounds on what one archive may make the reference extract; beyond any, the archive is refused."""

    entries: int = 1000
    """Entries of one archive (trop-d-entrees)."""
    entry_bytes: int = 512 * 1024 * 1024
    """Decompressed bytes of one entry (entree-trop-volumineuse)."""
    total_bytes: int = 2 * 1024 * 1024 * 1024
    """Decompressed bytes of the whole archive (archive-trop-volumineuse)."""
    ratio: float = 100.0
    """Decompressed / compressed bytes of an entry, or of a whole tar.gz (taux-de-compression-excessif)."""
    manifest_bytes: int = 1_000_000
    """Bytes of `manifeste.json` (manifeste-invalide beyond)."""


@dataclass(frozen=True)
class ArchiveSettings:
    """How the reference reaches the ASP's deposit server, as a real titulaire would (SFTP or FTPS)."""

    protocol: str
    """`sftp` or `ftps`."""
    host: str
    port: int
    user: str
    key: Path | None = None
    """SFTP: our private key."""
    known_hosts: Path | None = None
    """SFTP: the server's host key (never trusted on first use)."""
    password: str | None = field(default=None, repr=False)
    """FTPS: our password (with our client certificate, `ReferenceSettings.client_cert`)."""
    poll_seconds: float = 0.5
    """How often `entrant/` is looked at."""
    limits: ArchiveLimits = field(default_factory=ArchiveLimits)
    return_channel: str = "api"
    """Where an archive's one return goes: `api` (the ASP's callback API) or `archive` (`sortant/<id>.retour.zip`)."""

    def __post_init__(self) -> None:
        if self.protocol not in ("sftp", "ftps"):
            raise ValueError(f"archive protocol must be sftp or ftps, got {self.protocol!r}")
        if self.return_channel not in RETURN_CHANNELS:
            raise ValueError(f"return channel must be one of {RETURN_CHANNELS}, got {self.return_channel!r}")

    @classmethod
    def from_json(cls, values: dict[str, Any]) -> ArchiveSettings:
        values = dict(values)
        for name in ("key", "known_hosts"):
            if values.get(name) is not None:
                values[name] = Path(values[name])
        values["limits"] = ArchiveLimits(**values.get("limits", {}))
        return cls(**values)


@dataclass(frozen=True)
class ReferenceSettings:
    """Everything the reference titulaire needs to run; every field has a sensible default."""

    data_dir: Path
    callback_url: str
    limit_bytes: int = TRANSACTION_LIMIT_BYTES
    retention: str = DEFAULT_RETENTION
    max_concurrent_deposits: int = 16
    limits: IntakeLimits = field(default_factory=IntakeLimits)
    drain_max_bytes: int = 256 * 1024 * 1024
    drain_seconds: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    poll_seconds: float = 0.5
    purge_every_seconds: float = 3600.0
    incident_mail_to: str = "incidents-recette@asp.example"
    incident_mail_from: str = "titulaire-reference@recette.local"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    validate_responses: bool = True
    majors: tuple[str, ...] | None = None
    """The path prefixes of the majors served (`("/v1",)`: a titulaire that has not yet published v2); None: all."""
    faults: tuple[str, ...] = ()
    """Deliberate defects, to prove a campaign catches them: names of `faults.FAULTS`."""
    ca_file: Path | None = None
    """CA bundle trusted for the ASP's callback API and the token issuer."""
    client_cert: Path | None = None
    """Our client certificate (and `client_key`) presented to the ASP's callback API (mutual TLS)."""
    client_key: Path | None = None
    issuer_url: str | None = None
    """OIDC issuer whose tokens the API accepts; None disables token checks (mutual TLS only)."""
    audience: str = "https://titulaire.recette.local"
    callback_token_url: str | None = None
    """Token endpoint of the ASP's issuer for the callback API; None: returns are sent without a token."""
    callback_client_id: str | None = None
    callback_client_secret: str | None = field(default=None, repr=False)
    """None or empty: tls_client_auth (RFC 8705), our client certificate is the credential."""
    callback_scopes: tuple[str, ...] = ("retours:ecrire",)
    archives: ArchiveSettings | None = None
    """The ASP's deposit server to watch (mode dossier); None: the API mode only."""
    pli_id_pattern: str = "PLI-{site}-{jour}-{numero:06d}"
    """Mode papier: the agreed pattern of a pli's identifier (`str.format`: site, canal, jour AAAAMMJJ in Paris,
    numero the pli's rank); the service contract's `modePapier.motifIdPli` is the expression it must match."""
    return_delay_seconds: float = 0.0
    """How long after a deposit's receipt its return leaves, on the reference's clock: a slow titulaire, still
    within `delaiMaxRetour`, to prove that the harness waits as the service contract allows (0: at once)."""

    def __post_init__(self) -> None:
        if unknown := unknown_faults(self.faults):
            raise ValueError(f"unknown faults {unknown}: choose among {sorted(FAULTS)}")
        if self.callback_token_url is not None and not self.callback_client_id:
            raise ValueError("callback_client_id is required with callback_token_url")

    def return_delay(self) -> timedelta:
        return timedelta(seconds=self.return_delay_seconds)

    def header_limits(self) -> HeaderLimits:
        """The bounds of the request head, for the server that runs the reference."""
        return HeaderLimits(self.limits.header_bytes, self.limits.header_count)

    def client_certificate(self) -> CertificatePair | None:
        """Our client certificate for the ASP's callback API and issuer, when one is configured."""
        if self.client_cert is None or self.client_key is None:
            return None
        return CertificatePair(self.client_cert, self.client_key)

    def retain_until(self, received_at: datetime) -> datetime:
        """End of the retention period of a deposit received at `received_at`."""
        return received_at + self.retention_period()

    def retention_period(self) -> timedelta | isodate.Duration:
        period = isodate.parse_duration(self.retention)
        origin = datetime(2000, 1, 1, tzinfo=UTC)
        if origin + period <= origin:
            raise ValueError(f"retention must be a positive ISO 8601 duration, got {self.retention!r}")
        return period

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form, for the standalone process (`python -m harness.reference`)."""
        return json.loads(json.dumps(dataclasses.asdict(self), default=str))

    @classmethod
    def from_json(cls, values: dict[str, Any]) -> ReferenceSettings:
        values = dict(values)
        for name in ("data_dir", "ca_file", "client_cert", "client_key"):
            if values.get(name) is not None:
                values[name] = Path(values[name])
        values["retry"] = RetryPolicy(**values.get("retry", {}))
        values["limits"] = IntakeLimits(**values.get("limits", {}))
        values["faults"] = tuple(values.get("faults", ()))
        if "callback_scopes" in values:
            values["callback_scopes"] = tuple(values["callback_scopes"])
        if values.get("archives") is not None:
            values["archives"] = ArchiveSettings.from_json(values["archives"])
        return cls(**values)
