"""ECDSA P-256 signatures as phones make them: raw ``r || s`` or DER.

JWS and COSE carry ES256 signatures as raw ``r || s`` (64 bytes), but Android's
``Signature("SHA256withECDSA")`` and iOS's ``SecKeyCreateSignature`` return DER
(``SEQUENCE { INTEGER r, INTEGER s }``, 8 to 72 bytes). Device signatures are accepted in
either form; only strict DER is read (the one encoding of ``r`` and ``s``), and both
values must lie in ``[1, n-1]``. Signatures of our own issuers stay raw only (standards).
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

__all__ = ["device_signature_der"]

#: The order of the P-256 group.
_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def device_signature_der(signature: bytes) -> bytes | None:
    """The DER form of a device's ES256 signature given raw or in DER; None if it is neither."""
    if len(signature) == 64:
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    elif 8 <= len(signature) <= 72 and signature[0] == 0x30:
        try:
            r, s = decode_dss_signature(signature)
        except ValueError:
            return None
        if encode_dss_signature(r, s) != signature:
            return None  # BER, padding or trailing bytes: not the one DER encoding
    else:
        return None
    if not (0 < r < _N and 0 < s < _N):
        return None
    return encode_dss_signature(r, s)
