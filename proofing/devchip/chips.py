"""Development and test chips: the data groups and SOD of a chip ID card, and its AA answers.

The structures are encoded by asn1crypto from the declarations in
:mod:`proofing.chip.asn1`; the signatures are made by cryptography.
"""

from __future__ import annotations

import hashlib
import secrets
import struct
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from asn1crypto import algos, cms, keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from proofing.chip.active import AA_OID
from proofing.chip.asn1 import (
    DG1,
    DG2,
    DG13,
    DG14,
    DG15,
    LDS_SECURITY_OBJECT_OID,
    SOD,
    ActiveAuthenticationInfo,
    LDSSecurityObject,
    SecurityInfo,
)
from proofing.chip.identity import DG13_FIELDS
from proofing.chip.mrz import format_td1
from proofing.chip.verify import ChipRead
from proofing.devchip import faces
from proofing.devchip.pki import Authority

__all__ = ["Chip", "Holder", "make_chip", "sign_sod"]

AaKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
_ECDSA_PLAIN_SHA256 = "0.4.0.127.0.7.1.1.4.1.3"
_HASHES = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512, "sha1": hashlib.sha1}


@dataclass(frozen=True)
class Holder:
    person_id: str
    full_name: str
    date_of_birth: date
    sex: str = "female"


@dataclass(frozen=True)
class Chip:
    read: ChipRead
    aa_key: AaKey

    def answer(self, challenge: bytes) -> bytes:
        """What the chip returns to INTERNAL AUTHENTICATE with this challenge."""
        if isinstance(self.aa_key, ec.EllipticCurvePrivateKey):
            return ecdsa_plain(self.aa_key, challenge)
        return iso9796_2_sign(self.aa_key, challenge)


def ecdsa_plain(key: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
    width = (key.curve.key_size + 7) // 8
    r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(width, "big") + s.to_bytes(width, "big")


def iso9796_2_sign(key: rsa.RSAPrivateKey, challenge: bytes) -> bytes:
    """ISO/IEC 9796-2 scheme 1, partial recovery, SHA-1 with the implicit ``BC`` trailer."""
    width = key.key_size // 8
    m1 = secrets.token_bytes(width - 20 - 2)
    message = b"\x6a" + m1 + hashlib.sha1(m1 + challenge).digest() + b"\xbc"  # noqa: S324 - ICAO's AA
    numbers = key.private_numbers()
    return pow(int.from_bytes(message, "big"), numbers.d, numbers.public_numbers.n).to_bytes(width, "big")


def _face_record(image: bytes) -> bytes:
    facial = struct.pack(">IHBBBBBBHBBBBBB", 20 + 12 + len(image), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    image_info = struct.pack(">BBHHBBHH", 1, 0, 120, 150, 1, 2, 0, 0)
    body = facial + image_info + image
    return struct.pack(">4s4sIH", b"FAC\x00", b"010\x00", 14 + len(body), 1) + body


def _dg2(image: bytes) -> bytes:
    template = {
        "header": {
            "version": b"\x01\x01",
            "biometric_type": b"\x02",
            "format_owner": b"\x01\x01",
            "format_type": b"\x00\x08",
        },
        "data": _face_record(image),
    }
    return bytes(DG2({"group": {"count": 1, "template": template}}).dump())


def _dg13(holder: Holder) -> bytes:
    items = [
        (DG13_FIELDS["person_id"], holder.person_id),
        (DG13_FIELDS["full_name"], holder.full_name),
        (DG13_FIELDS["date_of_birth"], holder.date_of_birth.strftime("%d/%m/%Y")),
        (DG13_FIELDS["sex"], "Nữ" if holder.sex == "female" else "Nam"),
        (5, "Việt Nam"),
    ]
    return bytes(DG13([{"index": i, "value": v} for i, v in items]).dump())


def _dg14() -> bytes:
    """SecurityInfos announcing active authentication with ecdsa-plain-SHA256."""
    aa = ActiveAuthenticationInfo({"protocol": AA_OID, "version": 1, "signature_algorithm": _ECDSA_PLAIN_SHA256})
    return bytes(DG14([SecurityInfo.load(aa.dump())]).dump())


def sign_sod(
    signer: Authority, hashes_by_group: dict[int, bytes], *, signed_at: datetime, hash_name: str = "sha256"
) -> bytes:
    """EF.SOD: the data-group hashes signed by the Document Signer (CMS SignedData)."""
    lds = LDSSecurityObject(
        {
            "version": 0,
            "hash_algorithm": {"algorithm": hash_name},
            "hashes": [{"number": n, "hash": h} for n, h in sorted(hashes_by_group.items())],
        }
    ).dump()
    attrs = cms.CMSAttributes(
        [
            {"type": "content_type", "values": [LDS_SECURITY_OBJECT_OID]},
            {"type": "signing_time", "values": [cms.Time({"utc_time": signed_at})]},
            {"type": "message_digest", "values": [_HASHES[hash_name](lds).digest()]},
        ]
    )
    to_sign = attrs.dump()
    key = signer.key
    if isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(to_sign, ec.ECDSA(hashes.SHA256()))
        algorithm = "sha256_ecdsa"
    else:
        signature = key.sign(to_sign, padding.PKCS1v15(), hashes.SHA256())
        algorithm = "sha256_rsa"
    certificate = asn1_x509.Certificate.load(signer.cert.public_bytes(serialization.Encoding.DER))
    signed_data = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
            "encap_content_info": {"content_type": LDS_SECURITY_OBJECT_OID, "content": lds},
            "certificates": [certificate],
            "signer_infos": [
                {
                    "version": "v1",
                    "sid": cms.SignerIdentifier(
                        {
                            "issuer_and_serial_number": {
                                "issuer": certificate.issuer,
                                "serial_number": certificate.serial_number,
                            }
                        }
                    ),
                    "digest_algorithm": {"algorithm": "sha256"},
                    "signed_attrs": attrs,
                    "signature_algorithm": {"algorithm": algorithm},
                    "signature": signature,
                }
            ],
        }
    )
    return bytes(SOD({"content_type": "signed_data", "content": signed_data}).dump())


def make_chip(
    holder: Holder,
    signer: Authority,
    *,
    aa_key: AaKey | None = None,
    portrait: bytes | None = None,
    signed_at: datetime | None = None,
    expiry: date | None = None,
) -> Chip:
    """A chip ID card of ``holder`` whose SOD ``signer`` signed."""
    aa_key = aa_key or ec.generate_private_key(ec.SECP256R1())
    signed_at = signed_at or datetime.now(UTC) - timedelta(minutes=5)
    mrz = format_td1(
        person_id=holder.person_id,
        date_of_birth=holder.date_of_birth,
        sex="F" if holder.sex == "female" else "M",
        expiry=expiry or date(signed_at.year + 10, 12, 31),
        name=holder.full_name,
    )
    spki = keys.PublicKeyInfo.load(
        aa_key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    groups = {
        1: bytes(DG1({"mrz": mrz}).dump()),
        2: _dg2(portrait if portrait is not None else faces.portrait(holder.person_id)),
        13: _dg13(holder),
        15: bytes(DG15({"algorithm": spki["algorithm"], "public_key": spki["public_key"]}).dump()),
    }
    if isinstance(aa_key, ec.EllipticCurvePrivateKey):
        groups[14] = _dg14()
    sod = sign_sod(signer, {n: hashlib.sha256(d).digest() for n, d in groups.items()}, signed_at=signed_at)
    read = ChipRead(dg1=groups[1], dg2=groups[2], dg13=groups[13], dg15=groups[15], sod=sod, dg14=groups.get(14))
    return Chip(read=read, aa_key=aa_key)
