"""The YAML contracts of `contracts/`: where they are, loaded once, and adapters for openapi-core.

The contracts are the single source of truth: servers validate against them, they are never restated
in code. openapi-core is imported only by what uses it, so that finding a contract file stays cheap (the
CLI's `gate` and `lint` start without it).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import yaml

from harness.foundations.resources import project_folder

if TYPE_CHECKING:
    from openapi_core import OpenAPI
    from openapi_core.datatypes import RequestParameters
    from starlette.requests import Request

TITULAIRE_V1 = "titulaire/v1/openapi.yaml"
TITULAIRE_V2 = "titulaire/v2/openapi.yaml"
TITULAIRE_V2_MIGRATION = "titulaire/v2/MIGRATION.md"
TITULAIRE_VERSIONS = "titulaire/versions.yaml"
ASP_CALLBACK_V1 = "asp-callback/v1/openapi.yaml"
SERVICE_CONTRACT = "service-contract.yaml"
SERVICE_CONTRACT_SCHEMA = "service-contract.schema.json"


def contracts_dir() -> Path:
    """The folder of contracts."""
    return project_folder("contracts")


def contract_path(name: str) -> Path:
    return contracts_dir() / name


@functools.cache
def load_yaml(name: str) -> dict[str, Any]:
    """The parsed YAML of a contract file (cached: contracts do not change during a run)."""
    with contract_path(name).open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@functools.cache
def openapi(name: str) -> OpenAPI:
    """The openapi-core object of a contract, its `$ref`s resolved relative to its file."""
    from openapi_core import Config, OpenAPI
    from openapi_core.deserializing.media_types.util import json_loads

    config = Config(extra_media_type_deserializers={"application/problem+json": json_loads})
    return OpenAPI.from_file_path(str(contract_path(name)), config=config)


def server_url(name: str) -> str:
    """The first server URL the contract declares: validation matches paths against it."""
    return str(load_yaml(name)["servers"][0]["url"]).rstrip("/")


@dataclass
class ContractRequest:
    """A request as openapi-core reads it, placed under the contract's declared server.

    `path` is the path of the request as received (e.g. `/v1/depots`); whatever host actually served it,
    it is matched against the contract's server, so one contract fits every environment.
    """

    contract: str
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    path_params: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    content_type: str = "application/json"

    @classmethod
    def received(
        cls, contract: str, request: Request, body: bytes | None = None, content_type: str = ""
    ) -> ContractRequest:
        """A request a server received, with `body` (or none), as `content_type` (by default its own)."""
        return cls(
            contract=contract,
            method=request.method,
            path=request.url.path,
            query=dict(request.query_params),
            headers=dict(request.headers),
            path_params={k: str(v) for k, v in request.path_params.items()},
            body=body,
            content_type=content_type or request.headers.get("content-type", ""),
        )

    @property
    def host_url(self) -> str:
        parts = urlsplit(server_url(self.contract))
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def full_path(self) -> str:
        return urlsplit(server_url(self.contract)).path + self.path

    @property
    def parameters(self) -> RequestParameters:
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict

        return RequestParameters(
            query=ImmutableMultiDict(self.query), header=Headers(self.headers), path=self.path_params
        )

    def for_openapi(self) -> _OpenapiRequest:
        return _OpenapiRequest(
            self.host_url, self.full_path, self.method.lower(), self.parameters, self.body, self.content_type
        )


@dataclass
class _OpenapiRequest:
    """The request as openapi-core's `Request` protocol reads it."""

    host_url: str
    path: str
    method: str
    parameters: RequestParameters
    body: bytes | None
    content_type: str


@dataclass
class ContractResponse:
    """A response as openapi-core reads it."""

    status_code: int
    data: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def answered(cls, status_code: int, data: bytes, headers: Mapping[str, str]) -> ContractResponse:
        """An answer a server sent, its media type read from its (lower-case) `content-type` header."""
        return cls(status_code, data, headers.get("content-type", "").split(";")[0], dict(headers))
