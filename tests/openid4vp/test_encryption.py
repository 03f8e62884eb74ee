"""direct_post.jwt responses are read strictly: what jwcrypto (independent) encrypts to a request's
key decrypts, and nothing else does — another key, algorithm, compression, or any changed character."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jwcrypto import jwe, jwk

from openid4vp.request_object import new_encryption_key, private_encryption_key
from wallet_api.keys.jose import JoseError, decrypt_ecdh_es
from wallet_api.keys.provider import public_jwk

_SCALAR, _KID = new_encryption_key()
_KEY = private_encryption_key(_SCALAR)
_PUBLIC = {**public_jwk(_KEY.public_key()), "kid": _KID, "use": "enc", "alg": "ECDH-ES"}
_PAYLOAD = {"vp_token": {"licence": ["eyJ…~"]}, "state": "s-1"}


def _encrypt(header: dict[str, Any], key: dict[str, Any] = _PUBLIC, payload: Any = _PAYLOAD) -> str:
    token = jwe.JWE(json.dumps(payload).encode(), protected=json.dumps(header))
    token.add_recipient(jwk.JWK(**key))
    return str(token.serialize(compact=True))


@pytest.mark.parametrize("enc", ["A128GCM", "A256GCM"])
def test_a_response_encrypted_to_the_request_key_decrypts(enc: str) -> None:
    token = _encrypt({"alg": "ECDH-ES", "enc": enc, "kid": _KID, "apu": "d2FsbGV0", "apv": "bm9uY2U"})
    assert decrypt_ecdh_es(token, _KEY, kid=_KID, encs=("A128GCM", "A256GCM")) == _PAYLOAD


def test_another_key_algorithm_or_header_is_refused() -> None:
    other_scalar, other_kid = new_encryption_key()
    other = {**public_jwk(private_encryption_key(other_scalar).public_key()), "kid": other_kid}
    refused = [
        _encrypt({"alg": "ECDH-ES", "enc": "A128GCM", "kid": _KID}, key=other),  # encrypted to another key
        _encrypt({"alg": "ECDH-ES", "enc": "A128GCM", "kid": "another"}),
        _encrypt({"alg": "ECDH-ES+A128KW", "enc": "A128GCM", "kid": _KID}),
        _encrypt({"alg": "ECDH-ES", "enc": "A128CBC-HS256", "kid": _KID}),
        _encrypt({"alg": "ECDH-ES", "enc": "A128GCM", "kid": _KID, "zip": "DEF"}),
        _encrypt({"alg": "ECDH-ES", "enc": "A128GCM", "kid": _KID}, payload=["not", "an", "object"]),
        "a.b.c",
        "",
    ]
    for token in refused:
        with pytest.raises(JoseError):
            decrypt_ecdh_es(token, _KEY, kid=_KID, encs=("A128GCM", "A256GCM"))


_TOKEN = _encrypt({"alg": "ECDH-ES", "enc": "A128GCM", "kid": _KID})


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, len(_TOKEN) - 1),
    st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."),
)
def test_any_changed_character_is_refused(position: int, replacement: str) -> None:
    if _TOKEN[position] == replacement:
        return
    changed = _TOKEN[:position] + replacement + _TOKEN[position + 1 :]
    with pytest.raises(JoseError):
        decrypt_ecdh_es(changed, _KEY, kid=_KID, encs=("A128GCM",))
