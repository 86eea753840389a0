"""Client certificates the target must refuse, both from trustme: one from an unknown CA, one expired.

Made on demand in the suite's working directory, and only there.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import trustme

from harness.foundations.tls import CertificatePair, write_pair

EXPIRED_VALIDITY = (datetime.timedelta(days=30), datetime.timedelta(days=1))
"""How long before now the expired certificate became valid, and how long before now it expired."""


class TestCertificates:
    """The suite's deliberately wrong client certificates, written under `directory`."""

    __test__ = False  # not a pytest class

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._foreign: CertificatePair | None = None

    def foreign(self) -> CertificatePair:
        """A client certificate signed by a CA nobody trusts (made once)."""
        if self._foreign is None:
            ca = trustme.CA(organization_name="AC inconnue", organization_unit_name="Recette sécurité")
            leaf = ca.issue_cert("client-inconnu", common_name="client-inconnu")
            self._foreign = write_pair(leaf, self.directory / "client-ac-inconnue")
        return self._foreign

    def expired(self, authority: CertificatePair) -> CertificatePair:
        """A client certificate signed by `authority` (CA certificate and key), expired yesterday."""
        return expired_certificate(authority, self.directory / "client-expire")


def expired_certificate(authority: CertificatePair, stem: Path) -> CertificatePair:
    """A certificate valid from 30 days ago to yesterday, signed by the CA of `authority`."""
    ca = trustme.CA.from_pem(authority.cert.read_bytes(), authority.key.read_bytes())
    now = datetime.datetime.now(datetime.UTC)
    since, until = EXPIRED_VALIDITY
    leaf = ca.issue_cert("client-expire", common_name="client-expire", not_before=now - since, not_after=now - until)
    return write_pair(leaf, stem)
