"""Durable state of the reference titulaire: SQLite in WAL mode.

Deposits (dépôts), their documents (pièces) and state history, the outbox of returns (retours) with
their acknowledgements (acquittements), and incidents. The deposits table is also the worker's queue and
the returns table the outbox: nothing lives only in memory, so a restart loses nothing.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS deposits (
    id TEXT PRIMARY KEY,
    received_at TEXT NOT NULL,
    metadata TEXT NOT NULL,
    body_bytes INTEGER NOT NULL,
    digest TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    idempotency_key TEXT UNIQUE,
    status TEXT NOT NULL,
    retain_until TEXT NOT NULL,
    purged_at TEXT,
    run_id TEXT,
    motif TEXT
);
CREATE INDEX IF NOT EXISTS deposits_status ON deposits (status);
CREATE TABLE IF NOT EXISTS documents (
    deposit_id TEXT NOT NULL REFERENCES deposits (id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    digest TEXT NOT NULL,
    path TEXT NOT NULL,
    PRIMARY KEY (deposit_id, position)
);
CREATE TABLE IF NOT EXISTS events (
    deposit_id TEXT NOT NULL REFERENCES deposits (id),
    status TEXT NOT NULL,
    at TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS events_deposit ON events (deposit_id);
CREATE TABLE IF NOT EXISTS returns (
    deposit_id TEXT PRIMARY KEY REFERENCES deposits (id),
    return_id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    payload TEXT,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    ack_id TEXT,
    acked_at TEXT,
    generation INTEGER NOT NULL DEFAULT 0,
    lease_until TEXT
);
CREATE INDEX IF NOT EXISTS returns_state ON returns (state);
CREATE TABLE IF NOT EXISTS archives (
    archive_id TEXT PRIMARY KEY,
    deposit_id TEXT REFERENCES deposits (id),
    notice TEXT NOT NULL,
    published_at TEXT
);
CREATE TABLE IF NOT EXISTS incidents (
    id TEXT PRIMARY KEY,
    deposit_id TEXT REFERENCES deposits (id),
    opened_at TEXT NOT NULL,
    summary TEXT NOT NULL,
    detail TEXT NOT NULL,
    mailed_at TEXT
);
"""


ADDED_COLUMNS = (
    ("returns", "generation", "INTEGER NOT NULL DEFAULT 0"),
    ("returns", "lease_until", "TEXT"),
    ("deposits", "mode", "TEXT NOT NULL DEFAULT 'API'"),
    ("documents", "uid", "TEXT"),
    ("deposits", "pli", "TEXT"),
)
"""Columns added since the first schema: (table, column, declaration)."""


@dataclass(frozen=True)
class DocumentRecord:
    """One stored document (pièce) of a deposit."""

    position: int
    name: str
    content_type: str
    size: int
    digest: str
    path: Path
    uid: str | None = None
    """Archive mode: the UID of the piece this document belongs to, from the manifest."""


@dataclass(frozen=True)
class DepositRecord:
    """One deposit (dépôt) as stored."""

    id: str
    received_at: datetime
    metadata: dict[str, Any]
    body_bytes: int
    digest: str
    fingerprint: str
    status: str
    retain_until: datetime
    purged: bool
    run_id: str | None = None
    """Billing tags of the run that sent it (X-Recette-Run, X-Recette-Motif), for reconciliation."""
    motif: str | None = None
    mode: str = "API"
    """How it came (modeEchange): API, DOSSIER for an archive, PAPIER for a pli."""
    pli: dict[str, Any] | None = None
    """Mode papier: the pli's registration and digitization (`harness.reference.paper.mailroom.PliRecord`)."""


@dataclass(frozen=True)
class ReturnRecord:
    """The single return (retour) of a deposit, as the outbox holds it."""

    deposit_id: str
    return_id: str
    status: str
    payload: dict[str, Any] | None
    state: str
    attempts: int
    ack_id: str | None
    acked_at: datetime | None
    generation: int = 0
    """How many retransmissions were asked: a delivery settles the row only if none was asked meanwhile."""


class DuplicateIdempotencyKey(Exception):
    """Another deposit already holds this Idempotency-Key."""


PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600
"""Modes of what the reference writes: its data (deposits, results) is readable by its own user only."""


class Store:
    """SQLite access for the reference. One connection, serialized by a lock; every write is a transaction.

    The event loop never waits on SQLite (an fsync per commit): its coroutines `await store.run(…)`, which
    runs the operation on the store's one thread. Other threads (tests, the campaign) may call it directly.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        path.touch(mode=PRIVATE_FILE)  # SQLite gives its -wal and -shm files the database's mode
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="store")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Columns added since the first schema, for a data directory made by an older reference."""
        for table, name, declaration in ADDED_COLUMNS:
            columns = {row["name"] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if name not in columns:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")

    async def run(self, operation: Callable[..., T], *args: Any) -> T:
        """`operation(*args)` on the store's thread, awaited without holding the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self._thread, operation, *args)

    def close(self) -> None:
        self._thread.shutdown(wait=True)
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _rows(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # -- deposits ------------------------------------------------------------------------------------

    def add_deposit(self, deposit: DepositRecord, documents: list[DocumentRecord], idempotency_key: str | None) -> None:
        """Record a received deposit with its documents and its first event, atomically."""
        try:
            with self._transaction() as db:
                _insert_deposit(db, deposit, documents, idempotency_key)
        except sqlite3.IntegrityError as error:
            if "idempotency_key" in str(error):
                raise DuplicateIdempotencyKey(idempotency_key) from error
            raise

    def deposit(self, deposit_id: str) -> DepositRecord | None:
        rows = self._rows("SELECT * FROM deposits WHERE id = ?", deposit_id)
        return _deposit(rows[0]) if rows else None

    def deposit_by_key(self, idempotency_key: str) -> DepositRecord | None:
        rows = self._rows("SELECT * FROM deposits WHERE idempotency_key = ?", idempotency_key)
        return _deposit(rows[0]) if rows else None

    def count_deposits(self) -> int:
        return self._rows("SELECT COUNT(*) AS n FROM deposits")[0]["n"]

    def deposits_of_run(self, run_id: str) -> tuple[int, int]:
        """How many deposits a run sent, and their body bytes (billing reconciliation)."""
        row = self._rows(
            "SELECT COUNT(*) AS n, COALESCE(SUM(body_bytes), 0) AS b FROM deposits WHERE run_id = ?", run_id
        )[0]
        return row["n"], row["b"]

    def count_plis(self) -> int:
        """How many plis were registered (mode papier): the sequence of their identifiers."""
        return self._rows("SELECT COUNT(*) AS n FROM deposits WHERE mode = 'PAPIER'")[0]["n"]

    def documents(self, deposit_id: str) -> list[DocumentRecord]:
        rows = self._rows("SELECT * FROM documents WHERE deposit_id = ? ORDER BY position", deposit_id)
        return [
            DocumentRecord(
                r["position"], r["name"], r["content_type"], r["size"], r["digest"], Path(r["path"]), r["uid"]
            )
            for r in rows
        ]

    def events(self, deposit_id: str) -> list[dict[str, Any]]:
        rows = self._rows("SELECT status, at, detail FROM events WHERE deposit_id = ? ORDER BY rowid", deposit_id)
        return [{"status": r["status"], "at": datetime.fromisoformat(r["at"]), "detail": r["detail"]} for r in rows]

    def set_status(self, deposit_id: str, status: str, at: datetime, detail: str | None = None) -> None:
        with self._transaction() as db:
            _set_status(db, deposit_id, status, at, detail)

    def deposits_in(self, *statuses: str) -> list[str]:
        marks = ",".join("?" * len(statuses))
        rows = self._rows(f"SELECT id FROM deposits WHERE status IN ({marks}) ORDER BY received_at", *statuses)
        return [r["id"] for r in rows]

    # -- returns (the outbox) ------------------------------------------------------------------------

    def add_return(self, deposit_id: str, return_id: str, status: str, payload: dict[str, Any], at: datetime) -> None:
        """Store the deposit's single return, ready to send, and mark the deposit processed (TRAITE)."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO returns (deposit_id, return_id, status, payload, state) VALUES (?, ?, ?, ?, 'pending')",
                (deposit_id, return_id, status, json.dumps(payload, ensure_ascii=False)),
            )
            _set_status(db, deposit_id, "TRAITE", at, None)

    def return_of(self, deposit_id: str) -> ReturnRecord | None:
        rows = self._rows("SELECT * FROM returns WHERE deposit_id = ?", deposit_id)
        return _return(rows[0]) if rows else None

    def lease_due_returns(self, now: datetime, lease_seconds: float, limit: int) -> list[ReturnRecord]:
        """Lease up to `limit` pending returns nobody holds (or whose lease ran out) to the caller, oldest first."""
        with self._transaction() as db:
            rows = db.execute(
                "SELECT * FROM returns WHERE state = 'pending' AND (lease_until IS NULL OR lease_until <= ?) "
                "ORDER BY rowid LIMIT ?",
                (_ts(now), limit),
            ).fetchall()
            until = _ts(now + timedelta(seconds=lease_seconds))
            db.executemany(
                "UPDATE returns SET lease_until = ? WHERE deposit_id = ?", [(until, r["deposit_id"]) for r in rows]
            )
        return [_return(r) for r in rows]

    def leases(self) -> set[str]:
        """The deposits whose return a delivery holds now."""
        return {r["deposit_id"] for r in self._rows("SELECT deposit_id FROM returns WHERE lease_until IS NOT NULL")}

    def release_leases(self) -> None:
        """At start-up: the only deliverer is this process, so no lease taken before it still holds."""
        with self._transaction() as db:
            db.execute("UPDATE returns SET lease_until = NULL WHERE lease_until IS NOT NULL")

    def record_delivery(self, record: ReturnRecord, attempts: int, ack_id: str, at: datetime, detail: str) -> None:
        """The ASP acknowledged the return: deposit RETOURNE then ACQUITTE.

        The row is settled only if no retransmission was asked during the delivery (same generation);
        otherwise it stays pending, released, and is sent again.
        """
        with self._transaction() as db:
            db.execute(
                "UPDATE returns SET attempts = attempts + ?, ack_id = ?, acked_at = ?, lease_until = NULL, "
                "state = CASE WHEN generation = ? THEN 'delivered' ELSE state END WHERE deposit_id = ?",
                (attempts, ack_id, _ts(at), record.generation, record.deposit_id),
            )
            _set_status(db, record.deposit_id, "RETOURNE", at, detail)
            _set_status(db, record.deposit_id, "ACQUITTE", at, f"acquittement {ack_id}")

    def record_failure(self, record: ReturnRecord, attempts: int) -> bool:
        """The retry budget is spent: the return fails, unless a retransmission was asked meanwhile
        (then it stays pending, released, with a fresh budget). True when it failed."""
        with self._transaction() as db:
            db.execute(
                "UPDATE returns SET attempts = attempts + ?, lease_until = NULL, "
                "state = CASE WHEN generation = ? THEN 'failed' ELSE state END WHERE deposit_id = ?",
                (attempts, record.generation, record.deposit_id),
            )
            state = db.execute("SELECT state FROM returns WHERE deposit_id = ?", (record.deposit_id,)).fetchone()
        return bool(state["state"] == "failed")

    def failures_not_reported(self) -> list[str]:
        """Deposits whose return failed but which a crash left before ECHEC (the incident may be missing)."""
        rows = self._rows(
            "SELECT r.deposit_id FROM returns r JOIN deposits d ON d.id = r.deposit_id "
            "WHERE r.state = 'failed' AND d.status != 'ECHEC'"
        )
        return [r["deposit_id"] for r in rows]

    def schedule_resend(self, deposit_id: str, at: datetime) -> None:
        """Put the same return back in the outbox (retransmission asked by the ASP), as a new generation."""
        with self._transaction() as db:
            db.execute(
                "UPDATE returns SET state = 'pending', generation = generation + 1 WHERE deposit_id = ?", (deposit_id,)
            )
            db.execute(
                "INSERT INTO events VALUES (?, (SELECT status FROM deposits WHERE id = ?), ?, ?)",
                (deposit_id, deposit_id, _ts(at), "retransmission demandée"),
            )

    # -- archives (mode dossier) ---------------------------------------------------------------------

    def add_archive(
        self, archive_id: str, notice: dict[str, Any], deposit: DepositRecord | None, documents: list[DocumentRecord]
    ) -> None:
        """Record an archive's reception notice and, when it is accepted, its deposit, atomically."""
        with self._transaction() as db:
            if deposit is not None:
                _insert_deposit(db, deposit, documents, None)
            db.execute(
                "INSERT INTO archives VALUES (?, ?, ?, NULL)",
                (archive_id, deposit.id if deposit else None, json.dumps(notice, ensure_ascii=False)),
            )

    def archive_notice(self, archive_id: str) -> dict[str, Any] | None:
        """The reception notice of an archive already received, or None."""
        rows = self._rows("SELECT notice FROM archives WHERE archive_id = ?", archive_id)
        return json.loads(rows[0]["notice"]) if rows else None

    def archive_of_deposit(self, deposit_id: str) -> tuple[str, bool] | None:
        """The identifier of the archive a deposit came from (mode dossier) and whether its notice is published
        on the deposit server, or None."""
        rows = self._rows("SELECT archive_id, published_at FROM archives WHERE deposit_id = ?", deposit_id)
        return (str(rows[0]["archive_id"]), rows[0]["published_at"] is not None) if rows else None

    def unpublished_notices(self) -> list[dict[str, Any]]:
        """The notices recorded but not yet on the deposit server (a publication failed or was cut short)."""
        rows = self._rows("SELECT notice FROM archives WHERE published_at IS NULL ORDER BY rowid")
        return [json.loads(r["notice"]) for r in rows]

    def mark_notice_published(self, archive_id: str, at: datetime) -> None:
        with self._transaction() as db:
            db.execute("UPDATE archives SET published_at = ? WHERE archive_id = ?", (_ts(at), archive_id))

    # -- incidents -----------------------------------------------------------------------------------

    def add_incident(self, incident_id: str, deposit_id: str | None, at: datetime, summary: str, detail: str) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO incidents VALUES (?, ?, ?, ?, ?, NULL)",
                (incident_id, deposit_id, _ts(at), summary, detail),
            )

    def mark_incident_mailed(self, incident_id: str, at: datetime) -> None:
        with self._transaction() as db:
            db.execute("UPDATE incidents SET mailed_at = ? WHERE id = ?", (_ts(at), incident_id))

    def has_incident(self, deposit_id: str) -> bool:
        return bool(self._rows("SELECT 1 FROM incidents WHERE deposit_id = ? LIMIT 1", deposit_id))

    def incidents(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self._rows("SELECT * FROM incidents ORDER BY opened_at")]

    # -- retention -----------------------------------------------------------------------------------

    def expired(self, now: datetime) -> list[str]:
        rows = self._rows("SELECT id FROM deposits WHERE purged_at IS NULL AND retain_until <= ?", _ts(now))
        return [r["id"] for r in rows]

    def mark_purged(self, deposit_id: str, at: datetime) -> None:
        """Forget the results and documents of a deposit; its id stays known, as expired."""
        with self._transaction() as db:
            db.execute("UPDATE deposits SET purged_at = ?, metadata = '{}' WHERE id = ?", (_ts(at), deposit_id))
            db.execute("UPDATE returns SET payload = NULL WHERE deposit_id = ?", (deposit_id,))
            db.execute("DELETE FROM documents WHERE deposit_id = ?", (deposit_id,))


def _ts(moment: datetime) -> str:
    """A fixed-width UTC timestamp, so that stored times compare as text."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _insert_event(db: sqlite3.Connection, deposit_id: str, status: str, at: datetime, detail: str | None) -> None:
    db.execute("INSERT INTO events VALUES (?, ?, ?, ?)", (deposit_id, status, _ts(at), detail))


def _insert_deposit(
    db: sqlite3.Connection, deposit: DepositRecord, documents: list[DocumentRecord], idempotency_key: str | None
) -> None:
    db.execute(
        "INSERT INTO deposits (id, received_at, metadata, body_bytes, digest, fingerprint, idempotency_key, status, "
        "retain_until, run_id, motif, mode, pli) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            deposit.id,
            _ts(deposit.received_at),
            json.dumps(deposit.metadata, ensure_ascii=False),
            deposit.body_bytes,
            deposit.digest,
            deposit.fingerprint,
            idempotency_key,
            deposit.status,
            _ts(deposit.retain_until),
            deposit.run_id,
            deposit.motif,
            deposit.mode,
            json.dumps(deposit.pli, ensure_ascii=False) if deposit.pli is not None else None,
        ),
    )
    db.executemany(
        "INSERT INTO documents (deposit_id, position, name, content_type, size, digest, path, uid) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(deposit.id, d.position, d.name, d.content_type, d.size, d.digest, str(d.path), d.uid) for d in documents],
    )
    _insert_event(db, deposit.id, deposit.status, deposit.received_at, None)


def _set_status(db: sqlite3.Connection, deposit_id: str, status: str, at: datetime, detail: str | None) -> None:
    db.execute("UPDATE deposits SET status = ? WHERE id = ?", (status, deposit_id))
    _insert_event(db, deposit_id, status, at, detail)


def _deposit(row: sqlite3.Row) -> DepositRecord:
    return DepositRecord(
        id=row["id"],
        received_at=datetime.fromisoformat(row["received_at"]),
        metadata=json.loads(row["metadata"]),
        body_bytes=row["body_bytes"],
        digest=row["digest"],
        fingerprint=row["fingerprint"],
        status=row["status"],
        retain_until=datetime.fromisoformat(row["retain_until"]),
        purged=row["purged_at"] is not None,
        run_id=row["run_id"],
        motif=row["motif"],
        mode=row["mode"],
        pli=json.loads(row["pli"]) if row["pli"] else None,
    )


def _return(row: sqlite3.Row) -> ReturnRecord:
    return ReturnRecord(
        deposit_id=row["deposit_id"],
        return_id=row["return_id"],
        status=row["status"],
        payload=json.loads(row["payload"]) if row["payload"] else None,
        state=row["state"],
        attempts=row["attempts"],
        ack_id=row["ack_id"],
        acked_at=datetime.fromisoformat(row["acked_at"]) if row["acked_at"] else None,
        generation=row["generation"],
    )
