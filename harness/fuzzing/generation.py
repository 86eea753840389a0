"""What schemathesis generates for deposits, adjusted to what the contract says but a schema cannot.

schemathesis 4 encodes `POST /vN/depots` as the contract asks: the `metadonnees` part as JSON, one
`document` file part per array item (binary samples: PDF, PNG, JPEG…). Two adjustments:

- a valid deposit with the SAE option declares the SHA-256 of its documents (the contract says it must
  match; a schema cannot compute it), so that valid deposits are accepted rather than refused with 422;
  its `Idempotency-Key`, when it has one, is derived from its content (the contract refuses a key reused
  for another content with 409: generated keys like "0" would make most valid deposits replays of others);
- a "negative" deposit whose only invalid value is a `document` item (a JSON value where the schema says
  binary) is sent as bytes, which are a valid binary document: when the titulaire accepts it, that is not
  a failure. The body as sent is judged against the contract instead (`filter_failure`).
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any
from urllib.parse import urlsplit

from openapi_core.validation.schemas import oas30_write_schema_validators_factory
from schemathesis import APIOperation, BaseSchema, Case, HookContext, Response
from schemathesis.checks import Failure

from harness.conformance.deposits import read_deposit
from harness.foundations.contracts import openapi
from harness.foundations.majors import major_of
from harness.foundations.multipart import DOCUMENT_PART, METADATA_PART
from harness.fuzzing.caller import content_type, sent_body

DEPOSIT_OPERATION = "deposerPieces"
IDEMPOTENCY_KEY = "Idempotency-Key"
NEGATIVE_DATA_ACCEPTED = "negative_data_rejection"


def operation_id(operation: APIOperation) -> str:
    return str(operation.definition.raw.get("operationId") or operation.label)


def install(schema: BaseSchema) -> None:
    """Register the deposit adjustments on `schema` only (never globally)."""
    schema.hook("map_case")(consistent_deposit)
    schema.hook("filter_failure")(keep_unless_valid_on_the_wire)


def consistent_deposit(context: HookContext, case: Case) -> Case:
    """A valid SAE deposit declares the SHA-256 of its documents (in the order sent); a key names its content."""
    if context.operation is None or operation_id(context.operation) != DEPOSIT_OPERATION:
        return case
    body = case.body
    if case.meta is None or not case.meta.generation.mode.is_positive or not isinstance(body, dict):
        return case
    metadata = body.get(METADATA_PART)
    items = body.get(DOCUMENT_PART)
    documents = b"".join(document_bytes(d) for d in items) if isinstance(items, list) else b""
    if isinstance(metadata, dict) and metadata.get("sae") is True:
        metadata["empreinte"] = {"algorithme": "SHA-256", "valeur": hashlib.sha256(documents).hexdigest()}
    if case.headers and IDEMPOTENCY_KEY in case.headers:
        content = json.dumps(metadata, sort_keys=True, default=str).encode() + documents
        case.headers[IDEMPOTENCY_KEY] = hashlib.sha256(content).hexdigest()
    return case


def document_bytes(value: Any) -> bytes:
    """The bytes a generated `document` item is sent as (requests encodes text as UTF-8)."""
    data = getattr(value, "data", value)  # schemathesis wraps binary values
    if isinstance(data, bytes):
        return data
    return data.encode() if isinstance(data, str) else json.dumps(data).encode()


def keep_unless_valid_on_the_wire(context: HookContext, failure: Failure, case: Case, response: Response) -> bool:
    """Drop "invalid data accepted" for a deposit whose body, as sent, is valid after all."""
    if NEGATIVE_DATA_ACCEPTED not in failure.checks or operation_id(case.operation) != DEPOSIT_OPERATION:
        return True
    return not deposit_valid_as_sent(response)


def deposit_valid_as_sent(response: Response) -> bool:
    """Whether the multipart body sent is a valid DepotMultipart: one valid `metadonnees`, ≥ 1 `document`."""
    request = response.request
    sent = read_deposit(sent_body(request), content_type(request))
    if sent is None or sent.metadonnees is None or not sent.digests:
        return False
    if sent.parts.count(METADATA_PART) != 1 or set(sent.parts) != {METADATA_PART, DOCUMENT_PART}:
        return False
    major = major_of(urlsplit(str(request.url)).path)
    return major is not None and not list(_metadata_validator(major.contract).validator.iter_errors(sent.metadonnees))


@functools.cache
def _metadata_validator(contract: str) -> Any:
    """The validator of `MetadonneesDepot` in `contract` (in that major's model)."""
    spec = openapi(contract).spec
    return oas30_write_schema_validators_factory.create(spec, spec / "components" / "schemas" / "MetadonneesDepot")
