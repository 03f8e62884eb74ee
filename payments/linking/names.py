"""Comparing a wallet owner's name with the registry name.

E-wallets often hold names upper-case and without diacritics ("NGUYEN THI HONG NHUNG"), with
odd spacing; the registry holds "Nguyễn Thị Hồng Nhung". Both are reduced to the same form:
diacritics removed (including đ/Đ, which Unicode does not decompose), case folded, every
run of whitespace one space. Anything else — a letter changed, a word missing or added,
words in another order — is a different name and the link is refused.
"""

from __future__ import annotations

import unicodedata

__all__ = ["names_match", "normalise_name"]

# Letters that look like a D with a stroke but have no decomposition: đ Đ, and the
# look-alikes people type instead (ð Ð from Icelandic, Ɖ from African alphabets).
_STROKED_D = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "Ɖ": "D", "ɖ": "d"})


def normalise_name(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.translate(_STROKED_D))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def names_match(registry_name: str, wallet_name: str) -> bool:
    normalised = normalise_name(registry_name)
    return bool(normalised) and normalised == normalise_name(wallet_name)
