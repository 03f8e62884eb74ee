"""Passive authentication (ICAO Doc 9303 part 11, 5.1): the chip's data are what the state signed.

1. The SOD is CMS SignedData over an LDSSecurityObject (the hash of each data group).
2. Its one SignerInfo verifies with the Document Signer certificate carried in the SOD:
   signed attributes present, their content type the LDS security object and their
   message digest the hash of the signed content.
3. The Document Signer chains to a CSCA of the trust list; both were valid on the signing
   date (the ``signingTime`` attribute, or now without one); the CSCA's CRL does not list it.
4. Every data group sent hashes to the value in the SOD, and every one we use is there.

Hashes and signatures: SHA-224/256/384/512; RSA PKCS#1 v1.5, RSA-PSS and ECDSA. SHA-1 is
refused.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from proofing.chip.asn1 import LDS_SECURITY_OBJECT_OID, SOD, LDSSecurityObject
from proofing.chip.parts import decoding, load_part
from proofing.chip.refusals import ChipRefused
from proofing.chip.trust import SignerCertificate, TrustList

__all__ = ["HASHES", "SignedChip", "passive_authentication"]

HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


@dataclass(frozen=True, slots=True)
class SignedChip:
    #: Data group number -> the hash the Document Signer signed.
    hashes: dict[int, bytes]
    signer: x509.Certificate
    csca: x509.Certificate
    signed_at: datetime


def _hash(name: str) -> hashes.HashAlgorithm:
    algorithm = HASHES.get(name)
    if algorithm is None:
        raise ChipRefused("chip-algorithm-unsupported", f"The SOD uses the hash {name}.")
    return algorithm()


def _digest(name: str, data: bytes) -> bytes:
    _hash(name)  # refuses what we do not accept
    return hashlib.new(name, data).digest()


def _bad_signature(detail: str = "The SOD's signature does not verify with its Document Signer.") -> ChipRefused:
    return ChipRefused("sod-signature-invalid", detail)


def _malformed(detail: str) -> ChipRefused:
    return ChipRefused("chip-data-malformed", detail, part="sod")


def _signer_certificate(signed_data: Any, signer_info: Any, trust: TrustList) -> SignerCertificate:
    sid = signer_info["sid"]
    if sid.name != "issuer_and_serial_number":
        raise _malformed("The SOD names its signer by key identifier; ICAO requires issuer and serial number.")
    issuer, serial = sid.chosen["issuer"].dump(), sid.chosen["serial_number"].native
    for choice in signed_data["certificates"] or ():
        if choice.name != "certificate":
            continue
        signer = trust.signer_certificate(choice.chosen.dump())
        if signer is not None and signer.issuer_der == issuer and signer.cert.serial_number == serial:
            return signer
    raise _malformed("The SOD does not carry its Document Signer certificate.")


def _verify_signer_info(signer: SignerCertificate, signer_info: Any, signed: bytes) -> None:
    algorithm = signer_info["signature_algorithm"]
    try:
        kind = algorithm.signature_algo
    except ValueError:
        raise ChipRefused("chip-algorithm-unsupported", "The SOD uses an unknown signature algorithm.") from None
    digest_name = signer_info["digest_algorithm"]["algorithm"].native
    digest = _hash(digest_name)
    # A combined name (sha256_ecdsa, ...) names a hash too: it must be the signer's one.
    combined = kind != "rsassa_pss" and algorithm["algorithm"].native not in ("rsassa_pkcs1v15", "ecdsa")
    if combined and algorithm.hash_algo != digest_name:
        raise _bad_signature("The SOD's signature algorithm and digest algorithm disagree.")
    signature = signer_info["signature"].native
    key = signer.public_key
    try:
        if kind == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, signed, padding.PKCS1v15(), digest)
        elif kind == "rsassa_pss" and isinstance(key, rsa.RSAPublicKey):
            params = algorithm["parameters"]
            pss_hash = _hash(params["hash_algorithm"]["algorithm"].native)
            mgf_hash = _hash(params["mask_gen_algorithm"]["parameters"]["algorithm"].native)
            key.verify(
                signature,
                signed,
                padding.PSS(mgf=padding.MGF1(mgf_hash), salt_length=params["salt_length"].native),
                pss_hash,
            )
        elif kind == "ecdsa" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, signed, ec.ECDSA(digest))
        else:
            raise ChipRefused("chip-algorithm-unsupported", f"The SOD is signed with {kind} by a key of another kind.")
    except InvalidSignature:
        raise _bad_signature() from None
    except (ValueError, TypeError):
        raise _bad_signature() from None


def _signed_attributes(signer_info: Any, content: bytes) -> tuple[bytes, datetime | None]:
    attrs = signer_info["signed_attrs"]
    if not attrs:
        raise _bad_signature("The SOD's signature has no signed attributes.")
    found: dict[str, Any] = {}
    for attr in attrs:
        name = attr["type"].native
        values = attr["values"]
        if name in found or len(values) != 1:
            raise _bad_signature("A signed attribute of the SOD is repeated.")
        found[name] = values[0].native
    if found.get("content_type") != LDS_SECURITY_OBJECT_OID:
        raise _bad_signature("The SOD's signed content type is not an LDS security object.")
    expected = _digest(signer_info["digest_algorithm"]["algorithm"].native, content)
    if not isinstance(found.get("message_digest"), bytes) or not hmac.compare_digest(found["message_digest"], expected):
        raise _bad_signature("The SOD's message digest does not match its content.")
    signed_at = found.get("signing_time")
    # The signature covers the attributes as a DER SET OF, not with their [0] tag.
    return attrs.untag().dump(), signed_at if isinstance(signed_at, datetime) else None


def _valid_on(cert: x509.Certificate, at: datetime) -> bool:
    return cert.not_valid_before_utc <= at <= cert.not_valid_after_utc


def passive_authentication(
    sod: bytes, groups: dict[int, bytes], trust: TrustList, *, now: datetime | None = None
) -> SignedChip:
    """Check the SOD and that every data group in ``groups`` is the one it signed."""
    # asn1crypto decodes the SOD lazily (decoding all of it up front costs more than the
    # signature checks); a fault found while reading it is a malformed SOD.
    with decoding("sod"):
        return _passive_authentication(sod, groups, trust, now)


def _passive_authentication(sod: bytes, groups: dict[int, bytes], trust: TrustList, now: datetime | None) -> SignedChip:
    info = load_part(SOD, "sod", sod, whole=False)
    if info["content_type"].native != "signed_data":
        raise _malformed("The SOD is not CMS SignedData.")
    signed_data = info["content"]
    encap = signed_data["encap_content_info"]
    if encap["content_type"].native != LDS_SECURITY_OBJECT_OID or encap["content"] is None:
        raise _malformed("The SOD does not sign an LDS security object.")
    content = encap["content"].native
    if not isinstance(content, bytes):
        raise _malformed("The SOD's signed content is not an octet string.")
    security_object = load_part(LDSSecurityObject, "sod", content)
    if len(signed_data["signer_infos"]) != 1:
        raise _malformed("The SOD must have exactly one signer.")
    signer_info = signed_data["signer_infos"][0]
    # Fields outside the signature are held to what ICAO prescribes, so that no byte of the
    # SOD can change without the check failing.
    digest_algorithm = signer_info["digest_algorithm"]
    if (
        signed_data["version"].native != "v3"
        or signer_info["version"].native != "v1"
        or [a.dump() for a in signed_data["digest_algorithms"]] != [digest_algorithm.dump()]
        or len(signed_data["certificates"] or ()) != 1
        or signed_data["crls"]
        or signer_info["unsigned_attrs"]
    ):
        raise _malformed("The SOD's SignedData is not as ICAO Doc 9303 prescribes.")
    signer = _signer_certificate(signed_data, signer_info, trust)
    signed_attrs, signed_at = _signed_attributes(signer_info, content)
    _verify_signer_info(signer, signer_info, signed_attrs)

    csca = trust.issuer_of(signer)
    if csca is None:
        raise ChipRefused("document-signer-untrusted", "No CSCA of the trust list issued this Document Signer.")
    at = signed_at or now or datetime.now(UTC)
    if not (_valid_on(signer.cert, at) and _valid_on(csca, at)):
        raise ChipRefused(
            "document-signer-expired", "The Document Signer or its CSCA was not valid on the signing date."
        )
    if trust.is_revoked(csca, signer.cert):
        raise ChipRefused("document-signer-revoked", "The CSCA has revoked this Document Signer.")

    algorithm = security_object["hash_algorithm"]["algorithm"].native
    signed_hashes: dict[int, bytes] = {}
    for item in security_object["hashes"]:
        number = item["number"].native
        if number in signed_hashes or not 1 <= number <= 16:
            raise _malformed("The SOD lists a data group twice or one that does not exist.")
        signed_hashes[number] = item["hash"].native
    for number, data in groups.items():
        if number not in signed_hashes:
            raise ChipRefused("chip-data-group-missing", f"DG{number} is not in the SOD.", data_group=number)
        if not hmac.compare_digest(_digest(algorithm, data), signed_hashes[number]):
            raise ChipRefused(
                "chip-data-group-hash-mismatch", f"DG{number} differs from what was signed.", data_group=number
            )
    return SignedChip(hashes=signed_hashes, signer=signer.cert, csca=csca, signed_at=at)
