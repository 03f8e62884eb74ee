"""Active authentication (ICAO Doc 9303 part 11, 6.1): the chip holds the private key of DG15.

A copied chip has DG15 and a valid SOD but not the key inside the original chip, so it
cannot sign the server's fresh challenge. The phone passes our 8-byte challenge to the
chip (INTERNAL AUTHENTICATE) and uploads the answer.

* ECDSA keys: a plain signature (r || s, BSI TR-03111) over the challenge, with the hash
  named by DG14's ActiveAuthenticationInfo (ecdsa-plain-SHA224/256/384/512), or the one
  that fits the curve when DG14 names none.
* RSA keys (1024 bits or more, a whole number of bytes): ISO/IEC 9796-2 digital signature
  scheme 1 with partial message recovery; trailer ``BC`` (SHA-1) or ``xx CC`` (SHA-224,
  SHA-256, SHA-384, SHA-512). The recovered part M1 is chip-chosen; the hash binds
  M1 || challenge.

Chip authentication (DG14's id-CA) is not used: it proves the chip to the phone during
secure messaging, which the server is not part of, so a server can only rely on AA.
"""

from __future__ import annotations

import hmac
from typing import Any

from asn1crypto import parser
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from proofing.chip.asn1 import DG14, ActiveAuthenticationInfo
from proofing.chip.parts import check_size, decoding, load_part
from proofing.chip.refusals import ChipRefused

__all__ = ["AA_OID", "ECDSA_PLAIN", "aa_public_key", "active_authentication", "ecdsa_hash_from_dg14"]

AA_OID = "2.23.136.1.1.5"
#: BSI TR-03111 ecdsa-plain-signatures, by hash.
ECDSA_PLAIN: dict[str, type[hashes.HashAlgorithm]] = {
    "0.4.0.127.0.7.1.1.4.1.2": hashes.SHA224,
    "0.4.0.127.0.7.1.1.4.1.3": hashes.SHA256,
    "0.4.0.127.0.7.1.1.4.1.4": hashes.SHA384,
    "0.4.0.127.0.7.1.1.4.1.5": hashes.SHA512,
}
#: ISO/IEC 10118-3 hash identifiers used in the ``xx CC`` trailer.
_ISO9796_HASHES: dict[int, type[hashes.HashAlgorithm]] = {
    0x33: hashes.SHA1,
    0x34: hashes.SHA256,
    0x35: hashes.SHA512,
    0x36: hashes.SHA384,
    0x38: hashes.SHA224,
}

AaPublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey


def _failed() -> ChipRefused:
    return ChipRefused("active-authentication-failed", "The chip's signature over the challenge does not verify.")


def aa_public_key(dg15: bytes) -> AaPublicKey:
    check_size("dg15", dg15)
    with decoding("dg15"):
        class_, method, tag, _header, spki, _trailer = parser.parse(dg15, strict=True)
    if (class_, method, tag) != (1, 1, 15):  # application class, constructed, tag 15 (6F)
        raise ChipRefused("chip-data-malformed", "DG15 does not have DG15's tag.", part="dg15")
    try:
        # Inside DG15's [APPLICATION 15] wrapper: a SubjectPublicKeyInfo, which cryptography decodes.
        key = serialization.load_der_public_key(spki)
    except (ValueError, UnsupportedAlgorithm):
        raise ChipRefused("chip-algorithm-unsupported", "DG15 holds a key we cannot use.") from None
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key
    if isinstance(key, rsa.RSAPublicKey) and key.key_size >= 1024 and key.key_size % 8 == 0:
        return key
    raise ChipRefused("chip-algorithm-unsupported", "DG15 holds a key of a kind or size we do not verify.")


def ecdsa_hash_from_dg14(dg14: bytes | None) -> type[hashes.HashAlgorithm] | None:
    """The hash DG14's ActiveAuthenticationInfo names, or None when it names none."""
    if dg14 is None:
        return None
    infos = load_part(DG14, "dg14", dg14, whole=False)
    with decoding("dg14"):
        aa = next((i for i in infos if i["protocol"].dotted == AA_OID), None)
        if aa is None:
            return None
        algorithm_id = ActiveAuthenticationInfo.load(aa.dump(), strict=True)["signature_algorithm"]
        oid = algorithm_id.dotted if algorithm_id.native is not None else None
    if oid is None:
        return None
    algorithm = ECDSA_PLAIN.get(oid)
    if algorithm is None:
        raise ChipRefused("chip-algorithm-unsupported", "DG14 names a signature algorithm we do not verify.")
    return algorithm


def _curve_hash(key: ec.EllipticCurvePublicKey) -> hashes.HashAlgorithm:
    size = key.curve.key_size
    return hashes.SHA256() if size <= 256 else hashes.SHA384() if size <= 384 else hashes.SHA512()


def _verify_ecdsa(key: ec.EllipticCurvePublicKey, algorithm: Any, challenge: bytes, signature: bytes) -> None:
    width = (key.curve.key_size + 7) // 8
    if len(signature) != 2 * width:
        raise _failed()
    r, s = int.from_bytes(signature[:width], "big"), int.from_bytes(signature[width:], "big")
    digest = algorithm() if algorithm is not None else _curve_hash(key)
    try:
        key.verify(encode_dss_signature(r, s), challenge, ec.ECDSA(digest))
    except (InvalidSignature, ValueError):
        raise _failed() from None


def _verify_iso9796_2(key: rsa.RSAPublicKey, challenge: bytes, signature: bytes) -> None:
    numbers = key.public_numbers()
    width = key.key_size // 8
    value = int.from_bytes(signature, "big")
    if len(signature) != width or value >= numbers.n:
        raise _failed()
    recovered = pow(value, numbers.e, numbers.n).to_bytes(width, "big")
    if recovered[-1] == 0xBC:
        # SHA-1 is what most chips' AA uses; a collision does not help answer a fresh challenge.
        algorithm: hashes.HashAlgorithm = hashes.SHA1()  # noqa: S303
        trailer = 1
    elif recovered[-1] == 0xCC and recovered[-2] in _ISO9796_HASHES:
        algorithm = _ISO9796_HASHES[recovered[-2]]()
        trailer = 2
    else:
        raise _failed()
    end = width - trailer - algorithm.digest_size
    # 0x6A: the first nibble 6 says "partial recovery", then the padding bits' 0xA.
    if recovered[0] != 0x6A or end <= 1:
        raise _failed()
    m1, digest = recovered[1:end], recovered[end : width - trailer]
    h = hashes.Hash(algorithm)
    h.update(m1 + challenge)
    if not hmac.compare_digest(h.finalize(), digest):
        raise _failed()


def active_authentication(dg15: bytes, dg14: bytes | None, challenge: bytes, signature: bytes) -> None:
    """Raise unless ``signature`` is the DG15 key's answer to ``challenge``."""
    check_size("aa_signature", signature)
    key = aa_public_key(dg15)
    if isinstance(key, ec.EllipticCurvePublicKey):
        _verify_ecdsa(key, ecdsa_hash_from_dg14(dg14), challenge, signature)
    else:
        _verify_iso9796_2(key, challenge, signature)
