"""Addon `contract`: each request and response validated against its contract (openapi-core), as the
reference and the mock ASP do; violations are written in the journal and counted.

The titulaire leg is judged by the contract of its major (`/v1`, `/v2`), the callback leg by the ASP's.
A JSON body is validated whole; a multipart deposit (or any streamed body) by its parameters only, its
documents being the titulaire's to check: « paramètres conformes », never « conforme ». A route the
contract does not describe is « non vérifiée », and so is the 410 `version-retiree` of a retired major:
its contract no longer applies (the reference does not audit that answer either).
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_core.validation.request.validators import V30RequestParametersValidator

from harness.foundations.contract_errors import describe
from harness.foundations.contracts import ASP_CALLBACK_V1, ContractRequest, ContractResponse, openapi
from harness.foundations.majors import major_of
from harness.proxy.exchange import Exchange, json_of, of
from harness.proxy.settings import CALLBACK_LEG

if TYPE_CHECKING:
    from mitmproxy import http

CONFORMING, VIOLATING, UNCHECKED = "conforme", "non conforme", "non vérifiée"
PARAMETERS_CONFORMING = "paramètres conformes"
"""A request whose parameters conform and whose body was not validated (multipart or streamed)."""
RETIRED = "version-retiree"
JSON_TYPES = ("application/json", "application/problem+json")


class Contract:
    def __init__(self) -> None:
        self.violations: Counter[str] = Counter()
        """Violations by leg."""

    def response(self, flow: http.HTTPFlow) -> None:
        exchange = of(flow)
        name = contract_of(exchange)
        assert flow.response is not None
        if name is None:
            exchange.contract = {"requete": UNCHECKED, "reponse": UNCHECKED}
            return
        checked = _request(flow, exchange, name)
        verdict = self._verdict(exchange, "requête", self._request_errors(name, checked))
        unread_body = checked.body is None and exchange.request.size > 0
        exchange.contract["requete"] = PARAMETERS_CONFORMING if verdict == CONFORMING and unread_body else verdict
        exchange.contract["reponse"] = self._verdict(exchange, "réponse", self._response_errors(name, checked, flow))

    def _request_errors(self, name: str, checked: ContractRequest) -> list[Exception]:
        spec = openapi(name)
        if checked.body is None:
            return list(V30RequestParametersValidator(spec.spec).iter_errors(checked.for_openapi()))
        return list(spec.iter_request_errors(checked.for_openapi()))

    def _response_errors(self, name: str, checked: ContractRequest, flow: http.HTTPFlow) -> list[Exception] | None:
        assert flow.response is not None
        exchange = of(flow)
        headers = {k.lower(): v for k, v in flow.response.headers.items()}
        body = exchange.response.whole
        if body is None or headers.get("content-type", "").split(";")[0] not in JSON_TYPES or _retired(body):
            return None
        answered = ContractResponse.answered(flow.response.status_code, body, headers)
        return list(openapi(name).iter_response_errors(checked.for_openapi(), answered))

    def _verdict(self, exchange: Exchange, side: str, errors: list[Exception] | None) -> str:
        if errors is None or any(isinstance(e, PathNotFound | OperationNotFound) for e in errors):
            return UNCHECKED
        if not errors:
            return CONFORMING
        for item in describe(errors):
            exchange.violations.append(f"{side} : {item['emplacement']} — {item['message']}")
        self.violations[exchange.leg] += 1
        return VIOLATING


def _retired(body: bytes) -> bool:
    answer = json_of(body)
    return isinstance(answer, dict) and answer.get("code") == RETIRED


def contract_of(exchange: Exchange) -> str | None:
    """The contract judging the exchange's leg and route; None: none (a route outside every major)."""
    if exchange.leg == CALLBACK_LEG:
        return ASP_CALLBACK_V1
    major = major_of(exchange.path)
    return major.contract if major else None


def _request(flow: http.HTTPFlow, exchange: Exchange, name: str) -> ContractRequest:
    content_type = flow.request.headers.get("content-type", "")
    body = exchange.request.whole if content_type.split(";")[0] in JSON_TYPES else None
    return ContractRequest(
        contract=name,
        method=flow.request.method,
        path=exchange.path,
        query=dict(flow.request.query.items()),
        headers={k.lower(): v for k, v in flow.request.headers.items()},
        body=body,
        content_type=content_type,
    )
