"""A titulaire contract as schemathesis loads it (Swagger 2.0 or OpenAPI 3.0.x), for one target and one budget."""

from __future__ import annotations

from pathlib import Path

from schemathesis import BaseSchema, Config, openapi
from schemathesis.config import HealthCheck

from harness.foundations.document import unusable_contract
from harness.foundations.target import Target
from harness.fuzzing import generation
from harness.fuzzing.settings import FuzzSettings


class ContractRefused(ValueError):
    """A contract the ASP refuses (OpenAPI 3.1 and later) or that cannot be read: it is not fuzzed."""


def load_schema(target: Target, settings: FuzzSettings, contract: Path) -> BaseSchema:
    """The contract (Swagger 2.0 or OpenAPI 3.0.x), aimed at the target over its mutual TLS, seeded, budgeted."""
    if why := unusable_contract(contract):
        raise ContractRefused(f"contrat non fuzzé : {why}")
    schema = openapi.from_path(contract, config=Config(seed=settings.seed))
    project = schema.config
    project.update(
        base_url=target.url,
        tls_verify=target.tls_paths["ca"],
        request_cert=target.tls_paths["client_cert"],
        request_cert_key=target.tls_paths["client_key"],
        suppress_health_check=[HealthCheck.all],  # slow HTTP calls are the point, not a generation defect
    )
    project.generation.update(max_examples=settings.max_examples, database="none")  # no state between runs
    project.phases.update(phases=list(settings.phases))
    project.phases.stateful.max_steps = settings.sequence_steps
    generation.install(schema)
    return schema
