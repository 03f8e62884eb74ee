"""Development and test PKI: a CSCA, Document Signers under it, and its CRL.

Made with cryptography's certificate builders (an implementation independent of the
checks in :mod:`proofing.chip`). Never used for real cards: the trust list of a real
deployment holds the states' CSCA certificates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

__all__ = ["Authority", "make_crl", "make_csca", "make_signer"]

SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True)
class Authority:
    """A certificate with its private key: a CSCA or a Document Signer."""

    key: SigningKey
    cert: x509.Certificate


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Citizen Wallet development"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def make_csca(
    common_name: str = "CSCA Viet Nam (development)",
    *,
    not_before: datetime | None = None,
    days: int = 15 * 365,
    key: SigningKey | None = None,
) -> Authority:
    key = key or ec.generate_private_key(ec.SECP384R1())
    start = not_before or datetime.now(UTC) - timedelta(days=1)
    name = _name(common_name)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA384() if isinstance(key, ec.EllipticCurvePrivateKey) else hashes.SHA256())
    )
    return Authority(key, cert)


def make_signer(
    csca: Authority,
    common_name: str = "Document Signer (development)",
    *,
    not_before: datetime | None = None,
    days: int = 10 * 365,
    key: SigningKey | None = None,
) -> Authority:
    key = key or ec.generate_private_key(ec.SECP256R1())
    start = not_before or datetime.now(UTC) - timedelta(days=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(csca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(csca.key.public_key()), critical=False)
        .sign(csca.key, hashes.SHA384() if isinstance(csca.key, ec.EllipticCurvePrivateKey) else hashes.SHA256())
    )
    return Authority(key, cert)


def make_crl(csca: Authority, revoked: list[x509.Certificate], *, days: int = 90) -> x509.CertificateRevocationList:
    now = datetime.now(UTC)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(csca.cert.subject)
        .last_update(now - timedelta(minutes=1))
        .next_update(now + timedelta(days=days))
    )
    for cert in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(cert.serial_number)
            .revocation_date(now - timedelta(minutes=1))
            .build()
        )
    return builder.sign(
        csca.key, hashes.SHA384() if isinstance(csca.key, ec.EllipticCurvePrivateKey) else hashes.SHA256()
    )
