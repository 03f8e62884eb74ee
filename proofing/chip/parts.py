"""Loading one uploaded chip file with its ASN.1 shape, mapping every decoding failure to a refusal.

asn1crypto decodes lazily; :func:`load_part` forces the whole value (``.native``) so that
a fault deep inside is found here, as a refusal naming the part, and not later as a 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from proofing.chip.refusals import ChipRefused

__all__ = ["PART_LIMITS", "check_size", "decoding", "load_part"]

#: Largest size (bytes) each part may have; real cards stay well below (a DG2 face is ~15-20 KB).
PART_LIMITS: dict[str, int] = {
    "dg1": 256,
    "dg2": 64 * 1024,
    "dg13": 4096,
    "dg14": 4096,
    "dg15": 2048,
    "sod": 16 * 1024,
    "aa_signature": 1024,
    "selfie": 96 * 1024,
}


def check_size(part: str, data: bytes) -> None:
    if len(data) > PART_LIMITS[part]:
        raise ChipRefused(
            "chip-data-oversized", f"{part} is {len(data)} bytes; at most {PART_LIMITS[part]} are allowed.", part=part
        )


@contextmanager
def decoding(part: str) -> Iterator[None]:
    """Turn asn1crypto's decoding errors raised inside into the refusal for ``part``."""
    try:
        yield
    except ValueError as exc:
        if str(exc).startswith("Insufficient data"):
            raise ChipRefused("chip-data-truncated", f"{part} ends before its ASN.1 length says.", part=part) from None
        raise ChipRefused("chip-data-malformed", f"{part} is not well-formed.", part=part) from None
    except (TypeError, KeyError, IndexError, AttributeError, OverflowError, UnicodeDecodeError):
        raise ChipRefused("chip-data-malformed", f"{part} is not well-formed.", part=part) from None


def load_part(spec: Any, part: str, data: bytes, *, whole: bool = True) -> Any:
    """``data`` decoded as ``spec`` (an asn1crypto class) with nothing after it; ``whole``
    decodes every nested value now rather than when first read."""
    check_size(part, data)
    with decoding(part):
        value = spec.load(data, strict=True)
        if whole:
            _ = value.native
    return value
