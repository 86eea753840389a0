"""Harnais de qualification des échanges ASP ↔ titulaire."""

import os

__version__ = "0.1.0"

# schemathesis brings jsonschema-rs, which openapi-spec-validator then prefers (backend "auto"): keep the
# python jsonschema backend, whose messages `recette lint` reports and its tests expect.
os.environ.setdefault("OPENAPI_SPEC_VALIDATOR_SCHEMA_VALIDATOR_BACKEND", "jsonschema")
