"""The one JOSE module (wallet_api/keys/jose.py) refuses every flawed token, and the access
tokens of the API refuse the same ones through HTTP (the rules are decided in one place)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar

from tests.support.jose_flaws import flawed_jws, genuine
from wallet_api.keys.jose import (
    JoseError,
    b64url_decode,
    b64url_encode,
    decode_compact,
    ec_public_key,
    es256_verify,
    raw_signature,
    strict_json,
)
from wallet_api.keys.provider import public_jwk

_KEY = ec.generate_private_key(ec.SECP256R1())
_PUBLIC = _KEY.public_key()


def _sign(data: bytes) -> bytes:
    return raw_signature(_KEY.sign(data, ec.ECDSA(hashes.SHA256())))


_HEADER = {"alg": "ES256", "kid": "k1", "typ": "test+jwt"}
_PAYLOAD = {"sub": "someone", "iat": 1_800_000_000, "name": "Nguyễn Thị Nhung"}


def _accepted(token: str, *, device: bool = False) -> bool:
    try:
        jws = decode_compact(token, typ="test+jwt")
    except JoseError:
        return False
    return es256_verify(_PUBLIC, jws.signature, jws.signing_input, device=device)


def test_the_builder_of_flawed_tokens_makes_accepted_ones_without_a_flaw() -> None:
    assert _accepted(genuine(_HEADER, _PAYLOAD, _sign))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_every_flaw_is_refused(data: st.DataObject) -> None:
    token = data.draw(flawed_jws(_HEADER, _PAYLOAD, _sign))
    assert not _accepted(token)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_a_device_signature_may_be_der_but_nothing_else_is_relaxed(data: st.DataObject) -> None:
    token = data.draw(flawed_jws(_HEADER, _PAYLOAD, _sign, device=True))
    assert not _accepted(token, device=True)


@given(st.binary(max_size=80))
def test_base64url_round_trips(raw: bytes) -> None:
    assert b64url_decode(b64url_encode(raw)) == raw


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/ .", max_size=12))
def test_only_the_canonical_encoding_of_some_bytes_is_base64url(text: str) -> None:
    try:
        decoded = b64url_decode(text)
    except JoseError:
        return
    assert b64url_encode(decoded) == text


def _reference_base64url(text: str) -> bytes:
    """The base64url rules read the slow, obvious way: what ``b64url_decode`` must agree with."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    if len(text) % 4 == 1 or any(c not in alphabet for c in text):
        raise ValueError("not base64url")
    decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if base64.urlsafe_b64encode(decoded).rstrip(b"=").decode() != text:
        raise ValueError("not canonical")
    return decoded


_NEAR_BASE64URL = st.text(
    alphabet=st.sampled_from(list("AQgw_-z09+/= .~\n\x00\x7fé\u00a0\U0001f600")) | st.characters(), max_size=20
)


@settings(max_examples=1000)
@given(_NEAR_BASE64URL | st.binary(max_size=40).map(b64url_encode))
def test_the_base64url_decoder_agrees_with_the_rules_read_the_slow_way(text: str) -> None:
    try:
        expected = _reference_base64url(text)
    except ValueError:
        with pytest.raises(JoseError):
            b64url_decode(text)
        return
    assert b64url_decode(text) == expected


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a":1,"a":1}',
        b'{"a":"x:y","b":{"a":2,"a":3}}',
        b'{"a":":","a":1}',
        b'{"a":NaN}',
        b'{"a":"\\udc00"}',
        b"\xff",
        b"\xef\xbb\xbf{}",
        b"[" * 100 + b"]" * 100,
    ],
)
def test_json_that_reads_more_than_one_way_is_refused(raw: bytes) -> None:
    with pytest.raises(JoseError):
        strict_json(raw)


def _reference_reader(raw: bytes) -> Any:
    """The strict rules read the slow, obvious way: what ``strict_json`` must agree with."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        if len(dict(pairs)) != len(pairs):
            raise ValueError("duplicate")
        return dict(pairs)

    def no_constant(name: str) -> Any:
        raise ValueError(name)

    value = json.loads(raw.decode("utf-8"), object_pairs_hook=no_duplicates, parse_constant=no_constant)
    json.dumps(value, ensure_ascii=False).encode("utf-8")  # no lone surrogate
    return value


# Names and strings that collide, hold colons (also escaped) or escapes, or lone surrogates.
_JSON_STRING = st.sampled_from(['"a"', '"b"', '"a:b"', '":"', '"\\u003a"', '"\\u0061"', '"é"', '"\\ud800"', '"x\\"y"'])
_JSON_TEXT = st.recursive(
    st.one_of(_JSON_STRING, st.integers().map(str), st.sampled_from(["1e400", "NaN", "-0", "2.5", "true", "null"])),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda items: "[" + ",".join(items) + "]"),
        st.lists(st.tuples(_JSON_STRING, inner), max_size=4).map(
            lambda members: "{" + ",".join(f"{name}:{value}" for name, value in members) + "}"
        ),
    ),
    max_leaves=10,
)


@given(_JSON_TEXT, st.sampled_from(["", " ", "\n"]))
def test_the_strict_reader_agrees_with_the_rules_read_the_slow_way(text: str, space: str) -> None:
    """Its fast path (no escapes, duplicates ruled out by counting colons) changes no verdict."""
    raw = (space + text + space).encode("utf-8")
    try:
        expected = _reference_reader(raw)
    except (ValueError, RecursionError):
        with pytest.raises(JoseError):
            strict_json(raw)
        return
    assert strict_json(raw) == expected


def test_escaped_surrogate_pairs_are_json_like_any_character() -> None:
    assert strict_json(b'{"a":"\\ud83d\\ude00"}') == {"a": "\U0001f600"}


def test_a_private_or_foreign_key_is_no_verification_key() -> None:
    jwk = public_jwk(_PUBLIC)
    assert ec_public_key(jwk).public_numbers() == _PUBLIC.public_numbers()
    for bad in (
        {**jwk, "d": jwk["x"]},
        {**jwk, "crv": "P-384"},
        {**jwk, "x": jwk["x"] + "="},
        {**jwk, "x": jwk["x"][:-2]},
        {**jwk, "y": 5},
    ):
        with pytest.raises(JoseError):
            ec_public_key(bad)


# --- the same flaws through the API's bearer tokens ---------------------------------------


async def _token_parts(app: Litestar) -> tuple[dict[str, Any], dict[str, Any], Any]:
    key = await app.state.services.keys.active_key("access-token")
    now = int(time.time())
    claims = {
        "iss": "http://testserver", "aud": "citizen-wallet-api", "sub": "acc-1", "knd": "citizen",
        "iat": now, "exp": now + 600, "jti": "j-strict", "lvl": 2, "dev": "d1",
    }  # fmt: skip
    return {"alg": "ES256", "kid": key.kid, "typ": "at+jwt"}, claims, key.sign_es256


async def _me(client: httpx.AsyncClient, token: str) -> int:
    # As bytes: a flawed token may hold characters no header of a real client could (the app
    # must still refuse them, never fail).
    return (await client.get("/_probe/me", headers={b"authorization": f"Bearer {token}".encode()})).status_code


async def test_an_access_token_built_like_the_flawed_ones_but_without_a_flaw_is_accepted(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    header, claims, sign = await _token_parts(app)
    assert await _me(client, genuine(header, claims, sign)) == 200


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
async def test_every_flawed_access_token_is_refused_through_http(
    client: httpx.AsyncClient, app: Litestar, data: st.DataObject
) -> None:
    header, claims, sign = await _token_parts(app)
    token = data.draw(flawed_jws(header, claims, sign))
    assert await _me(client, token) == 401
