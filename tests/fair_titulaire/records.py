"""What the fair titulaire keeps: each deposit, its states, its single return, and the idempotency keys."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator

CONTRACT = Path(__file__).parents[2] / "contracts" / "titulaire" / "v1" / "openapi.yaml"


def metadata_validator() -> Draft7Validator:
    """`MetadonneesDepot` of the titulaire contract, as a JSON Schema validator."""
    schemas = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))["components"]["schemas"]
    return Draft7Validator({"$ref": "#/components/schemas/MetadonneesDepot", "components": {"schemas": schemas}})


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Deposit:
    """One deposit (dépôt): what it carried, its history of states, and its return once produced."""

    metadata: dict[str, Any]
    pieces: list[dict[str, Any]]
    retention: timedelta
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    id_retour: str = field(default_factory=lambda: str(uuid.uuid4()))
    received_at: datetime = field(default_factory=now)
    history: list[tuple[str, datetime]] = field(default_factory=list)
    retour: dict[str, Any] | None = None
    """The return body, built once and sent identically at every delivery."""
    attempts: int = 0
    ack: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self.history.append(("RECU", self.received_at))

    @property
    def status(self) -> str:
        return self.history[-1][0]

    @property
    def kept_until(self) -> datetime:
        return self.received_at + self.retention

    def expired(self) -> bool:
        return now() >= self.kept_until

    def move(self, status: str) -> None:
        self.history.append((status, now()))


@dataclass
class Store:
    """Deposits by idDepot and receipts by Idempotency-Key (thread-safe)."""

    deposits: dict[str, Deposit] = field(default_factory=dict)
    keys: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    """Idempotency-Key → (fingerprint of the content, the receipt answered)."""
    lock: threading.RLock = field(default_factory=threading.RLock)

    def add(self, deposit: Deposit) -> None:
        with self.lock:
            self.deposits[deposit.id] = deposit

    def get(self, id_depot: str) -> Deposit | None:
        with self.lock:
            return self.deposits.get(id_depot)
