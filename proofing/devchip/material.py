"""The development trust list and Document Signer under the data directory, made by ``wallet seed``.

``<data_dir>/chip-trust/`` (what the API trusts, as in production): the development CSCA
and its CRL. ``<data_dir>/chip-dev/`` (never read by the API): the Document Signer's
certificate and key, and a secret from which each demo citizen's chip key is derived, so
that ``wallet proofing phone-upload`` can play the chip of any citizen in the registry.
Nothing is made when ``WALLET_CHIP_TRUST_DIR`` names another trust list, or in production.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from proofing.devchip.chips import Chip, Holder, make_chip
from proofing.devchip.pki import Authority, make_crl, make_csca, make_signer
from wallet_api.kernel import Settings

__all__ = ["DevMaterial", "ensure_dev_material", "load_dev_material"]

_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@dataclass(frozen=True)
class DevMaterial:
    signer: Authority
    chip_secret: bytes

    def chip_key(self, person_id: str) -> ec.EllipticCurvePrivateKey:
        """The demo chip's active-authentication key: the same for a citizen on every run."""
        digest = hmac.new(self.chip_secret, person_id.encode(), hashlib.sha256).digest()
        return ec.derive_private_key(int.from_bytes(digest, "big") % (_P256_ORDER - 1) + 1, ec.SECP256R1())

    def chip(self, holder: Holder) -> Chip:
        return make_chip(holder, self.signer, aa_key=self.chip_key(holder.person_id))


def _dev_dir(settings: Settings) -> Path:
    return settings.data_dir / "chip-dev"


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    if private:
        tmp.chmod(0o600)
    tmp.replace(path)


def ensure_dev_material(settings: Settings) -> bool:
    """Make the development CSCA, CRL and Document Signer unless they exist; True if made."""
    if settings.env == "production" or settings.proofing.chip_trust_dir:
        return False
    trust, dev = settings.data_dir / "chip-trust", _dev_dir(settings)
    if (dev / "ds.key.pem").exists():
        return False
    trust.mkdir(parents=True, exist_ok=True)
    dev.mkdir(parents=True, exist_ok=True)
    csca = make_csca("CSCA Viet Nam (development only)")
    signer = make_signer(csca, "Document Signer (development only)")
    pem = serialization.Encoding.PEM
    _write(trust / "dev-csca.pem", csca.cert.public_bytes(pem))
    _write(trust / "dev-csca.crl", make_crl(csca, [], days=3650).public_bytes(serialization.Encoding.DER))
    _write(dev / "ds.pem", signer.cert.public_bytes(pem))
    _write(dev / "chip-secret", secrets.token_bytes(32), private=True)
    key = signer.key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    _write(dev / "ds.key.pem", key, private=True)  # last: its presence means "all made"
    return True


def load_dev_material(settings: Settings) -> DevMaterial:
    dev = _dev_dir(settings)
    try:
        key = serialization.load_pem_private_key((dev / "ds.key.pem").read_bytes(), password=None)
        cert = x509.load_pem_x509_certificate((dev / "ds.pem").read_bytes())
        secret = (dev / "chip-secret").read_bytes()
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"no development chip material under {dev}; run `wallet seed` first") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("the development Document Signer key is not an EC key")
    return DevMaterial(signer=Authority(key, cert), chip_secret=secret)
