"""Comparing Vietnamese names across systems: case, spacing and diacritics do not count.

"Nguyễn Thị Hồng Nhung", "NGUYEN THI HONG NHUNG" and "nguyen  thi hong nhung" are the
same name to a bank or an e-wallet that stores names without diacritics. ``đ``/``Đ`` is a
separate letter, not ``d`` with a mark, so it is mapped explicitly.
"""

from __future__ import annotations

import unicodedata

__all__ = ["names_match", "normalise_name"]

_LETTERS = str.maketrans({"đ": "d", "Đ": "d"})


def normalise_name(name: str) -> str:
    decomposed = unicodedata.normalize("NFD", name.translate(_LETTERS))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def names_match(a: str, b: str) -> bool:
    return normalise_name(a) == normalise_name(b)
