"""Base45 (RFC 9285): the QR alphanumeric-mode encoding used by the EU DCC and MOSIP Claim 169."""

from __future__ import annotations

import struct

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


# Byte -> value, 255 for every byte outside the alphabet: one C-speed ``translate`` maps
# the whole text, so that decoding (on every offline verification) stays cheap.
_TABLE = bytes(_VALUES.get(chr(b), 255) for b in range(256))


def b45decode(text: str) -> bytes:
    """Strict decoding: foreign characters, a dangling character or out-of-range groups are errors."""
    try:
        values = text.encode("ascii").translate(_TABLE)
    except UnicodeEncodeError:
        raise ValueError("not Base45") from None
    if 255 in values:
        raise ValueError("not Base45")
    tail = len(values) % 3
    if tail == 1:
        raise ValueError("not Base45: dangling character")
    full = len(values) - tail
    groups = [
        a + b * 45 + c * 2025 for a, b, c in zip(values[0:full:3], values[1:full:3], values[2:full:3], strict=True)
    ]
    if groups and max(groups) > 0xFFFF:
        raise ValueError("not Base45: group out of range")
    out = struct.pack(f">{len(groups)}H", *groups)
    if tail:
        n = values[full] + values[full + 1] * 45
        if n > 0xFF:
            raise ValueError("not Base45: group out of range")
        out += bytes((n,))
    return out
