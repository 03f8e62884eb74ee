"""The one JOSE module: base64url, ES256 signatures and compact JWS, strict everywhere.

Access tokens, device keys and device proofs, SD-JWT credentials and their key-binding
proofs, and status lists are all read here, so one place decides what is refused:

* base64url that is not the canonical encoding of its bytes: padding, unused trailing
  bits set, characters outside ``A-Z a-z 0-9 - _``. Changing any character of a signed
  object then changes what is verified;
* a header whose ``alg`` is not the one expected (never ``none``), or that names a
  ``crit`` extension (we understand none), or whose ``kid``/``typ`` is not a string;
* a header or payload that is not a JSON object, or is JSON read more than one way:
  duplicate member names, ``NaN``/``Infinity``, lone surrogates, text that is not UTF-8,
  nesting deeper than the request bodies may nest;
* a signature of the wrong length: ES256 in JOSE is raw ``r || s``, 64 bytes, with ``r``
  and ``s`` in ``[1, n-1]``. Phones sign in DER (Android's ``SHA256withECDSA``, iOS's
  ``SecKeyCreateSignature``), so a *device* signature may also be the one strict DER
  encoding of the same pair; our issuers' signatures never.

Decoding only parses and checks form; :func:`es256_verify` checks a signature.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import re
from collections.abc import Collection, Mapping
from typing import Any, NamedTuple, Protocol

import msgspec
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash

from wallet_api.jsonbody import JsonTooDeep, check_depth

__all__ = [
    "CompactJws",
    "Es256Signer",
    "JoseError",
    "b64url_decode",
    "b64url_encode",
    "decode_compact",
    "decrypt_ecdh_es",
    "device_signature_der",
    "ec_key_set",
    "ec_public_key",
    "embedded_key",
    "es256_verify",
    "json_bytes",
    "parse_json_object",
    "raw_signature",
    "sign_compact",
    "sign_compact_with",
    "strict_json",
]


class JoseError(ValueError):
    """A JOSE object is malformed, uses what we do not accept, or its signature does not verify."""


# --- base64url ---------------------------------------------------------------------------


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


#: The value of each base64url character, for the check of the last one's unused bits.
_B64URL_VALUE = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")}
#: Bits of the last character that carry no data, by ``len(text) % 4``: they must be zero.
_UNUSED_BITS = {0: 0, 2: 0x0F, 3: 0x03}


#: base64url's two own characters, as the standard alphabet writes them.
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


def b64url_decode(text: str) -> bytes:
    """The bytes of canonical unpadded base64url ``text``; anything else raises :class:`JoseError`.

    Only ``A-Z a-z 0-9 - _``: ``+``, ``/`` and ``=`` (standard base64, padding) are refused
    here, every other character by the strict mode of the decoder (one pass in C, where a
    regular expression and the ``base64`` module's wrappers took longer than the decoding).
    """
    if not isinstance(text, str) or len(text) % 4 == 1:
        raise JoseError("not base64url")
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        raise JoseError("not base64url") from None
    if b"+" in raw or b"/" in raw or b"=" in raw:
        raise JoseError("not base64url")
    try:
        data = binascii.a2b_base64(raw.translate(_TO_STANDARD) + b"=" * (-len(raw) % 4), strict_mode=True)
    except binascii.Error:
        raise JoseError("not base64url") from None
    if raw and _B64URL_VALUE[text[-1]] & _UNUSED_BITS[len(raw) % 4]:
        # Unused trailing bits set: another text for the same bytes.
        raise JoseError("not canonical base64url")
    return data


# --- JSON --------------------------------------------------------------------------------

#: An escaped UTF-16 surrogate: only then can the parsed text hold a lone one.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise JoseError("duplicate member name")
    return found


def _no_constant(name: str) -> Any:
    raise JoseError(f"{name} is not JSON")


def strict_json(raw: bytes) -> Any:
    """JSON that reads only one way: UTF-8, no duplicate names, no NaN, no lone surrogates."""
    try:
        check_depth(raw)
        if b"\\" not in raw:
            value = _plain_json(raw)
            if value is not _UNPROVEN:
                return value
        text = raw.decode("utf-8")
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
        if _SURROGATE_ESCAPE.search(raw):
            json.dumps(value, ensure_ascii=False).encode("utf-8")  # a lone surrogate does not encode
    except (UnicodeError, ValueError, JsonTooDeep, RecursionError) as exc:
        raise JoseError("not strict JSON") from exc
    return value


_UNPROVEN = object()


def _plain_json(raw: bytes) -> Any:
    """The value of ``raw`` if it is cheaply proven strict, else ``_UNPROVEN`` (the full check decides).

    Without a backslash ``raw`` has no escapes, so no lone surrogate, and each string it
    holds is read as written. msgspec's reader is stricter than ``json.loads`` (it refuses
    ``NaN``, invalid UTF-8, control characters and what it cannot represent; the full
    check then decides) and reads the same values, but keeps the last of duplicate names.
    Duplicates are ruled out by counting colons: outside strings a colon separates each
    member's name from its value, so ``raw`` holds one per member plus those inside its
    strings, and re-encoding the value gives the same count only if no member was dropped
    (a dropped member takes its colon, and the colons of its strings, with it).
    """
    try:
        value = msgspec.json.decode(raw)
    except (msgspec.DecodeError, ValueError):
        return _UNPROVEN
    return value if msgspec.json.encode(value).count(b":") == raw.count(b":") else _UNPROVEN


def parse_json_object(raw: bytes) -> dict[str, Any]:
    value = strict_json(raw)
    if not isinstance(value, dict):
        raise JoseError("not a JSON object")
    return value


def json_bytes(value: Any) -> bytes:
    """Compact UTF-8 JSON, member order kept (what we sign)."""
    return msgspec.json.encode(value)


# --- ES256 -------------------------------------------------------------------------------

#: The order of the P-256 group.
_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
# ECDSA over a SHA-256 digest made with hashlib: the same check as ``ECDSA(SHA256())`` on
# the message, without OpenSSL fetching a digest implementation per call (a third of a
# verification's cost with the bundled OpenSSL).
_ES256_PREHASHED = ec.ECDSA(Prehashed(hashes.SHA256()))


def raw_signature(der: bytes) -> bytes:
    """The JOSE form (``r || s``, 64 bytes) of a DER ECDSA P-256 signature."""
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _der_of_raw(signature: bytes) -> bytes | None:
    if len(signature) != 64:
        return None
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    return encode_dss_signature(r, s) if 0 < r < _N and 0 < s < _N else None


def device_signature_der(signature: bytes) -> bytes | None:
    """The DER form of a device's ES256 signature given raw or in strict DER; None if neither."""
    if len(signature) == 64:
        return _der_of_raw(signature)
    if not (8 <= len(signature) <= 72 and signature[0] == 0x30):
        return None
    try:
        r, s = decode_dss_signature(signature)
    except ValueError:
        return None
    if encode_dss_signature(r, s) != signature:
        return None  # BER, padding or trailing bytes: not the one DER encoding
    return signature if 0 < r < _N and 0 < s < _N else None


def es256_verify(key: ec.EllipticCurvePublicKey, signature: bytes, data: bytes, *, device: bool = False) -> bool:
    """Check an ES256 signature: raw ``r || s`` (64 bytes); a ``device`` one may also be DER."""
    der = device_signature_der(signature) if device else _der_of_raw(signature)
    if der is None:
        return False
    try:
        key.verify(der, hashlib.sha256(data).digest(), _ES256_PREHASHED)
    except InvalidSignature:
        return False
    return True


@functools.lru_cache(maxsize=65536)
def _p256_key(x: str, y: str) -> ec.EllipticCurvePublicKey:
    # Public keys never change, so parsed ones may be cached by their coordinates (device
    # keys are checked on every sign-in).
    xb, yb = b64url_decode(x), b64url_decode(y)
    if len(xb) != 32 or len(yb) != 32:
        raise JoseError("P-256 coordinates are 32 bytes")
    try:
        return ec.EllipticCurvePublicNumbers(
            int.from_bytes(xb, "big"), int.from_bytes(yb, "big"), ec.SECP256R1()
        ).public_key()
    except ValueError as exc:
        raise JoseError("the point is not on P-256") from exc


def ec_public_key(jwk: Mapping[str, Any]) -> ec.EllipticCurvePublicKey:
    """A P-256 public key from its JWK; anything else (a private key too) is refused."""
    if not isinstance(jwk, Mapping) or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise JoseError("not a P-256 key")
    if "d" in jwk:
        raise JoseError("a private key where a public one belongs")
    x, y = jwk.get("x"), jwk.get("y")
    if not isinstance(x, str) or not isinstance(y, str):
        raise JoseError("x and y must be base64url")
    return _p256_key(x, y)


def ec_key_set(raw: bytes) -> dict[str, ec.EllipticCurvePublicKey]:
    """The P-256 public keys of a JWKS (``{"keys": [...]}``) by ``kid``; a key without a ``kid``,
    a ``kid`` twice, another key type or a private key is refused."""
    jwks = parse_json_object(raw)
    keys = jwks.get("keys")
    if not isinstance(keys, list):
        raise JoseError("a JWKS has a list of keys")
    found: dict[str, ec.EllipticCurvePublicKey] = {}
    for jwk in keys:
        kid = jwk.get("kid") if isinstance(jwk, dict) else None
        if not isinstance(kid, str) or not kid or kid in found:
            raise JoseError("every key of the set needs a kid of its own")
        found[kid] = ec_public_key(jwk)
    return found


# --- compact JWS -------------------------------------------------------------------------


class Es256Signer(Protocol):
    """A key that signs ES256 in the JOSE form (``wallet_api.keys.SigningKey``)."""

    @property
    def kid(self) -> str: ...

    def sign_es256(self, data: bytes) -> bytes: ...


class CompactJws(NamedTuple):
    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes


@functools.lru_cache(maxsize=256)
def _header_segment(kid: str, typ: str) -> str:
    # The header of what we sign depends only on the key and the type: encoded once.
    return b64url_encode(json_bytes({"alg": "ES256", "kid": kid, "typ": typ}))


def sign_compact(key: Es256Signer, payload: Mapping[str, Any], *, typ: str) -> str:
    """An ES256 compact JWS of ``payload``, its header naming the key and the type."""
    signing_input = f"{_header_segment(key.kid, typ)}.{b64url_encode(json_bytes(payload))}"
    return f"{signing_input}.{b64url_encode(key.sign_es256(signing_input.encode('ascii')))}"


def sign_compact_with(key: Es256Signer, payload: Mapping[str, Any], header: Mapping[str, Any]) -> str:
    """An ES256 compact JWS whose header also carries ``header``'s members (``typ``, ``x5c``, ...)."""
    segment = b64url_encode(json_bytes({**header, "alg": "ES256", "kid": key.kid}))
    signing_input = f"{segment}.{b64url_encode(json_bytes(payload))}"
    return f"{signing_input}.{b64url_encode(key.sign_es256(signing_input.encode('ascii')))}"


def decode_compact(token: str, *, algorithms: Collection[str] = ("ES256",), typ: str | None = None) -> CompactJws:
    """Parse and check the form of a compact JWS; its signature is not checked here."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise JoseError("not a compact JWS")
    head, body, sig = token.split(".")
    header = parse_json_object(b64url_decode(head))
    payload = parse_json_object(b64url_decode(body))
    if header.get("alg") not in algorithms:
        raise JoseError("unsupported algorithm")
    if "crit" in header:
        raise JoseError("unsupported critical header parameter")
    for name in ("kid", "typ"):
        if name in header and not isinstance(header[name], str):
            raise JoseError(f"{name} must be a string")
    if typ is not None and header.get("typ") != typ:
        raise JoseError(f"not a {typ}")
    return CompactJws(header, payload, f"{head}.{body}".encode("ascii"), b64url_decode(sig))


# --- compact JWE, ECDH-ES (direct key agreement) on P-256 ----------------------------------

#: Content encryption algorithms we decrypt, and their key lengths in bytes.
_GCM_KEY_BYTES = {"A128GCM": 16, "A256GCM": 32}


def _length_prefixed(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def decrypt_ecdh_es(
    token: str, key: ec.EllipticCurvePrivateKey, *, kid: str, encs: Collection[str] = ("A128GCM",)
) -> dict[str, Any]:
    """The JSON object a compact JWE (RFC 7516) encrypted to ``key`` holds, strictly read.

    Only ``alg: ECDH-ES`` (direct key agreement, RFC 7518 section 4.6) with an ephemeral
    P-256 ``epk``, AES-GCM content encryption from ``encs``, the ``kid`` of our key, no
    compression and no ``crit``; anything else raises :class:`JoseError`, as does a wrong
    tag (the whole protected header is authenticated as the AAD).
    """
    if not isinstance(token, str) or token.count(".") != 4:
        raise JoseError("not a compact JWE")
    head, encrypted_key, iv_text, ciphertext_text, tag_text = token.split(".")
    header = parse_json_object(b64url_decode(head))
    enc = header.get("enc")
    if header.get("alg") != "ECDH-ES" or enc not in encs or not isinstance(enc, str):
        raise JoseError("unsupported JWE algorithm")
    if "crit" in header or "zip" in header or header.get("kid") != kid or encrypted_key:
        raise JoseError("unsupported JWE header")
    epk = header.get("epk")
    peer = ec_public_key(epk if isinstance(epk, Mapping) else {})
    iv, ciphertext, tag = b64url_decode(iv_text), b64url_decode(ciphertext_text), b64url_decode(tag_text)
    if len(iv) != 12 or len(tag) != 16:
        raise JoseError("AES-GCM takes a 96-bit IV and a 128-bit tag")
    party_u, party_v = (header.get(name, "") for name in ("apu", "apv"))
    if not isinstance(party_u, str) or not isinstance(party_v, str):
        raise JoseError("apu and apv must be base64url")
    size = _GCM_KEY_BYTES[enc]
    other_info = (
        _length_prefixed(enc.encode("ascii"))
        + _length_prefixed(b64url_decode(party_u))
        + _length_prefixed(b64url_decode(party_v))
        + (size * 8).to_bytes(4, "big")
    )
    try:
        shared = key.exchange(ec.ECDH(), peer)
        cek = ConcatKDFHash(hashes.SHA256(), size, other_info).derive(shared)
        plaintext = AESGCM(cek).decrypt(iv, ciphertext + tag, head.encode("ascii"))
    except (InvalidTag, ValueError) as exc:
        raise JoseError("the JWE does not decrypt") from exc
    return parse_json_object(plaintext)


def embedded_key(header: Mapping[str, Any]) -> tuple[dict[str, str], ec.EllipticCurvePublicKey]:
    """The public key a self-signed JWS carries in its ``jwk`` header (DPoP and key proofs).

    Only a bare P-256 public key: naming the key another way beside it (``kid``, ``x5c``,
    ``jku``, ``x5u``) is refused rather than one of the two chosen, and a private key is
    refused. Returns the key's ``kty``/``crv``/``x``/``y`` members and the parsed key.
    """
    if any(name in header for name in ("kid", "x5c", "jku", "x5u")):
        raise JoseError("the key must be given by the jwk header alone")
    jwk = header.get("jwk")
    if not isinstance(jwk, dict):
        raise JoseError("no jwk header")
    key = ec_public_key(jwk)
    return {name: jwk[name] for name in ("kty", "crv", "x", "y")}, key
