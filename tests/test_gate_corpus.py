"""The gate's corpus: one folder per base/revision pair, with the changes and verdict expected by hand.

Each folder of `tests/gate_corpus/` holds `base.yaml`, `revision.yaml` (and any file they `$ref`) and
`expected.yaml`: `changes` (id, level, optionally a fragment of the location), `requiredBump`, `verdict`
and the `violations` rules of the semver check (the calendar is tested in test_gate_policy.py).
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.cli.gate import evaluate
from harness.gate.changes import Change

CORPUS = Path(__file__).parent / "gate_corpus"
PAIRS = sorted(p for p in CORPUS.iterdir() if p.is_dir())


def expected_of(pair: Path) -> dict[str, Any]:
    return yaml.safe_load((pair / "expected.yaml").read_text(encoding="utf-8"))


def test_the_corpus_is_large_enough() -> None:
    assert len(PAIRS) >= 40


@pytest.mark.parametrize("pair", PAIRS, ids=[p.name for p in PAIRS])
def test_pair(pair: Path) -> None:
    expected = expected_of(pair)
    result = evaluate(pair / "base.yaml", pair / "revision.yaml")
    found = Counter((c.id, c.level.value) for c in result.changes)
    wanted = Counter((c["id"], c["level"]) for c in expected["changes"])
    assert found == wanted, "\n".join(f"{c.id} {c.level.value} @ {c.location}" for c in result.changes)
    for item in expected["changes"]:
        if "location" in item:
            assert any(c.id == item["id"] and item["location"] in c.location for c in result.changes), item
    assert result.required_bump == expected["requiredBump"]
    assert result.verdict == expected["verdict"]
    assert [v.rule for v in result.violations] == expected.get("violations", [])
    assert all(_well_formed(change) for change in result.changes)


def _well_formed(change: Change) -> bool:
    return bool(change.location.strip()) and change.message.endswith(".") and len(change.message) > 10


def test_comparing_a_contract_with_itself_finds_nothing() -> None:
    """The project's own contract, whose callback `$ref`s reach into the ASP callback contract."""
    contract = Path(__file__).parents[1] / "contracts" / "titulaire" / "v1" / "openapi.yaml"
    result = evaluate(contract, contract)
    assert result.changes == []
    assert result.required_bump == "none"


def test_a_change_in_the_asp_callback_file_reaches_the_titulaire_contract(tmp_path: Path) -> None:
    """The titulaire contract's callback `$ref`s the ASP's file: its request is written by the titulaire."""
    contracts = Path(__file__).parents[1] / "contracts"
    for side in ("base", "revision"):
        shutil.copytree(contracts, tmp_path / side)
    callback = tmp_path / "revision" / "asp-callback" / "v1" / "openapi.yaml"
    text = callback.read_text(encoding="utf-8")
    callback.write_text(
        text.replace("enum: [API, DOSSIER, PAPIER]", "enum: [API, DOSSIER, PAPIER, MIXTE]"), encoding="utf-8"
    )
    contract = Path("titulaire") / "v1" / "openapi.yaml"
    result = evaluate(tmp_path / "base" / contract, tmp_path / "revision" / contract)
    assert [(c.id, c.level.value) for c in result.changes] == [("valeur-enum-ajoutee-requete", "breaking")]
    location = result.changes[0].location
    assert location.startswith(
        "POST /v1/depots callback retour POST https://callback.asp.example/v1/retours requestBody"
    )
    assert location.endswith("../../asp-callback/v1/openapi.yaml#/components/schemas/Retour/properties/modeEchange")
