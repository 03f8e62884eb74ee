"""Base45 (RFC 9285): the QR alphanumeric-mode encoding used by the EU DCC and MOSIP Claim 169."""

from __future__ import annotations

__all__ = ["b45decode", "b45encode"]

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_VALUES = {c: i for i, c in enumerate(_ALPHABET)}


def b45encode(data: bytes) -> str:
    out: list[str] = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        c, n = divmod(n, 45 * 45)
        b, a = divmod(n, 45)
        out += (_ALPHABET[a], _ALPHABET[b], _ALPHABET[c])
    if len(data) % 2:
        b, a = divmod(data[-1], 45)
        out += (_ALPHABET[a], _ALPHABET[b])
    return "".join(out)


def b45decode(text: str) -> bytes:
    """Strict decoding: foreign characters, a dangling character or out-of-range groups are errors."""
    try:
        values = [_VALUES[c] for c in text]
    except KeyError:
        raise ValueError("not Base45") from None
    if len(values) % 3 == 1:
        raise ValueError("not Base45: dangling character")
    out = bytearray()
    for i in range(0, len(values), 3):
        group = values[i : i + 3]
        if len(group) == 3:
            n = group[0] + group[1] * 45 + group[2] * 45 * 45
            if n > 0xFFFF:
                raise ValueError("not Base45: group out of range")
            out += n.to_bytes(2, "big")
        else:
            n = group[0] + group[1] * 45
            if n > 0xFF:
                raise ValueError("not Base45: group out of range")
            out.append(n)
    return bytes(out)
