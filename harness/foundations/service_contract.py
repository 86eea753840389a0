"""The service contract (contrat de service): loaded and checked against its JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from harness.foundations.contracts import SERVICE_CONTRACT_SCHEMA, contract_path


class ServiceContractError(ValueError):
    """The service contract is unreadable or misses what the ASP requires."""


def load_service_contract(path: Path) -> dict[str, Any]:
    """The service contract at `path`, validated; a `ServiceContractError` lists every defect."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ServiceContractError(f"{path} : illisible ({error})") from error
    defects = service_contract_defects(document)
    if defects:
        raise ServiceContractError(f"{path} : " + " ; ".join(defects))
    return document


def service_contract_defects(document: Any) -> list[str]:
    """What the document lacks or gets wrong, one line each (empty when it is complete)."""
    schema = json.loads(contract_path(SERVICE_CONTRACT_SCHEMA).read_text(encoding="utf-8"))
    errors = sorted(Draft202012Validator(schema).iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(racine)'} : {e.message}" for e in errors]
