"""Certificates of one run: a CA, a server certificate and client certificates, made at start-up.

Three client identities: the ASP's client of the titulaire API (`asp_client`), the titulaire's client of
the ASP callback (`titulaire_client`), and the recette team's (« équipe de recette », `recette_client`),
the only one the ASP side lets read, clear or arm its evidence (pinned by thumbprint, never by CA or CN).

Every server of the environment requires a client certificate signed by the run's CA (mutual TLS), and
refuses TLS below 1.2. The CA's private key is kept in the run directory (mode 600) so that the security
suite can sign a deliberately expired client certificate.
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import trustme
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes

SERVER_NAMES = ("127.0.0.1", "localhost")
MINIMUM_TLS = ssl.TLSVersion.TLSv1_2
RECETTE_IDENTITY = "recette-inspection"
RECETTE_TEAM = "Équipe de recette"
STEMS = ("server", "asp-client", "titulaire-client", RECETTE_IDENTITY)
"""The file stems of the four certificates of `RunCertificates`, in its field order."""


@dataclass(frozen=True)
class CertificatePair:
    """A certificate (with its chain) and its private key, as PEM files."""

    cert: Path
    key: Path


@dataclass(frozen=True)
class RunCertificates:
    """The PEM files of one run, written into its directory."""

    ca: Path
    server: CertificatePair
    asp_client: CertificatePair
    titulaire_client: CertificatePair
    recette_client: CertificatePair
    """The recette team's identity (équipe de recette): the ASP side's inspection routes accept it alone."""
    authority: CertificatePair | None = None
    """The CA certificate and its private key, when this run made the CA."""

    @classmethod
    def create(cls, directory: Path, server_names: Sequence[str] = SERVER_NAMES) -> RunCertificates:
        """Make a fresh CA and the server (for `server_names`) and client certificates under `directory`."""
        directory.mkdir(parents=True, exist_ok=True)
        ca = trustme.CA(organization_name="Recette ASP", organization_unit_name="AC de la recette")
        ca_path = directory / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_path))
        ca_key = directory / "ca.key.pem"
        ca.private_key_pem.write_to_path(str(ca_key))
        ca_key.chmod(0o600)
        server = ca.issue_cert(*server_names, common_name="titulaire.recette.local")
        asp = ca.issue_cert("asp-client", common_name="asp-client", organization_name="ASP")
        titulaire = ca.issue_cert("titulaire-client", common_name="titulaire-client")
        recette = ca.issue_cert(
            RECETTE_IDENTITY, common_name=RECETTE_IDENTITY, organization_name="ASP", organization_unit_name=RECETTE_TEAM
        )
        issued = (server, asp, titulaire, recette)
        pairs = [write_pair(leaf, directory / stem) for leaf, stem in zip(issued, STEMS, strict=True)]
        return cls.of(ca_path, pairs, CertificatePair(cert=ca_path, key=ca_key))

    @classmethod
    def existing(cls, directory: Path) -> RunCertificates | None:
        """The certificates `create` wrote into `directory`, or None when any file is missing."""
        pairs = [CertificatePair(directory / f"{stem}.crt.pem", directory / f"{stem}.key.pem") for stem in STEMS]
        authority = CertificatePair(directory / "ca.pem", directory / "ca.key.pem")
        if not all(path.is_file() for pair in (*pairs, authority) for path in (pair.cert, pair.key)):
            return None
        return cls.of(authority.cert, pairs, authority)

    @classmethod
    def of(cls, ca: Path, pairs: Sequence[CertificatePair], authority: CertificatePair) -> RunCertificates:
        """The four pairs in `STEMS` order."""
        server, asp, titulaire, recette = pairs
        return cls(ca, server, asp, titulaire, recette, authority)

    def with_server_names(self, names: Sequence[str]) -> RunCertificates:
        """These certificates, the server's re-issued by the same CA when it does not cover every name of `names`."""
        if set(names) <= subject_names(self.server.cert) or self.authority is None:
            return self
        ca = trustme.CA.from_pem(self.authority.cert.read_bytes(), self.authority.key.read_bytes())
        issued = ca.issue_cert(*names, common_name="titulaire.recette.local")
        write_pair(issued, self.server.cert.parent / STEMS[0])
        return self

    def recette_thumbprint(self) -> str:
        """The pinned identity of the recette team: the `x5t#S256` thumbprint of its client certificate."""
        return certificate_thumbprint(self.recette_client.cert.read_bytes())

    def server_context(self) -> ssl.SSLContext:
        """A server context demanding a client certificate from the run's CA."""
        return server_context(self.ca, self.server)

    def client_context(self, pair: CertificatePair | None) -> ssl.SSLContext:
        """A client context trusting the run's CA, presenting `pair` when given."""
        return client_context(self.ca, pair)


def write_pair(issued: trustme.LeafCert, stem: Path) -> CertificatePair:
    """Write `issued` (with its chain) and its private key (mode 600) as `<stem>.crt.pem` and `<stem>.key.pem`."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    cert = stem.with_suffix(".crt.pem")
    key = stem.with_suffix(".key.pem")
    cert.write_bytes(b"".join(blob.bytes() for blob in issued.cert_chain_pems))
    issued.private_key_pem.write_to_path(str(key))
    key.chmod(0o600)
    return CertificatePair(cert=cert, key=key)


def server_context(ca: Path, pair: CertificatePair) -> ssl.SSLContext:
    """TLS ≥ 1.2, our certificate, and a mandatory client certificate signed by `ca`."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = MINIMUM_TLS
    context.load_cert_chain(pair.cert, pair.key)
    context.load_verify_locations(cafile=ca)
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def client_context(ca: Path, pair: CertificatePair | None) -> ssl.SSLContext:
    """TLS ≥ 1.2, trusting `ca`, presenting `pair` as client certificate when given."""
    context = ssl.create_default_context(cafile=str(ca))
    context.minimum_version = MINIMUM_TLS
    if pair is not None:
        context.load_cert_chain(pair.cert, pair.key)
    return context


def load_certificate(certificate: str | bytes) -> x509.Certificate:
    """A certificate from PEM text, or from DER or PEM bytes (the first one of a PEM chain)."""
    if isinstance(certificate, str):
        return x509.load_pem_x509_certificate(certificate.encode())
    if certificate.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificate(certificate)
    return x509.load_der_x509_certificate(certificate)


def certificate_thumbprint(certificate: str | bytes) -> str:
    """RFC 8705 `x5t#S256`: the unpadded base64url SHA-256 digest of the DER certificate."""
    digest = load_certificate(certificate).fingerprint(hashes.SHA256())
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def certificate_subject(certificate: str | bytes) -> str:
    """The subject distinguished name, as an RFC 4514 string (`CN=asp-client,O=ASP,…`)."""
    return load_certificate(certificate).subject.rfc4514_string()


def issued_by(certificate: Path, authority: Path) -> bool:
    """The PEM `certificate` is signed by the PEM CA `authority` (its issuer's name and its signature)."""
    try:
        load_certificate(certificate.read_bytes()).verify_directly_issued_by(load_certificate(authority.read_bytes()))
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def subject_names(certificate: Path) -> set[str]:
    """The DNS names and IP addresses a PEM certificate's subjectAltName covers."""
    try:
        names = load_certificate(certificate.read_bytes()).extensions.get_extension_for_class(
            x509.SubjectAlternativeName
        )
    except x509.ExtensionNotFound:
        return set()
    dns = names.value.get_values_for_type(x509.DNSName)
    addresses = names.value.get_values_for_type(x509.IPAddress)
    return {*dns, *(str(address) for address in addresses)}
