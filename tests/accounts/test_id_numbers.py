"""ID-number rules (province, sex and century, birth year), as properties."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallet_api.accounts.id_numbers import InvalidIdNumber, check_consistent, is_valid, make, parse, provinces
from wallet_api.accounts.names import names_match, normalise_name

codes = st.sampled_from(sorted(provinces()))
sexes = st.sampled_from(["male", "female"])
birthdays = st.dates(min_value=date(1900, 1, 1), max_value=date(2399, 12, 31))
serials = st.integers(min_value=0, max_value=999_999)


def test_all_63_province_codes_are_data() -> None:
    table = provinces()
    assert len(table) == 63
    assert table["001"].name == "Hà Nội" and table["079"].name == "Hồ Chí Minh"
    pilots = {p.code for p in table.values() if p.welfare_pilot}
    assert pilots == {"001", "022", "019", "046", "074", "077"}


@given(codes, sexes, birthdays, serials)
def test_made_numbers_parse_back(province: str, sex: str, born: date, serial: int) -> None:
    number = make(province, sex, born.year, serial)  # type: ignore[arg-type]
    pid = check_consistent(number, born, sex)  # type: ignore[arg-type]
    assert len(number) == 12 and number.isdigit()
    assert (pid.province_code, pid.sex, pid.serial) == (province, sex, f"{serial:06d}")
    assert pid.birth_year_matches(born.year)


@given(codes, sexes, birthdays, serials, st.integers(min_value=1, max_value=499))
def test_a_different_birth_year_is_inconsistent(province: str, sex: str, born: date, serial: int, shift: int) -> None:
    number = make(province, sex, born.year, serial)  # type: ignore[arg-type]
    other = born.year + shift
    if other > 2399:
        other = born.year - shift
    if other < 1900:
        return
    assert not is_valid(number, date(other, 1, 1))


@given(codes, sexes, birthdays, serials)
def test_the_wrong_sex_is_inconsistent(province: str, sex: str, born: date, serial: int) -> None:
    number = make(province, sex, born.year, serial)  # type: ignore[arg-type]
    with pytest.raises(InvalidIdNumber):
        check_consistent(number, born, "female" if sex == "male" else "male")


@given(st.text(max_size=14))
def test_parse_never_crashes_on_junk(text: str) -> None:
    try:
        pid = parse(text)
    except InvalidIdNumber:
        return
    assert len(text) == 12 and pid.province_code in provinces()


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_unknown_province_codes_are_invalid(number: str) -> None:
    assert is_valid(number) == (number[:3] in provinces())


def test_birth_years_before_1900_cannot_be_expressed() -> None:
    with pytest.raises(InvalidIdNumber):
        make("001", "male", 1899, 1)


@given(st.sampled_from(["Nguyễn Thị Hồng Nhung", "Đặng Quốc Huy", "Trần Ngọc Bảo Anh"]), st.data())
def test_names_match_ignoring_case_spacing_and_diacritics(name: str, data: st.DataObject) -> None:
    bare = normalise_name(name)
    variant = "  ".join(w.upper() if data.draw(st.booleans()) else w for w in bare.split())
    assert names_match(name, variant)
    assert names_match(name, name.upper())
    assert not names_match(name, name + " Văn")


def test_d_with_stroke_is_d() -> None:
    assert normalise_name("ĐẶNG Đức") == "dang duc"
