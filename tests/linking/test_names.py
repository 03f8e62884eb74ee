"""Owner names match the registry name after normalising case, spacing and diacritics — nothing more."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from payments.linking.names import names_match, normalise_name

# Vietnamese name syllables, with and without diacritics.
SYLLABLES = [
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô",
    "Dương", "Lý", "Thị", "Văn", "Hữu", "Đức", "Minh", "Hồng", "Nhung", "Thủy", "Quỳnh", "Anh", "Tuấn",
    "Hương", "Phương", "Khánh", "Ngọc", "Đào", "Yến", "Thành", "Trung", "Bình", "An", "Hải", "Dũng", "Giang",
]  # fmt: skip

names = st.lists(st.sampled_from(SYLLABLES), min_size=2, max_size=5).map(" ".join)
spaces = st.text(alphabet=" \t\u00a0\u2003", min_size=1, max_size=3)


def _strip(c: str) -> str:
    c = {"đ": "d", "Đ": "D"}.get(c, c)
    return "".join(x for x in unicodedata.normalize("NFD", c) if not unicodedata.combining(x))


@st.composite
def spelled_by_a_provider(draw: st.DrawFn) -> tuple[str, str]:
    """A registry name and the same name as a provider might hold it."""
    name = draw(names)
    out = []
    for c in name:
        if draw(st.booleans()):
            c = _strip(c)
        c = draw(st.sampled_from([c, c.upper(), c.lower()]))
        out.append(c)
    words = "".join(out).split(" ")
    joined = draw(spaces).join(words) if draw(st.booleans()) else " ".join(words)
    return name, draw(spaces) + joined + draw(spaces)


@given(spelled_by_a_provider())
def test_case_spacing_and_diacritics_do_not_matter(pair: tuple[str, str]) -> None:
    registry, wallet = pair
    assert names_match(registry, wallet)


@given(names, st.data())
def test_a_changed_letter_is_another_name(name: str, data: st.DataObject) -> None:
    plain = normalise_name(name)
    index = data.draw(st.sampled_from([i for i, c in enumerate(plain) if c != " "]))
    replacement = data.draw(st.sampled_from([c for c in "abcdefghiklmnopqrstuvxy" if c != plain[index]]))
    changed = plain[:index] + replacement + plain[index + 1 :]
    assert not names_match(name, changed)


@given(st.lists(st.sampled_from(SYLLABLES), min_size=3, max_size=5), st.data())
def test_a_missing_word_is_another_name(words: list[str], data: st.DataObject) -> None:
    dropped = data.draw(st.integers(0, len(words) - 1))
    assert not names_match(" ".join(words), " ".join(words[:dropped] + words[dropped + 1 :]))


def test_d_with_stroke_is_d() -> None:
    assert normalise_name("Đặng Đức") == normalise_name("DANG DUC") == "dang duc"


def test_an_empty_name_never_matches() -> None:
    assert not names_match("", "")
    assert not names_match("   ", " ")
