"""X.509 certificates of ISO/IEC 18013-5 Annex B: IACA roots, Document Signers, and checking a chain.

Each issuing agency is its own Issuing Authority Certificate Authority (IACA), as each US
state or EU member state is: the root certificate names the agency, a verifier trusts the
agencies it chooses, and the chain itself says which agency signed an mdoc (the verifier
needs no field of the mdoc to learn it). The IACA signs only Document Signer (DS)
certificates; a DS key signs only Mobile Security Objects.

Profiles (Annex B.1.2 and B.1.4), ECDSA P-256 with SHA-256 throughout:

- IACA: subject = issuer = C=VN, O=<agency>, CN=<agency> IACA; basicConstraints CA, pathLen 0
  (critical); keyUsage keyCertSign + cRLSign (critical); subject key identifier; issuer
  alternative name = the agency's issuer URL; CRL distribution point = the root's CRL;
  valid :data:`IACA_LIFETIME`.
- DS: issuer = the IACA's subject; subject C=VN, O=<agency>, CN=<agency> Document Signer;
  keyUsage digitalSignature (critical); extendedKeyUsage 1.0.18013.5.1.2 (critical);
  authority and subject key identifiers; issuer alternative name; the root's CRL
  distribution point; valid :data:`DS_LIFETIME`
  (Annex B allows at most 457 days), never past its IACA.

Serial numbers are 159 random bits (Annex B asks for at least 63, at most 20 octets).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from documents.mdoc.errors import MalformedMdoc, MdocNotValid, UntrustedIssuer
from wallet_api.kernel import key_usage

__all__ = [
    "DS_LIFETIME",
    "IACA_LIFETIME",
    "MDOC_DS_EKU",
    "CheckedSigner",
    "TrustedRoot",
    "check_document_signer",
    "document_signer_certificate",
    "iaca_certificate",
    "revocation_list",
]

#: Extended key usage of an mdoc Document Signer (ISO/IEC 18013-5 Annex B).
MDOC_DS_EKU = x509.ObjectIdentifier("1.0.18013.5.1.2")
COUNTRY = "VN"
#: Annex B caps a root at 20 years; ten keeps a compromised-but-unnoticed root shorter lived.
IACA_LIFETIME = dt.timedelta(days=10 * 365)
#: Annex B caps a Document Signer certificate at 457 days (15 months).
DS_LIFETIME = dt.timedelta(days=457)


def _name(org_name: str, role: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, COUNTRY),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org_name[:64]),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{org_name[: 64 - len(role) - 1]} {role}"),
        ]
    )


def _start(now: dt.datetime) -> dt.datetime:
    return now.astimezone(dt.UTC).replace(microsecond=0)


def _crl_points(crl_url: str) -> x509.CRLDistributionPoints:
    point = x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)
    return x509.CRLDistributionPoints([point])


def iaca_certificate(
    key: ec.EllipticCurvePrivateKey, *, org_name: str, issuer_url: str, crl_url: str, now: dt.datetime
) -> x509.Certificate:
    """The self-signed IACA root of an agency."""
    name = _name(org_name, "IACA")
    public = key.public_key()
    start = _start(now)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + IACA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.IssuerAlternativeName([x509.UniformResourceIdentifier(issuer_url)]), critical=False)
        .add_extension(_crl_points(crl_url), critical=False)
    )
    return builder.sign(key, hashes.SHA256())


def document_signer_certificate(
    ds_public: ec.EllipticCurvePublicKey,
    *,
    iaca: x509.Certificate,
    iaca_key: ec.EllipticCurvePrivateKey,
    org_name: str,
    issuer_url: str,
    crl_url: str,
    now: dt.datetime,
) -> x509.Certificate:
    """A Document Signer certificate for ``ds_public``, issued by the agency's IACA."""
    start = _start(now)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(org_name, "Document Signer"))
        .issuer_name(iaca.subject)
        .public_key(ds_public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(min(start + DS_LIFETIME, iaca.not_valid_after_utc))
        .add_extension(key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([MDOC_DS_EKU]), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(iaca_key.public_key()), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ds_public), critical=False)
        .add_extension(x509.IssuerAlternativeName([x509.UniformResourceIdentifier(issuer_url)]), critical=False)
        .add_extension(_crl_points(crl_url), critical=False)
    )
    return builder.sign(iaca_key, hashes.SHA256())


def revocation_list(
    iaca: x509.Certificate,
    key: ec.EllipticCurvePrivateKey,
    *,
    now: dt.datetime,
    next_update: dt.datetime,
    revoked: Sequence[tuple[int, dt.datetime]] = (),
) -> x509.CertificateRevocationList:
    """The root's CRL (Annex B.1.5 profile: AKI, CRL number) listing the ``revoked`` DS
    certificates (serial number, when). The CRL number is the time of signing, so it only grows."""
    start = _start(now)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(iaca.subject)
        .last_update(start)
        .next_update(min(next_update, iaca.not_valid_after_utc))
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        .add_extension(x509.CRLNumber(int(start.timestamp())), critical=False)
    )
    for serial, when in revoked:
        entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(_start(when)).build()
        builder = builder.add_revoked_certificate(entry)
    return builder.sign(key, hashes.SHA256())


@dataclass(frozen=True, slots=True)
class TrustedRoot:
    """A published IACA root and the agency it belongs to."""

    org_id: str
    certificate: x509.Certificate


@dataclass(frozen=True, slots=True)
class CheckedSigner:
    """A Document Signer certificate that chains to one of our roots."""

    org_id: str
    public_key: ec.EllipticCurvePublicKey
    #: When the chain is valid: both the DS certificate and its root.
    valid_from: dt.datetime
    valid_until: dt.datetime

    def check_time(self, now: dt.datetime) -> None:
        if now < self.valid_from:
            raise MdocNotValid("not-yet-valid", "the Document Signer certificate is not valid yet")
        if now > self.valid_until:
            raise MdocNotValid("expired", "the Document Signer or IACA certificate has expired")


def check_document_signer(der: bytes, roots: list[TrustedRoot]) -> CheckedSigner:
    """Check a DS certificate against the trusted roots: issued by one, with the DS profile.
    The result depends on no clock (callers may cache it); :meth:`CheckedSigner.check_time` does."""
    try:
        cert = x509.load_der_x509_certificate(der)
        public = cert.public_key()
    except Exception as exc:
        # Hostile DER: cryptography raises ValueError, UnsupportedAlgorithm (a curve nobody
        # knows), InvalidVersion, ...; each means "malformed".
        raise MalformedMdoc("the Document Signer certificate is not DER X.509 with a key we read") from exc
    if not isinstance(public, ec.EllipticCurvePublicKey) or not isinstance(public.curve, ec.SECP256R1):
        raise UntrustedIssuer("the Document Signer key is not P-256")
    root = _issuing_root(cert, roots)
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except Exception as exc:  # missing, duplicated or unreadable extensions alike
        raise UntrustedIssuer("the certificate lacks the Document Signer key usages") from exc
    if MDOC_DS_EKU not in eku or not usage.digital_signature:
        raise UntrustedIssuer("the certificate is not an mdoc Document Signer's")
    return CheckedSigner(
        root.org_id,
        public,
        max(cert.not_valid_before_utc, root.certificate.not_valid_before_utc),
        min(cert.not_valid_after_utc, root.certificate.not_valid_after_utc),
    )


def _issued_by(cert: x509.Certificate, root: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(root)
    except Exception:  # any failure to verify means "not issued by this root"
        return False
    return True


def _issuing_root(cert: x509.Certificate, roots: list[TrustedRoot]) -> TrustedRoot:
    for root in roots:
        if root.certificate.subject == cert.issuer and _issued_by(cert, root.certificate):
            return root
    raise UntrustedIssuer("the Document Signer certificate does not chain to a published IACA root")
