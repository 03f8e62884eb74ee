"""Passive and active authentication of chip reads, and every way a read is refused."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import core
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from proofing.chip import ChipRead, ChipRefused, TrustList, verify_chip
from proofing.devchip import Chip, make_chip, make_crl, make_csca, make_signer, sign_sod
from tests.proofing.conftest import MINH, NHUNG, Pki

CHALLENGE = bytes.fromhex("0123456789abcdef")


def refusal(chip_read: ChipRead, pki: Pki, signature: bytes, challenge: bytes = CHALLENGE) -> ChipRefused:
    with pytest.raises(ChipRefused) as caught:
        verify_chip(chip_read, challenge, signature, pki.trust)
    return caught.value


def resigned(chip: Chip, pki: Pki, **groups: bytes | None) -> ChipRead:
    """The chip with some data groups replaced (or dropped) and a fresh, valid SOD over them."""
    read = dataclasses.replace(chip.read, **{k: v for k, v in groups.items() if v is not None})
    hashes = {n: hashlib.sha256(d).digest() for n, d in read.groups().items()}
    for name in (k for k, v in groups.items() if v is None):
        hashes.pop(int(name.removeprefix("dg")))
    sod = sign_sod(pki.signer, hashes, signed_at=datetime.now(UTC) - timedelta(minutes=1))
    return dataclasses.replace(read, sod=sod)


def test_a_genuine_chip_verifies_with_its_holder_and_photo(pki: Pki) -> None:
    chip = pki.chip()
    verified = verify_chip(chip.read, CHALLENGE, chip.answer(CHALLENGE), pki.trust)
    assert verified.identity.person_id == NHUNG.person_id
    assert verified.identity.full_name == NHUNG.full_name
    assert verified.identity.date_of_birth == NHUNG.date_of_birth
    assert verified.portrait.startswith(b"\xff\xd8")  # the JPEG inside DG2's face record
    assert verified.signed.signer == pki.signer.cert


def test_rsa_active_authentication_iso_9796_2(pki: Pki) -> None:
    chip = pki.chip(aa_key=rsa.generate_private_key(65537, 2048))
    assert chip.read.dg14 is None  # RSA AA needs no DG14
    verify_chip(chip.read, CHALLENGE, chip.answer(CHALLENGE), pki.trust)
    other = chip.answer(b"another!")
    assert refusal(chip.read, pki, other).slug == "active-authentication-failed"


def test_an_independent_cms_implementation_accepts_the_test_sod(pki: Pki, tmp_path: Path) -> None:
    """OpenSSL verifies the SOD our test material makes, against the test CSCA."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    chip = pki.chip()
    (tmp_path / "sod.der").write_bytes(core.Asn1Value.load(chip.read.sod).contents)  # inside tag 77
    (tmp_path / "csca.pem").write_bytes(pki.csca.cert.public_bytes(serialization.Encoding.PEM))
    out = subprocess.run(
        ["openssl", "cms", "-verify", "-inform", "DER", "-in", str(tmp_path / "sod.der"), "-binary",
         "-CAfile", str(tmp_path / "csca.pem"), "-purpose", "any", "-out", str(tmp_path / "lds.der")],
        capture_output=True, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    lds = (tmp_path / "lds.der").read_bytes()
    assert hashlib.sha256(chip.read.dg1).digest() in lds


def test_a_changed_data_group_is_a_hash_mismatch(pki: Pki) -> None:
    chip = pki.chip()
    dg13 = chip.read.dg13.replace(b"Nhung", b"Nhunh")
    err = refusal(dataclasses.replace(chip.read, dg13=dg13), pki, chip.answer(CHALLENGE))
    assert err.slug == "chip-data-group-hash-mismatch"
    assert err.extensions["data_group"] == 13


def test_a_bad_sod_signature(pki: Pki) -> None:
    chip = pki.chip()
    sod = bytearray(chip.read.sod)
    sod[-5] ^= 0x01  # inside the signature value, the SOD's last field
    assert refusal(dataclasses.replace(chip.read, sod=bytes(sod)), pki, chip.answer(CHALLENGE)).slug == (
        "sod-signature-invalid"
    )


@pytest.mark.parametrize(
    ("signer", "slug"),
    [
        ("stranger", "document-signer-untrusted"),
        ("expired_signer", "document-signer-expired"),
        ("revoked_signer", "document-signer-revoked"),
    ],
)
def test_document_signer_outside_trust_expired_or_revoked(pki: Pki, signer: str, slug: str) -> None:
    chip = pki.chip(signer=getattr(pki, signer))
    assert refusal(chip.read, pki, chip.answer(CHALLENGE)).slug == slug


def test_a_sod_signed_before_the_signer_existed_is_refused(pki: Pki) -> None:
    chip = pki.chip(signed_at=datetime.now(UTC) - timedelta(days=400))
    assert refusal(chip.read, pki, chip.answer(CHALLENGE)).slug == "document-signer-expired"


def test_a_cloned_chip_cannot_answer_the_challenge(pki: Pki) -> None:
    """A copy has every file (and a valid SOD) but not the chip's private key."""
    chip = pki.chip()
    clone_key = ec.generate_private_key(ec.SECP256R1())
    clone = Chip(read=chip.read, aa_key=clone_key)
    assert refusal(chip.read, pki, clone.answer(CHALLENGE)).slug == "active-authentication-failed"


def test_an_answer_to_another_challenge_is_refused(pki: Pki) -> None:
    chip = pki.chip()
    assert refusal(chip.read, pki, chip.answer(b"yesterday")).slug == "active-authentication-failed"
    assert refusal(chip.read, pki, b"").slug == "active-authentication-failed"


def test_truncated_oversized_and_trailing_asn1(pki: Pki) -> None:
    chip = pki.chip()
    answer = chip.answer(CHALLENGE)
    truncated = dataclasses.replace(chip.read, sod=chip.read.sod[:-10])
    assert refusal(truncated, pki, answer).slug == "chip-data-truncated"
    oversized = dataclasses.replace(chip.read, sod=chip.read.sod + b"\x00" * 20000)
    err = refusal(oversized, pki, answer)
    assert (err.slug, err.extensions["part"]) == ("chip-data-oversized", "sod")
    trailing = dataclasses.replace(chip.read, sod=chip.read.sod + b"\x00\x00")
    assert refusal(trailing, pki, answer).slug == "chip-data-malformed"
    huge_length = dataclasses.replace(chip.read, sod=b"\x77\x84\x7f\xff\xff\xff" + chip.read.sod[4:])
    assert refusal(huge_length, pki, answer).slug == "chip-data-truncated"


def test_a_sod_that_leaves_out_a_needed_group(pki: Pki) -> None:
    chip = pki.chip()
    read = resigned(chip, pki, dg15=None)
    err = refusal(read, pki, chip.answer(CHALLENGE))
    assert (err.slug, err.extensions["data_group"]) == ("chip-data-group-missing", 15)


def test_data_groups_that_name_different_people(pki: Pki) -> None:
    chip = pki.chip()
    other = make_chip(MINH, pki.signer)
    read = resigned(chip, pki, dg13=other.read.dg13)
    assert refusal(read, pki, chip.answer(CHALLENGE)).slug == "chip-data-inconsistent"


def test_dg15_with_an_unsupported_key(pki: Pki) -> None:
    chip = pki.chip()
    from cryptography.hazmat.primitives.asymmetric import ed25519

    spki = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    dg15 = b"\x6f" + bytes([len(spki)]) + spki
    read = resigned(chip, pki, dg15=dg15)
    assert refusal(read, pki, chip.answer(CHALLENGE)).slug == "chip-algorithm-unsupported"


_PARTS = ("dg1", "dg2", "dg13", "dg14", "dg15", "sod")


@functools.cache
def _material() -> tuple[Chip, bytes, TrustList]:
    """The hypothesis test's own chip (fixtures would be printed with every example)."""
    csca = make_csca()
    chip = make_chip(NHUNG, make_signer(csca))
    return chip, chip.answer(CHALLENGE), TrustList.from_files([csca.cert], [make_crl(csca, [])])


@settings(max_examples=int(os.environ.get("CHIP_FLIPS", "400")), deadline=None)
@given(part=st.sampled_from(_PARTS), position=st.integers(min_value=0), flip=st.integers(min_value=1, max_value=255))
def test_flipping_any_byte_of_any_group_or_the_sod_fails(part: str, position: int, flip: int) -> None:
    chip, answer, trust = _material()
    data = bytearray(getattr(chip.read, part))
    data[position % len(data)] ^= flip
    with pytest.raises(ChipRefused):
        verify_chip(dataclasses.replace(chip.read, **{part: bytes(data)}), CHALLENGE, answer, trust)


def test_every_refusal_is_documented() -> None:
    from proofing.chip import REFUSALS

    text = (Path(__file__).parents[2] / "docs" / "problems.md").read_text()
    assert [slug for slug in REFUSALS if f"`{slug}`" not in text] == []


def test_rsa_active_authentication_with_a_sha256_trailer(pki: Pki) -> None:
    """ISO/IEC 9796-2 with the two-byte trailer ``34 CC`` (SHA-256), made here by hand."""
    key = rsa.generate_private_key(65537, 2048)
    chip = pki.chip(aa_key=key)
    m1 = os.urandom(256 - 1 - 32 - 2)  # header byte, M1, hash, trailer: 256 bytes
    message = b"\x6a" + m1 + hashlib.sha256(m1 + CHALLENGE).digest() + b"\x34\xcc"
    numbers = key.private_numbers()
    answer = pow(int.from_bytes(message, "big"), numbers.d, numbers.public_numbers.n).to_bytes(256, "big")
    verify_chip(chip.read, CHALLENGE, answer, pki.trust)
    assert refusal(chip.read, pki, answer, challenge=b"other!!!").slug == "active-authentication-failed"
