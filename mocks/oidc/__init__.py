"""Mock OIDC issuer (émetteur de jetons OAuth 2.0): discovery, JWKS with key rotation, client_credentials."""

from mocks.oidc.app import create_app
from mocks.oidc.issuer import Issuer, RegisteredClient, SigningKey, generate_signing_key

__all__ = ["Issuer", "RegisteredClient", "SigningKey", "create_app", "generate_signing_key"]
