"""Client certificates the target must refuse: one from an unknown CA (trustme), one expired (cryptography).

Made on demand in the suite's working directory, and only there.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from harness.foundations.tls import CertificatePair


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


def write_pair(leaf: trustme.LeafCert, stem: Path) -> CertificatePair:
    stem.parent.mkdir(parents=True, exist_ok=True)
    cert, key = stem.with_suffix(".crt.pem"), stem.with_suffix(".key.pem")
    cert.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(str(key))
    key.chmod(0o600)
    return CertificatePair(cert, key)


def expired_certificate(authority: CertificatePair, stem: Path) -> CertificatePair:
    """A clientAuth certificate, valid from 30 days ago to yesterday, signed by the CA of `authority`."""
    ca_cert = x509.load_pem_x509_certificate(authority.cert.read_bytes())
    ca_key = serialization.load_pem_private_key(authority.key.read_bytes(), password=None)
    if not isinstance(ca_key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError("la clé de l'AC ne peut pas signer de certificat")
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "client-expire")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=30))
        .not_valid_after(now - datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("client-expire")]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    stem.parent.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = stem.with_suffix(".crt.pem"), stem.with_suffix(".key.pem")
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    return CertificatePair(cert_path, key_path)
