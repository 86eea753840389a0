"""The contracts themselves: valid OpenAPI 3.0.x, and a complete service contract."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from harness.foundations.contracts import (
    ASP_CALLBACK_V1,
    SERVICE_CONTRACT,
    TITULAIRE_V1,
    TITULAIRE_V2,
    contract_path,
    load_yaml,
)
from harness.foundations.problems import CATALOGUE
from harness.foundations.service_contract import ServiceContractError, load_service_contract, service_contract_defects


@pytest.mark.parametrize("name", [TITULAIRE_V1, TITULAIRE_V2, ASP_CALLBACK_V1])
def test_contract_is_valid_openapi_30(name: str) -> None:
    document, base_uri = read_from_filename(str(contract_path(name)))
    assert str(document["openapi"]).startswith("3.0."), "the ASP does not accept OpenAPI 3.1"
    validate(document, base_uri=base_uri)


def test_every_problem_code_of_the_titulaire_is_documented() -> None:
    documented = load_yaml(TITULAIRE_V1)["components"]["schemas"]["Probleme"]["properties"]["code"]["description"]
    titulaire_codes = set(CATALOGUE) - {
        "retour-deja-recu",
        "retour-invalide",
        "ressource-inconnue",
        "methode-non-autorisee",
        "acces-reserve-recette",
    }
    missing = [code for code in titulaire_codes if code not in documented]
    assert not missing


def test_the_service_contract_is_complete() -> None:
    document = load_service_contract(contract_path(SERVICE_CONTRACT))
    assert document["conservation"]["dureeParDefaut"] == "P3M"
    assert document["qualiteDeService"]["limiteTransactionOctets"] == 20_000_000


def test_a_service_contract_missing_a_section_is_refused(tmp_path: Path) -> None:
    document = yaml.safe_load(contract_path(SERVICE_CONTRACT).read_text(encoding="utf-8"))
    del document["qualiteDeService"]["delaiMaxRetour"]
    document["conservation"]["dureeParDefaut"] = "trois mois"
    defects = service_contract_defects(document)
    assert any("delaiMaxRetour" in d for d in defects)
    assert any(d.startswith("conservation/dureeParDefaut") for d in defects)
    broken = tmp_path / "contrat.yaml"
    broken.write_text(yaml.safe_dump(document), encoding="utf-8")
    with pytest.raises(ServiceContractError, match="delaiMaxRetour"):
        load_service_contract(broken)


def test_an_unreadable_service_contract_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "contrat.yaml"
    broken.write_text("objet: [non fermé", encoding="utf-8")
    with pytest.raises(ServiceContractError, match="illisible"):
        load_service_contract(broken)
