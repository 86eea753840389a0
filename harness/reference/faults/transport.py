"""Faults of the API's transport: the TLS context it listens with accepts what mutual TLS must refuse."""

from __future__ import annotations

import ssl

from harness.reference.faults.base import Fault

NO_CHECK_TIME = 0x200000
"""OpenSSL's X509_V_FLAG_NO_CHECK_TIME: certificate dates are not checked (`ssl` has no name for it)."""


class ExpiredCertificatesAccepted(Fault):
    name = "certificat-expire-accepte"
    description = "l'API accepte un certificat client expiré de l'AC reconnue (les dates ne sont pas vérifiées)"

    def server_tls(self, context: ssl.SSLContext) -> ssl.SSLContext:
        context.verify_flags |= NO_CHECK_TIME
        return context
