"""mdoc presentations in OpenID4VP 1.0 (appendix B.2): the driving licence as an ISO 18013-5 mDL.

The wallet answers a ``mso_mdoc`` credential query with a base64url DeviceResponse whose
device signature covers the SessionTranscript OpenID4VP defines for redirect flows:
``[null, null, ["OpenID4VPHandover", sha-256(cbor([client_id, nonce, jwk_thumbprint,
response_uri]))]]``, where ``jwk_thumbprint`` is the RFC 7638 thumbprint (bytes) of the
request's encryption key for ``direct_post.jwt`` and null otherwise. The issuer signature,
the chain to an IACA root we publish, the digests, the validity and the device signature
are checked by documents/mdoc (``verify_device_response``).

Which elements a verifier may ask for, and which of the licence's fields each one shows
(for the holder's access log, which names our fields whatever the format), is
:data:`ELEMENTS`: the elements documents/mdoc/elements.py mints.
"""

from __future__ import annotations

import hashlib
from typing import Any

import cbor2

from documents.mdoc import MDL_DOCTYPE, MDL_NAMESPACE, VN_NAMESPACE
from wallet_api.kernel import b64url_decode

__all__ = ["ELEMENTS", "MDOC", "element_key", "session_transcript"]

MDOC = "mso_mdoc"

#: (namespace, element) → the licence field it shows (None: says nothing about the holder).
ELEMENTS: dict[tuple[str, str], str | None] = {
    (MDL_NAMESPACE, "family_name"): "full_name",
    (MDL_NAMESPACE, "given_name"): "full_name",
    (MDL_NAMESPACE, "family_name_national_character"): "full_name",
    (MDL_NAMESPACE, "given_name_national_character"): "full_name",
    (MDL_NAMESPACE, "birth_date"): "date_of_birth",
    (MDL_NAMESPACE, "age_over_18"): "age_over_18",
    (MDL_NAMESPACE, "issue_date"): "issue_date",
    (MDL_NAMESPACE, "expiry_date"): "expiry_date",
    (MDL_NAMESPACE, "issuing_authority"): "issuing_authority",
    (MDL_NAMESPACE, "document_number"): "licence_number",
    (MDL_NAMESPACE, "driving_privileges"): "classes",
    (MDL_NAMESPACE, "resident_address"): "place_of_residence",
    (MDL_NAMESPACE, "portrait"): "portrait",
    (MDL_NAMESPACE, "nationality"): "nationality",
    (MDL_NAMESPACE, "issuing_country"): None,
    (MDL_NAMESPACE, "un_distinguishing_sign"): None,
    (MDL_NAMESPACE, "resident_country"): None,
    (VN_NAMESPACE, "full_name"): "full_name",
    (VN_NAMESPACE, "nationality"): "nationality",
    (VN_NAMESPACE, "issuing_authority"): "issuing_authority",
    (VN_NAMESPACE, "points"): "points",
}
DOCTYPES = (MDL_DOCTYPE,)


def element_key(namespace: str, element: str) -> str:
    """How a query names an element among its claims (namespaces hold no ``/``)."""
    return f"{namespace}/{element}"


def session_transcript(client_id: str, nonce: str, encryption_kid: str, response_uri: str) -> list[Any]:
    """OID4VP 1.0's SessionTranscript for this request (``encryption_kid``: the key's thumbprint, or empty)."""
    thumbprint = b64url_decode(encryption_kid) if encryption_kid else None
    info = cbor2.dumps([client_id, nonce, thumbprint, response_uri])
    return [None, None, ["OpenID4VPHandover", hashlib.sha256(info).digest()]]
