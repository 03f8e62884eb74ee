"""Minting a driving licence mdoc: IssuerSigned = the items and the signed Mobile Security Object.

::

    IssuerSigned = {"nameSpaces": {ns: [#6.24(bstr .cbor IssuerSignedItem), ...]},
                    "issuerAuth": COSE_Sign1(MobileSecurityObjectBytes)}
    IssuerSignedItem = {"digestID": uint, "random": bstr(32), "elementIdentifier": tstr, "elementValue": any}
    MobileSecurityObject = {"version": "1.0", "digestAlgorithm": "SHA-256",
                            "valueDigests": {ns: {digestID: SHA-256(#6.24 item)}},
                            "deviceKeyInfo": {"deviceKey": COSE_Key}, "docType": "org.iso.18013.5.1.mDL",
                            "validityInfo": {"signed", "validFrom", "validUntil": tdate},
                            "status": {"status_list": {"idx": uint, "uri": tstr}}}

Digest IDs are random and unique per namespace, items are shuffled, and each namespace's
digests are padded with random decoys to a multiple of :data:`DIGEST_BLOCK`, so neither
the IDs, the order nor the count of digests says which optional elements a licence has
(as the SD-JWT VC pads its ``_sd``). ``status`` is the Token Status List's binding for ISO
mdoc: the ``Status`` CBOR structure as a member of the MSO.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from typing import Any

import cbor2

from documents.mdoc.cbor import cose_key_of_jwk, embedded, tdate
from documents.mdoc.cose import X5CHAIN, sign1
from documents.mdoc.elements import MDL_DOCTYPE, licence_elements
from documents.mdoc.store import MAX_MDOC_LIFETIME, DocumentSigner

__all__ = ["DIGEST_BLOCK", "RANDOM_BYTES", "mint_mdoc"]

#: Salt of each item (ISO 18013-5 asks for at least 16 bytes).
RANDOM_BYTES = 32
DIGEST_BLOCK = 8
_rng = secrets.SystemRandom()


def item_digest(tagged: cbor2.CBORTag) -> bytes:
    """SHA-256 of an item as it travels: ``#6.24(bstr)`` encoded."""
    return hashlib.sha256(cbor2.dumps(tagged)).digest()


def _namespace(elements: Mapping[str, Any]) -> tuple[list[cbor2.CBORTag], dict[int, bytes]]:
    count = -(-len(elements) // DIGEST_BLOCK) * DIGEST_BLOCK
    ids = _rng.sample(range(2**31), count)
    items: list[cbor2.CBORTag] = []
    digests: dict[int, bytes] = {}
    for digest_id, (name, value) in zip(ids, elements.items(), strict=False):
        tagged = embedded(
            {
                "digestID": digest_id,
                "random": secrets.token_bytes(RANDOM_BYTES),
                "elementIdentifier": name,
                "elementValue": value,
            }
        )
        items.append(tagged)
        digests[digest_id] = item_digest(tagged)
    for decoy in ids[len(elements) :]:
        digests[decoy] = secrets.token_bytes(32)
    _rng.shuffle(items)
    return items, dict(sorted(digests.items()))


def mint_mdoc(
    signer: DocumentSigner,
    *,
    claims: Mapping[str, Any],
    holder_jwk: Mapping[str, Any],
    status_uri: str,
    status_idx: int,
    valid_until: dt.datetime | None,
    valid_from: dt.datetime | None = None,
    signed_at: dt.datetime | None = None,
) -> bytes:
    """The IssuerSigned CBOR of a driving licence for one holder key.

    ``claims`` are the document's (``age_over_18`` added by the caller once true);
    ``holder_jwk`` the holder's P-256 public JWK. The MSO is valid from ``valid_from`` (not
    before it is signed) until ``valid_until``, cut to :data:`MAX_MDOC_LIFETIME` and to the
    Document Signer certificate. ``ValueError`` when nothing of that window is left, or the
    holder key is not a P-256 public key.
    """
    signed = (signed_at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    start = max(signed, valid_from or signed)
    end = min(signed + MAX_MDOC_LIFETIME, signer.not_after, *([valid_until] if valid_until is not None else []))
    if end <= start:
        raise ValueError("the licence's validity ends before the mdoc would start")
    name_spaces: dict[str, list[cbor2.CBORTag]] = {}
    value_digests: dict[str, dict[int, bytes]] = {}
    for namespace, elements in licence_elements(claims).items():
        name_spaces[namespace], value_digests[namespace] = _namespace(elements)
    mso = {
        "version": "1.0",
        "digestAlgorithm": "SHA-256",
        "valueDigests": value_digests,
        "deviceKeyInfo": {"deviceKey": cose_key_of_jwk(holder_jwk)},
        "docType": MDL_DOCTYPE,
        "validityInfo": {"signed": tdate(signed), "validFrom": tdate(start), "validUntil": tdate(end)},
        "status": {"status_list": {"idx": status_idx, "uri": status_uri}},
    }
    issuer_auth = sign1(signer.key, cbor2.dumps(embedded(mso)), unprotected={X5CHAIN: signer.certificate})
    return cbor2.dumps({"nameSpaces": name_spaces, "issuerAuth": issuer_auth})
