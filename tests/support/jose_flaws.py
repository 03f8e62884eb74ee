"""Malformed compact JWS for the strictness tests of every place that reads one.

Each token carries one flaw and is otherwise right: it is signed again over its own signing
input with the genuine key, so only the rule under test can refuse it (wallet_api/keys/jose.py
says which rules there are). ``genuine`` builds the same token without a flaw, so a test can
show that its builder makes tokens the place accepts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from hypothesis import strategies as st

from tests.support.signing import b64url as _b64

__all__ = ["FLAWS", "Sign", "flawed_jws", "flawed_signature", "genuine"]

#: Signs bytes with the genuine key, returning the JOSE form ``r || s``.
Sign = Callable[[bytes], bytes]

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

FLAWS = (
    "padding",
    "non-canonical-base64url",
    "foreign-character",
    "algorithm",
    "crit",
    "header-member-type",
    "signature-length",
    "der-signature",
    "not-an-object",
    "duplicate-member",
    "not-strict-json",
    "segments",
)


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _signed(head: str, body: str, sign: Sign) -> str:
    return f"{head}.{body}.{_b64(sign(f'{head}.{body}'.encode()))}"


def genuine(header: dict[str, Any], payload: dict[str, Any], sign: Sign) -> str:
    return _signed(_b64(_json(header)), _b64(_json(payload)), sign)


def _der(raw: bytes) -> bytes:
    return encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))


@st.composite
def flawed_jws(
    draw: st.DrawFn, header: dict[str, Any], payload: dict[str, Any], sign: Sign, *, device: bool = False
) -> str:
    """One token with one of :data:`FLAWS` (a DER signature is a flaw unless ``device``)."""
    flaws = [f for f in FLAWS if not (device and f == "der-signature")]
    flaw = draw(st.sampled_from(flaws))
    head, body = _json(header), _json(payload)
    in_header = draw(st.booleans())
    if flaw == "padding":
        pad = draw(st.sampled_from(["=", "==", "==="]))
        h, b = _b64(head), _b64(body)
        return _signed(h + pad, b, sign) if in_header else _signed(h, b + pad, sign)
    if flaw == "non-canonical-base64url":
        # JSON may end in spaces: enough of them leave unused bits in the last character.
        raw = head if in_header else body
        while len(raw) % 3 == 0:
            raw += b" "
        text = _b64(raw)
        text = text[:-1] + _ALPHABET[_ALPHABET.index(text[-1]) | 1]
        return _signed(text, _b64(body), sign) if in_header else _signed(_b64(head), text, sign)
    if flaw == "foreign-character":
        h, b = _b64(head), _b64(body)
        text = h if in_header else b
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(["+", "/", " ", "\n", "\t", "%", "é", "\x00"])) + text[at:]
        return _signed(text, b, sign) if in_header else _signed(h, text, sign)
    if flaw == "algorithm":
        alg = draw(st.sampled_from(["none", "HS256", "ES384", "ES512", "RS256", "PS256", "es256", "ES256 ", ""]))
        forged = {**header, "alg": alg}
        if alg == "none":
            return f"{_b64(_json(forged))}.{_b64(body)}."
        return genuine(forged, payload, sign)
    if flaw == "crit":
        crit = draw(st.sampled_from([["exp"], ["b64"], [], "exp", ["kid"]]))
        extra: dict[str, Any] = {"crit": crit, "b64": False} if crit == ["b64"] else {"crit": crit}
        return genuine({**header, **extra}, payload, sign)
    if flaw == "header-member-type":
        name = draw(st.sampled_from(["kid", "typ", "alg"]))
        value = draw(st.sampled_from([7, None, True, [header.get(name, "x")], {"v": header.get(name, "x")}]))
        return genuine({**header, name: value}, payload, sign)
    if flaw == "signature-length":
        h, b = _b64(head), _b64(body)
        raw = sign(f"{h}.{b}".encode())
        wrong = draw(st.sampled_from([raw[:-1], raw + b"\x00", b"", raw[:32], raw + raw, b"\x00" + raw]))
        return f"{h}.{b}.{_b64(wrong)}"
    if flaw == "der-signature":
        h, b = _b64(head), _b64(body)
        return f"{h}.{b}.{_b64(_der(sign(f'{h}.{b}'.encode())))}"
    if flaw == "not-an-object":
        value = draw(
            st.sampled_from([b"[]", b'"ES256"', b"1", b"null", b"true", b"[" + (head if in_header else body) + b"]"])
        )
        return _signed(_b64(value), _b64(body), sign) if in_header else _signed(_b64(head), _b64(value), sign)
    if flaw == "duplicate-member":
        source = header if in_header else payload
        name, value = next(iter(source.items()))
        again = draw(st.sampled_from([value, "another"]))
        raw = b"{" + _json(name) + b":" + _json(again) + b"," + (head if in_header else body)[1:]
        return _signed(_b64(raw), _b64(body), sign) if in_header else _signed(_b64(head), _b64(raw), sign)
    if flaw == "not-strict-json":
        raw = head if in_header else body
        odd = draw(
            st.sampled_from(
                [
                    raw[:-1] + b',"x":NaN}',
                    raw[:-1] + b',"x":-Infinity}',
                    b"\xef\xbb\xbf" + raw,
                    raw[:-1] + b',"x":"\xe9"}',
                    raw[:-1] + b',"x":"\\ud800"}',
                    raw + b"x",
                    raw[:-1],
                    raw.decode().encode("utf-16"),
                ]
            )
        )
        return _signed(_b64(odd), _b64(body), sign) if in_header else _signed(_b64(head), _b64(odd), sign)
    assert flaw == "segments"
    token = genuine(header, payload, sign)
    return draw(st.sampled_from([token.rsplit(".", 1)[0], token + "." + _b64(b"{}"), token + ".", "." + token]))


@st.composite
def flawed_signature(draw: st.DrawFn, raw: bytes) -> str:
    """The base64url text of a signature (JOSE form ``raw``) with one flaw of form or length."""
    text = _b64(raw)
    flaw = draw(st.sampled_from(["padding", "non-canonical", "foreign-character", "length", "not-strict-der"]))
    if flaw == "padding":
        return text + draw(st.sampled_from(["=", "==", "==="]))
    if flaw == "non-canonical":  # 64 bytes leave 4 unused bits in the last character
        return text[:-1] + _ALPHABET[_ALPHABET.index(text[-1]) | draw(st.sampled_from([1, 2, 4, 8]))]
    if flaw == "foreign-character":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.sampled_from(["+", "/", " ", "\n", "%", "é", "."])) + text[at:]
    if flaw == "length":
        return _b64(draw(st.sampled_from([raw[:-1], raw + b"\x00", b"", raw[:32], raw + raw, b"\x00" + raw])))
    der = _der(raw)
    # BER and padded forms of the same pair: a trailing byte, a long-form length, a sign byte too many.
    long_form = b"\x30\x81" + bytes([der[1]]) + der[2:]
    return _b64(
        draw(st.sampled_from([der + b"\x00", long_form, der[:-1], b"\x30" + bytes([der[1] + 1]) + der[2:] + b"\x00"]))
    )
