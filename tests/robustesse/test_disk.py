"""What the reference leaves on disk: its own user's only, and no debris of a crash after a restart."""

from __future__ import annotations

import stat
from pathlib import Path

from tests.conftest import StartEnvironment, metadonnees, pdf


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_database_and_the_documents_are_private(new_environment: StartEnvironment) -> None:
    env = new_environment()
    with env.asp_client() as client:
        id_depot = client.deposit(metadonnees(), [pdf()]).json()["idDepot"]
    data_dir = env.titulaire.settings.data_dir
    folder = env.titulaire.deposit_directory(id_depot)
    databases = list(data_dir.glob("titulaire.sqlite3*"))
    assert len(databases) >= 2  # the database and its write-ahead log
    assert {mode(path) for path in databases} == {0o600}
    assert mode(data_dir / "depots") == mode(folder) == 0o700
    assert {mode(path) for path in folder.iterdir()} == {0o600}


def test_crash_debris_is_removed_at_start_up(new_environment: StartEnvironment) -> None:
    first = new_environment()
    with first.asp_client() as client:
        kept = client.deposit(metadonnees(), [pdf()]).json()["idDepot"]
    first.stop()
    deposits = first.titulaire.deposits_directory()
    (deposits / "televersement-interrompu").mkdir()
    (deposits / "televersement-interrompu" / "0001").write_bytes(b"%PDF-1.7 half")
    (deposits / "fichier-orphelin").write_bytes(b"x")
    restarted = new_environment(data_dir=first.titulaire.settings.data_dir)
    assert {p.name for p in restarted.titulaire.deposits_directory().iterdir()} == {kept}
