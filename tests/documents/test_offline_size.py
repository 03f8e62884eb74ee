"""Offline QR size: the longest realistic driving licence fits QR version 15 at level M with the
demo issuer, an independent chain (zxing-cpp, the ``base45`` package, cbor2, zlib, jwcrypto's
JWK) reads and verifies it, and fields that cannot fit are refused with a problem."""

from __future__ import annotations

import hashlib
import zlib
from typing import Any

import asyncpg
import base45  # type: ignore[import-not-found,unused-ignore]
import cbor2
import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from jwcrypto import jwk  # type: ignore[import-not-found,unused-ignore]

from documents.offline_dictionary import OFFLINE_DICTIONARY
from documents.types import get_type
from tests.documents.conftest import Citizen, issue, licence_claims, presentation_proof
from tests.documents.test_presentation import read_qr, slug, verify

#: Real shapes of long Vietnamese addresses: city apartment with a second address, a rural
#: address with landmarks, a Hanoi alley; each padded to the schema's 250 characters.
LONG_ADDRESSES = [
    "Số nhà 123/45/6 đường Nguyễn Thị Minh Khai, Khu phố 5, phường Bến Thành, quận 1, thành phố Hồ Chí Minh; "
    "tạm trú: Căn hộ 12.05 tòa nhà Sunrise City, số 27 đường Nguyễn Hữu Thọ, phường Tân Hưng, quận 7, "
    "thành phố Hồ Chí Minh (gần cầu Kênh Tẻ, đối diện siêu thị)",
    "Thôn Phú Lộc 2, xã Phú Lộc, huyện Krông Năng, tỉnh Đắk Lắk; nơi ở hiện tại: Tổ dân phố 7, phường Tân Lợi, "
    "thành phố Buôn Ma Thuột, tỉnh Đắk Lắk, gần chợ Tân Lợi, đối diện Trường Tiểu học Nguyễn Du, cạnh cây xăng "
    "số 3 của Công ty Xăng dầu Nam Tây Nguyên, đường Y Wang",
    "Phòng 1204, Tòa nhà chung cư CT2A, Khu đô thị mới Nghĩa Đô, số 106 đường Hoàng Quốc Việt, phường Nghĩa Đô, "
    "quận Cầu Giấy, thành phố Hà Nội (liên hệ: số 15 ngách 68/21 ngõ 68 phố Cầu Giấy, phường Quan Hoa, quận Cầu "
    "Giấy, Hà Nội; điện thoại bàn nhà riêng)",
]


LONGEST_NAME = "Nguyễn Thị Phương Thảo Hoàng Anh"


@pytest.fixture
async def holder(issuer: Any, make_citizen: Any, db: asyncpg.Pool) -> Citizen:
    """The licence's holder, whom the registry knows by that long name (issuing checks it)."""
    citizen: Citizen = await make_citizen()
    await db.execute("UPDATE population SET full_name = $1 WHERE person_id = $2", LONGEST_NAME, citizen.person_id)
    return citizen


def _longest_licence(address: str) -> dict[str, Any]:
    return licence_claims(
        full_name=LONGEST_NAME,
        place_of_residence=address[:250],
        issuing_authority="Phòng Cảnh sát giao thông Công an thành phố Hồ Chí Minh",
        photo_ref="sha256:4f0c5e2b9a7d13e8",
    )


async def _offline(client: httpx.AsyncClient, holder: Citizen, doc_id: str, fields: list[str]) -> httpx.Response:
    return await client.post(
        f"/v1/me/documents/{doc_id}/offline-presentations",
        headers=holder.headers,
        json={"proof": presentation_proof(holder, doc_id, fields, mode="offline")},
    )


def _verify_independently(text: str, published: list[dict[str, Any]]) -> dict[int, Any]:
    """Base45 (the ``base45`` package), COSE_Sign1 by hand with cbor2, the key from the JWKS via jwcrypto."""
    assert text.startswith("VN2:")
    cose = cbor2.loads(base45.b45decode(text[4:]))
    assert cose.tag == 18
    protected, unprotected, payload, signature = cose.value
    header = cbor2.loads(protected)
    assert header[1] == -7 and unprotected == {}
    key_data = next(k for k in published if k["kid"].startswith(jwk.base64url_encode(header[4])))
    public = jwk.JWK(**key_data).get_op_key("verify")
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    sig_structure = cbor2.dumps(["Signature1", protected, b"", payload])
    try:
        public.verify(der, sig_structure, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:  # pragma: no cover - the assertion below names it
        pytest.fail("the independent check refused the signature")
    claims: dict[int, Any] = cbor2.loads(zlib.decompressobj(-15, zdict=OFFLINE_DICTIONARY).decompress(payload))
    return claims


@pytest.mark.parametrize("address", LONG_ADDRESSES, ids=["hcmc-two-addresses", "rural-landmarks", "hanoi-alley"])
async def test_the_longest_realistic_licence_fits_version_15_m_and_verifies_independently(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, verifier: Any, address: str
) -> None:
    lic = get_type("driving_licence")
    assert lic is not None
    claims = _longest_licence(address)
    assert len(claims["place_of_residence"]) == 250 and len(claims["classes"]) == 3
    doc = await issue(client, issuer, claims=claims)
    r = await _offline(client, holder, doc["id"], list(lic.disclosable))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["qr_version"] <= 15
    scanned = read_qr(body["qr_png"])  # zxing-cpp, not the encoder
    assert scanned == body["payload"] and len(scanned) <= 600
    published = (await client.get("/.well-known/jwks.json")).json()["keys"]
    decoded = _verify_independently(scanned, published)
    assert decoded[1] == "csgt"
    assert decoded[-3][lic.offline_keys["place_of_residence"]] == claims["place_of_residence"]
    ours = await verify(client, verifier, scanned)
    assert ours.status_code == 200, ours.text
    assert ours.json()["fields"]["place_of_residence"] == claims["place_of_residence"]


async def test_fields_that_cannot_fit_are_refused_with_a_problem(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen
) -> None:
    lic = get_type("driving_licence")
    assert lic is not None
    every_class = [{"code": c, "issue_date": "2012-03-01"} for c in ("A1", "A", "B1")] + [
        {"code": c, "issue_date": "2015-06-10", "expiry_date": f"2035-06-{day:02d}"}
        for day, c in enumerate(("B", "C1", "C", "D1", "D2", "D", "BE", "C1E", "CE", "D1E", "D2E", "DE"), start=1)
    ]
    claims = _longest_licence(LONG_ADDRESSES[0]) | {
        "classes": every_class,
        "issuing_authority": "Phòng CSGT " + "0123456789" * 23,
    }
    doc = await issue(client, issuer, claims=claims)
    r = await _offline(client, holder, doc["id"], list(lic.disclosable))
    assert r.status_code == 422, r.text
    assert slug(r) == "offline-payload-too-large"
    assert r.json()["max_characters"] == 600 and r.json()["characters"] > 600
    # Fewer fields fit.
    r = await _offline(client, holder, doc["id"], ["full_name", "classes", "expiry_date"])
    assert r.status_code == 201, r.text


def test_the_dictionary_is_part_of_the_format() -> None:
    # Changing it changes every payload: it needs a new version prefix, not an edit.
    assert hashlib.sha256(OFFLINE_DICTIONARY).hexdigest()[:16] == "4c2a50a36e8884ec"


def test_a_stored_block_of_the_dictionary_lets_a_plain_raw_inflater_read_the_claims() -> None:
    """What the verifier web app does (consoles/static/verify-offline.js), where DecompressionStream takes
    no preset dictionary: the dictionary as a stored deflate block before the claims."""
    from documents.offline import _deflate

    claims = cbor2.dumps({1: "csgt", -3: {5: LONG_ADDRESSES[1][:250]}})
    n = len(OFFLINE_DICTIONARY)
    stored = bytes([0, n & 0xFF, n >> 8, ~n & 0xFF, (~n >> 8) & 0xFF]) + OFFLINE_DICTIONARY
    inflated = zlib.decompressobj(-15).decompress(stored + _deflate(claims))
    assert inflated[n:] == claims
