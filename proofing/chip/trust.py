"""The trust list: the CSCA certificates whose Document Signers we believe, and their CRLs.

A CSCA (Country Signing Certificate Authority) is a country's root for its travel and ID
documents; it certifies Document Signers, which sign each card's SOD. The list is a
directory of files (PEM or DER: certificates, CRLs), read again whenever a file in it
changes, so a new CRL takes effect without a restart. Sub-directories are not read.

A CRL counts only if its signature verifies with the CSCA that issued it; one that does
not is ignored (and logged), never trusted.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPublicKeyTypes, PublicKeyTypes

__all__ = ["SignerCertificate", "TrustList", "TrustStore"]

log = logging.getLogger(__name__)

#: Document Signers whose CSCA signature was already checked, per trust list (bounded).
_CHAIN_CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class SignerCertificate:
    """A Document Signer certificate as read from an SOD, decoded once."""

    der: bytes
    cert: x509.Certificate
    public_key: PublicKeyTypes
    #: DER of the issuer name, to match the SOD's SignerInfo without decoding names.
    issuer_der: bytes


@dataclass
class TrustList:
    cscas: list[x509.Certificate] = field(default_factory=list)
    #: Revoked serial numbers per CSCA, from CRLs that verified.
    revoked: dict[x509.Certificate, set[int]] = field(default_factory=dict)
    _chains: dict[bytes, x509.Certificate] = field(default_factory=dict)
    _signers: dict[bytes, SignerCertificate] = field(default_factory=dict)

    @classmethod
    def from_files(cls, certificates: list[x509.Certificate], crls: list[x509.CertificateRevocationList]) -> TrustList:
        trust = cls(cscas=list(certificates))
        for crl in crls:
            issuer = next((c for c in trust.cscas if c.subject == crl.issuer and _crl_verifies(crl, c)), None)
            if issuer is None:
                log.warning("CRL ignored: no CSCA in the trust list verifies it")
                continue
            serials = trust.revoked.setdefault(issuer, set())
            serials.update(r.serial_number for r in crl)
        return trust

    def signer_certificate(self, der: bytes) -> SignerCertificate | None:
        """The certificate in ``der`` (cached: one Document Signer signs many cards), or None."""
        known = self._signers.get(der)
        if known is None:
            try:
                cert = x509.load_der_x509_certificate(der)
                known = SignerCertificate(der, cert, cert.public_key(), cert.issuer.public_bytes())
                # Decoded now, not when first read: cryptography decodes some fields lazily.
                _ = (cert.version, cert.serial_number, cert.not_valid_before_utc, cert.not_valid_after_utc)
            except Exception:
                return None
            if len(self._signers) >= _CHAIN_CACHE_SIZE:
                self._signers.clear()
            self._signers[der] = known
        return known

    def issuer_of(self, signer: SignerCertificate) -> x509.Certificate | None:
        """The CSCA that signed this Document Signer certificate, or None."""
        known = self._chains.get(signer.der)
        if known is not None:
            return known
        for csca in self.cscas:
            if csca.subject != signer.cert.issuer:
                continue
            try:
                signer.cert.verify_directly_issued_by(csca)
            except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
                continue
            if len(self._chains) >= _CHAIN_CACHE_SIZE:
                self._chains.clear()
            self._chains[signer.der] = csca
            return csca
        return None

    def is_revoked(self, csca: x509.Certificate, signer: x509.Certificate) -> bool:
        return signer.serial_number in self.revoked.get(csca, ())


def _crl_verifies(crl: x509.CertificateRevocationList, csca: x509.Certificate) -> bool:
    key: CertificateIssuerPublicKeyTypes = csca.public_key()  # type: ignore[assignment]
    try:
        return crl.is_signature_valid(key)
    except (TypeError, ValueError):
        return False


class TrustStore:
    """The trust list of one directory, reloaded when its files change."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._stamp: tuple[tuple[str, int, int], ...] | None = None
        self._trust = TrustList()

    def current(self) -> TrustList:
        stamp = self._read_stamp()
        if stamp != self._stamp:
            self._trust = _load(self._directory)
            self._stamp = stamp
        return self._trust

    def _read_stamp(self) -> tuple[tuple[str, int, int], ...]:
        try:
            entries = [e for e in os.scandir(self._directory) if e.is_file()]
        except FileNotFoundError:
            return ()
        return tuple(sorted((e.name, e.stat().st_mtime_ns, e.stat().st_size) for e in entries))


def _load(directory: Path) -> TrustList:
    certificates: list[x509.Certificate] = []
    crls: list[x509.CertificateRevocationList] = []
    if not directory.is_dir():
        log.warning("chip trust list directory missing; no chip will verify")
        return TrustList()
    for path in sorted(p for p in directory.iterdir() if p.is_file()):
        raw = path.read_bytes()
        try:
            if b"-----BEGIN X509 CRL-----" in raw:
                crls.append(x509.load_pem_x509_crl(raw))
            elif b"-----BEGIN CERTIFICATE-----" in raw:
                certificates.extend(x509.load_pem_x509_certificates(raw))
            elif path.suffix == ".crl":
                crls.append(x509.load_der_x509_crl(raw))
            elif path.suffix in (".der", ".cer", ".crt"):
                certificates.append(x509.load_der_x509_certificate(raw))
        except ValueError:
            log.warning("trust list file ignored: not a certificate or CRL", extra={"file": path.name})
    return TrustList.from_files(certificates, crls)
