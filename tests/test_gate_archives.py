"""`recette gate` on the archive exchange's JSON Schemas: the OpenAPI diff, with the ASP-written schemas as
requests and the titulaire-written ones as responses, and the exchange's version in `version.yaml`.

Each folder of `tests/gate_corpus_archives/` holds `base/` and `revision/` (a schema and its `version.yaml`)
and `expected.yaml`: the schema's file name, the changes, `requiredBump`, `verdict` and `violations`.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from harness.cli.gate import evaluate, gate
from harness.gate.archives import WRITTEN_BY_ASP

CORPUS = Path(__file__).parent / "gate_corpus_archives"
PAIRS = sorted(p for p in CORPUS.iterdir() if p.is_dir())
ARCHIVES = Path(__file__).parents[1] / "contracts" / "archives" / "v1"


def expected_of(pair: Path) -> dict[str, Any]:
    return yaml.safe_load((pair / "expected.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("pair", PAIRS, ids=[p.name for p in PAIRS])
def test_pair(pair: Path) -> None:
    expected = expected_of(pair)
    schema = expected["schema"]
    result = evaluate(pair / "base" / schema, pair / "revision" / schema)
    found = Counter((c.id, c.level.value) for c in result.changes)
    assert found == Counter((c["id"], c["level"]) for c in expected["changes"]), [c.message for c in result.changes]
    assert result.required_bump == expected["requiredBump"]
    assert result.verdict == expected["verdict"]
    assert [v.rule for v in result.violations] == expected["violations"]
    assert all(c.place is not None and c.place.file.endswith(schema) for c in result.changes)


@pytest.mark.parametrize("schema", sorted(ARCHIVES.glob("*.schema.json")), ids=lambda p: p.name)
def test_each_schema_of_the_contract_compared_with_itself_finds_nothing(schema: Path) -> None:
    result = evaluate(schema, schema)
    assert (result.changes, result.required_bump, result.versions) == ([], "none", ("1.1.0", "1.1.0"))


def test_every_asp_written_schema_exists() -> None:
    """A renamed schema would silently become titulaire-written (a response) for the gate."""
    assert {p.name.removesuffix(".schema.json") for p in ARCHIVES.glob("*.schema.json")} >= WRITTEN_BY_ASP


def _revision(tmp_path: Path, version: str) -> Path:
    """A copy of the archive contract whose manifest gets a new required property, at `version`."""
    revision = tmp_path / "revision"
    shutil.copytree(ARCHIVES, revision)
    manifest = revision / "manifeste.schema.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["properties"]["lot"] = {"type": "string"}
    data["required"].append("lot")
    manifest.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    marker = revision / "version.yaml"
    marker.write_text(marker.read_text(encoding="utf-8").replace("1.1.0", version), encoding="utf-8")
    return manifest


@pytest.mark.parametrize(("version", "code"), [("1.2.0", 1), ("2.0.0", 0)])
def test_the_cli_demands_a_major_bump_for_a_breaking_manifest_change(tmp_path: Path, version: str, code: int) -> None:
    revision = _revision(tmp_path, version)
    base = ARCHIVES / "manifeste.schema.json"
    outcome = CliRunner().invoke(gate, [str(base), str(revision), "--format", "json"])
    assert outcome.exit_code == code, outcome.output
    report = json.loads(outcome.output)
    assert [c["id"] for c in report["changes"]] == ["propriete-requise-ajoutee-requete"]
    assert report["changes"][0]["location"].startswith("POST /archives/manifeste requestBody")


def test_a_schema_without_its_version_file_is_unreadable(tmp_path: Path) -> None:
    shutil.copy(ARCHIVES / "retour.schema.json", tmp_path / "retour.schema.json")
    outcome = CliRunner().invoke(gate, [str(tmp_path / "retour.schema.json"), str(ARCHIVES / "retour.schema.json")])
    assert outcome.exit_code == 2
    assert "version.yaml : fichier introuvable" in outcome.output
