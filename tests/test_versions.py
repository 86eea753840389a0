"""Two majors side by side: v1 and v2 on one store, the v1 deprecation signals, its end of life, the gate."""

from __future__ import annotations

import shutil
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from click.testing import CliRunner

from harness.cli.gate import gate
from harness.conformance import SentDeposit, TrackedDeposit, judge
from harness.foundations.asp_client import AspClient, CallbackInspector, DepositBody
from harness.foundations.calendar import Calendar, Release, parse_version
from harness.foundations.contracts import contracts_dir
from harness.foundations.majors import Major
from harness.reference.lifecycle import lifecycle_of
from tests.conftest import StartEnvironment, metadonnees, pdf
from tests.helpers import ManualClock

DEPRECATED = datetime(2027, 2, 8, tzinfo=UTC)
SUNSET = datetime(2027, 9, 30, tzinfo=UTC)
V1 = Major("v1")


def metadonnees_v2(**fields: Any) -> dict[str, Any]:
    """Valid v2 MetadonneesDepot, with `fields` added or replaced."""
    base: dict[str, Any] = {
        "applicationSource": "TESTS",
        "referenceContrat": "MARCHE-2026-042",
        "dossier": {"identifiant": f"DOS-{uuid.uuid4().hex[:8]}", "iteration": 2},
        "donneesMetier": {"nature": "justificatif"},
    }
    return base | fields


def deposit_v2(client: AspClient, metadata: dict[str, Any]) -> httpx.Response:
    body = DepositBody(metadata, [pdf()])
    return client.http.post("/v2/depots", content=body.content(), headers={"Content-Type": body.content_type})


# --- both majors on one store ------------------------------------------------------------------------


def test_both_majors_answer(client: AspClient) -> None:
    assert client.http.get("/v1/sante").json() == {"statut": "OK", "version": "1.0.1"}
    assert client.http.get("/v2/sante").json() == {"statut": "OK", "version": "2.0.0"}
    served = client.http.get("/v2/openapi.yaml")
    assert yaml.safe_load(served.text)["info"]["version"] == "2.0.0"
    guide = client.http.get("/v2/migration")
    assert guide.status_code == 200
    assert guide.headers["content-type"].startswith("text/markdown")
    assert "Guide de migration" in guide.text


def test_a_v2_deposit_is_seen_through_v1_and_returned_in_the_callback_v1_format(
    client: AspClient, inspector: CallbackInspector
) -> None:
    metadata = metadonnees_v2()
    response = deposit_v2(client, metadata)
    accepted_at = datetime.now(UTC)
    assert response.status_code == 202, response.text
    id_depot = response.json()["idDepot"]
    assert response.headers["location"] == f"/v2/depots/{id_depot}"
    seen_v2 = client.http.get(f"/v2/depots/{id_depot}").json()["metadonnees"]
    assert seen_v2 == metadata
    seen_v1 = client.state(id_depot).json()["metadonnees"]
    assert seen_v1["identifiantDossier"] == metadata["dossier"]["identifiant"]
    assert seen_v1["numeroIteration"] == 2
    assert "dossier" not in seen_v1
    calls = inspector.wait_for_return(id_depot)
    assert judge(TrackedDeposit(id_depot, accepted_at, "test", SentDeposit.of(seen_v1, [pdf()])), calls) == []
    assert client.http.post(f"/v2/depots/{id_depot}/retransmissions").status_code == 202


def test_a_v1_deposit_is_seen_through_v2_even_without_a_contract_reference(client: AspClient) -> None:
    metadata = metadonnees()
    id_depot = client.deposit(metadata, [pdf()]).json()["idDepot"]
    seen = client.http.get(f"/v2/depots/{id_depot}").json()["metadonnees"]
    assert seen["dossier"] == {"identifiant": metadata["identifiantDossier"], "iteration": 1}
    assert "referenceContrat" not in seen
    assert "identifiantDossier" not in seen


@pytest.mark.parametrize(
    "metadata",
    [
        pytest.param(metadonnees(referenceContrat="MARCHE-1"), id="metadonnees-v1"),
        pytest.param({k: v for k, v in metadonnees_v2().items() if k != "referenceContrat"}, id="sans-reference"),
    ],
)
def test_v2_refuses_what_it_broke(client: AspClient, metadata: dict[str, Any]) -> None:
    response = deposit_v2(client, metadata)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "metadonnees-invalides"


# --- deprecation and end of life of v1 ---------------------------------------------------------------


def test_v1_carries_no_deprecation_signal_before_its_deprecation(new_environment: StartEnvironment) -> None:
    clock = ManualClock(datetime(2027, 2, 7, 23, 59, tzinfo=UTC))
    with new_environment(clock=clock).asp_client(major=V1) as client:
        response = client.health()
        assert response.status_code == 200
        assert "deprecation" not in response.headers
        assert "sunset" not in response.headers
        assert "link" not in response.headers


def test_every_v1_answer_carries_the_deprecation_signals_once_deprecated(new_environment: StartEnvironment) -> None:
    clock = ManualClock(datetime(2027, 1, 1, tzinfo=UTC))
    with new_environment(clock=clock).asp_client(major=V1) as client:
        id_depot = client.deposit(metadonnees(), [pdf()]).json()["idDepot"]
        clock.now = DEPRECATED
        for response in (client.state(id_depot), client.health(), client.state(str(uuid.uuid4()))):
            assert response.headers["deprecation"] == f"@{int(DEPRECATED.timestamp())}"
            assert response.headers["sunset"] == "Thu, 30 Sep 2027 00:00:00 GMT"
            assert '</v2/migration>; rel="deprecation"' in response.headers.get_list("link")
        links = client.state(id_depot).headers.get_list("link")
        assert f'</v2/depots/{id_depot}>; rel="successor-version"' in links
        v2 = client.http.get(f"/v2/depots/{id_depot}")
        assert v2.status_code == 200
        assert "deprecation" not in v2.headers


def test_v1_is_gone_after_its_end_of_life_and_v2_still_serves(new_environment: StartEnvironment) -> None:
    clock = ManualClock(datetime(2027, 9, 1, tzinfo=UTC))
    with new_environment(clock=clock).asp_client(major=V1) as client:
        id_depot = client.deposit(metadonnees(), [pdf()]).json()["idDepot"]
        clock.now = SUNSET
        for response in (client.health(), client.state(id_depot), client.deposit(metadonnees(), [pdf()])):
            assert response.status_code == 410, response.text
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["code"] == "version-retiree"
            assert response.json()["successeur"].startswith("/v2/")
        assert client.http.get(f"/v2/depots/{id_depot}").status_code == 200
        assert client.http.get("/v2/sante").status_code == 200


def test_a_major_is_deprecated_at_the_latest_when_the_next_one_is_published(tmp_path: Path) -> None:
    def release(number: str, published: date, end: date | None = None) -> Release:
        version = parse_version(number)
        assert version is not None
        return Release(version, None, published, None, end, None, None)

    calendar = Calendar(tmp_path, (release("1.0.0", date(2026, 1, 5), date(2027, 9, 30)), release("2.0.0", DEPRECATED)))
    lifecycle = lifecycle_of(calendar, "1.0.0")
    assert lifecycle.deprecated == DEPRECATED
    assert lifecycle.sunset == SUNSET
    assert lifecycle_of(calendar, "2.0.0").deprecated is None


# --- the gate on the real second major ---------------------------------------------------------------


def run_gate(contracts: Path) -> tuple[int, str]:
    arguments = [
        str(contracts / "titulaire/v1/openapi.yaml"),
        str(contracts / "titulaire/v2/openapi.yaml"),
        "--versions",
        str(contracts / "titulaire/versions.yaml"),
        "--policy",
        str(contracts / "version-policy.yaml"),
    ]
    result = CliRunner().invoke(gate, arguments)
    return result.exit_code, result.output


@pytest.fixture
def contracts_copy(tmp_path: Path) -> Path:
    """A copy of `contracts/`, to break the calendar without touching the real one."""
    return Path(shutil.copytree(contracts_dir(), tmp_path / "contracts"))


def edit_release(contracts: Path, number: str, **fields: Any) -> None:
    """Set (or, with None, remove) fields of one entry of the copy's `versions.yaml`."""
    path = contracts / "titulaire/versions.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    entry = next(e for e in document["versions"] if e["numero"] == number)
    for key, value in fields.items():
        if value is None:
            entry.pop(key, None)
        else:
            entry[key] = value
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")


def test_the_gate_accepts_v2_with_the_projects_calendar() -> None:
    code, output = run_gate(contracts_dir())
    assert code == 0, output
    assert "Montée requise : majeure ; déclarée : majeure (1.0.1 → 2.0.0)" in output


@pytest.mark.parametrize(
    ("release", "change", "violation"),
    [
        ("2.0.0", {"annonceeLe": date(2026, 12, 1)}, "preavis-insuffisant"),  # v2 announced too late
        ("2.0.0", {"guideDeMigration": None}, "guide-de-migration-manquant"),
        ("1.0.1", {"finDeVieLe": date(2027, 5, 31)}, "coexistence-insuffisante"),  # v1 retired too soon
    ],
)
def test_the_gate_refuses_a_calendar_that_breaks_the_policy(
    contracts_copy: Path, release: str, change: dict[str, Any], violation: str
) -> None:
    edit_release(contracts_copy, release, **change)
    code, output = run_gate(contracts_copy)
    assert code == 1, output
    assert violation in output


def test_the_gate_refuses_v2_when_the_guide_file_is_gone(contracts_copy: Path) -> None:
    (contracts_copy / "titulaire/v2/MIGRATION.md").unlink()
    code, output = run_gate(contracts_copy)
    assert code == 1, output
    assert "guide-de-migration-introuvable" in output


def test_a_path_outside_every_major_is_not_retired(new_environment: StartEnvironment) -> None:
    with new_environment(clock=ManualClock(SUNSET)).asp_client(major=V1) as client:
        response = client.http.get("/inconnu")
        assert response.status_code == 404
        assert response.json()["code"] == "ressource-inconnue"
        assert "deprecation" not in response.headers


@pytest.mark.parametrize(
    "moment",
    [
        pytest.param(datetime(2026, 12, 15, tzinfo=UTC), id="avant-depreciation"),
        pytest.param(datetime(2027, 3, 1, tzinfo=UTC), id="depreciee"),
        pytest.param(datetime(2027, 10, 1, tzinfo=UTC), id="retiree"),
    ],
)
def test_the_link_header_is_built_from_the_raw_path_percent_encoded(
    new_environment: StartEnvironment, moment: datetime
) -> None:
    with new_environment(clock=ManualClock(moment)).asp_client(major=V1) as client:
        for path, encoded in (
            ("/v1/depots/€Ā", "/v2/depots/%E2%82%AC%C4%80"),
            ("/v1/depots/x>;y", "/v2/depots/x%3E%3By"),
        ):
            response = client.http.get(path)
            assert response.status_code in (400, 404, 410), response.text
            assert response.headers["content-type"].startswith("application/problem+json")
            if moment >= DEPRECATED:
                assert f'<{encoded}>; rel="successor-version"' in response.headers.get_list("link")
