"""Reception of a deposit body (`harness/reference/intake.py`): what reaches stable storage before the 202."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.foundations.asp_client import DepositBody, Document
from harness.reference.intake import MultipartIntake, boundary_of
from harness.reference.settings import IntakeLimits


def test_a_flushed_deposit_has_its_documents_its_folder_and_the_folder_s_entry_fsynced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = DepositBody({"identifiantDossier": "D-1"}, [Document("a.pdf", b"%PDF a"), Document("b.pdf", b"%PDF b")])
    folder = tmp_path / "depots" / "id-du-depot"
    folder.parent.mkdir()
    intake = MultipartIntake(boundary_of(body.content_type, 70), folder, IntakeLimits())
    intake.feed([body.content()])
    received = intake.finish()
    synced: list[Path] = []
    fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(Path(os.readlink(f"/proc/self/fd/{fd}"))), fsync(fd)))

    intake.flush()

    assert synced == [*(document.path for document in received.documents), folder, folder.parent]
