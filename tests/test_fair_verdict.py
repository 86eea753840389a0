"""Judging a real platform fairly: its own service contract sets the deadlines of the waits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import trustme

from harness.campaign.config import ConfigError, load_config
from harness.conformance import DepositLedger, ReturnJudge, TrackedDeposit
from harness.conformance.callbacks import EXPIRED
from harness.conformance.equality import json_equal, metadata_equal
from harness.conformance.returns import RECEIVED
from harness.foundations.contracts import SERVICE_CONTRACT, contract_path


def settings(tmp_path: Path, service_contract: Path) -> dict[str, object]:
    """A complete configuration (files that exist, though not a working platform), with `service_contract`."""

    ca = trustme.CA()
    cert = ca.issue_cert("asp-recette")
    ca.cert_pem.write_to_path(tmp_path / "ca.pem")
    cert.cert_chain_pems[0].write_to_path(tmp_path / "client.pem")
    cert.private_key_pem.write_to_path(tmp_path / "client.key")
    return {
        "target": "https://titulaire.example",
        "ca": tmp_path / "ca.pem",
        "client_cert": tmp_path / "client.pem",
        "client_key": tmp_path / "client.key",
        "token_url": "https://idp.example/token",
        "client_id": "asp-recette",
        "client_secret": "s",
        "callback_url": "https://retours.example",
        "service_contract": service_contract,
    }


def test_target_service_contract_is_read_from_the_settings(tmp_path: Path) -> None:
    config = load_config(environ={}, overrides=settings(tmp_path, contract_path(SERVICE_CONTRACT)))
    assert config.service_contract == contract_path(SERVICE_CONTRACT)


def test_an_incomplete_service_contract_is_refused_in_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "contrat.yaml"
    broken.write_text("contratDeService: {}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(environ={}, overrides=settings(tmp_path, broken))
    message = str(refused.value)
    assert "target.service_contract (RECETTE_SERVICE_CONTRACT)" in message
    assert "contrat de service inutilisable" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ({"a": 1, "b": [1, {"c": True}]}, {"b": [1.0, {"c": True}], "a": 1}),
        ("2026-12-15T10:00:00.000+01:00", "2026-12-15T09:00:00Z"),
        ({"recuLe": "2026-12-15T09:00:00.5z"}, {"recuLe": "2026-12-15T09:00:00.500+00:00"}),
    ],
    ids=["key order and number spelling", "date-time offsets", "lower-case z, fraction digits"],
)
def test_equivalent_json_values_are_equal(left: object, right: object) -> None:
    assert json_equal(left, right)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (True, 1),
        ("2026-12-15T10:00:00+01:00", "2026-12-15T10:00:00Z"),
        ("2026-12-15", "2026-12-15T00:00:00Z"),
        ({"a": 1}, {"a": 1, "b": None}),
        ([1, 2], [2, 1]),
    ],
    ids=["boolean is not a number", "another instant", "a date is not a date-time", "extra key", "list order"],
)
def test_different_json_values_differ(left: object, right: object) -> None:
    assert not json_equal(left, right)


def test_metadata_are_compared_with_the_contract_defaults_applied() -> None:
    sent = {"applicationSource": "A", "identifiantDossier": "D", "numeroIteration": 1}
    assert metadata_equal(sent, sent | {"sae": False})
    assert not metadata_equal(sent, sent | {"sae": True})
    assert not metadata_equal(sent, sent | {"numeroIteration": 2})


@pytest.mark.parametrize(("state", "excused"), [("ECHEC", True), (EXPIRED, True), ("TRAITE", False), (None, False)])
def test_a_deposit_refused_by_the_asps_own_outage_is_excused_when_failed_or_since_expired(
    state: str | None, excused: bool
) -> None:
    """The contract's way out (retries spent, ECHEC, incident) is no missing return, even once the deposit has
    expired under a short recette retention; a deposit the platform says is still in progress is not excused."""
    deposit = TrackedDeposit("d", datetime.now(UTC) - timedelta(minutes=1), "scénario")
    outage = [{"idDepot": "d", "retour": None, "statutHttp": 503, "panne": "erreur-503"}] * 3
    judge = ReturnJudge(Received(outage), lambda _: state, timedelta(seconds=1), settle_seconds=0)  # type: ignore[arg-type]
    [verdict] = judge.verdicts(ledger_with(deposit))
    assert verdict.conforming is excused
    assert (verdict.excused is not None) is excused
    if not excused:
        assert verdict.rules() == {RECEIVED}


@dataclass
class Received:
    """An inspector of the ASP's callback that received `calls`."""

    calls: list[dict[str, object]]

    def received(self) -> list[dict[str, object]]:
        return self.calls


def ledger_with(deposit: TrackedDeposit) -> DepositLedger:
    ledger = DepositLedger()
    ledger.record(deposit)
    return ledger
