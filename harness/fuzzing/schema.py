"""The titulaire contract as schemathesis loads it, configured for one target and one budget."""

from __future__ import annotations

from schemathesis import Config, openapi
from schemathesis.config import HealthCheck
from schemathesis.schemas import BaseSchema

from harness.contracts import TITULAIRE_V1, contract_path
from harness.fuzzing import generation
from harness.fuzzing.settings import FuzzSettings
from harness.target import Target


def load_schema(target: Target, settings: FuzzSettings) -> BaseSchema:
    """`contracts/titulaire/v1/openapi.yaml`, aimed at the target over its mutual TLS, seeded, budgeted."""
    schema = openapi.from_path(contract_path(TITULAIRE_V1), config=Config(seed=settings.seed))
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
