"""The driving licence as an ISO/IEC 18013-5 mdoc: certificates, minting, verifying.

Callers import from here:

- issuing (``openid4vci``): ``signer = await document_signer(pool, keys, org_id, base_url=...)``
  then ``mint_mdoc(signer, claims=..., holder_jwk=..., status_uri=..., status_idx=...,
  valid_until=...)`` → IssuerSigned CBOR bytes (one per holder key; cheap, no I/O).
- verifying (``openid4vp``): ``await verify_device_response(pool, device_response,
  session_transcript)`` → one :class:`VerifiedDocument` per document (elements per
  namespace, doc type, issuing agency, status reference), or an :class:`MdocError`.
- publishing: ``published_roots`` (the IACA roots, served by ``documents/mdoc/routes.py``).

Modules, one job each: ``cbor`` (ISO's CBOR forms), ``cose`` (COSE_Sign1), ``certificates``
(X.509 profiles and chain check), ``keys`` (the key purposes), ``store`` (certificates made
once in PostgreSQL), ``revocation`` (revoked Document Signers, CRLs), ``trust`` (what our
verifier trusts), ``elements`` (our licence as mDL data elements), ``issuing``,
``verifying``, ``routes``, ``errors``.
"""

from documents.mdoc.elements import MDL_DOCTYPE, MDL_NAMESPACE, VN_NAMESPACE
from documents.mdoc.errors import (
    DeviceSignatureInvalid,
    DigestMismatch,
    DocTypeMismatch,
    IssuerSignatureInvalid,
    MalformedMdoc,
    MdocError,
    MdocNotValid,
    UnsupportedMdoc,
    UntrustedIssuer,
)
from documents.mdoc.issuing import mint_mdoc
from documents.mdoc.keys import DS_KEYS, IACA_KEYS
from documents.mdoc.revocation import revoke_document_signer
from documents.mdoc.store import MAX_MDOC_LIFETIME, DocumentSigner, IacaRoot, document_signer, published_roots
from documents.mdoc.trust import Trust, trust, trusted_roots
from documents.mdoc.verifying import (
    StatusReference,
    VerifiedDocument,
    check_device_response,
    check_issuer_signed,
    verify_device_response,
)

__all__ = [
    "DS_KEYS",
    "IACA_KEYS",
    "MAX_MDOC_LIFETIME",
    "MDL_DOCTYPE",
    "MDL_NAMESPACE",
    "VN_NAMESPACE",
    "DeviceSignatureInvalid",
    "DigestMismatch",
    "DocTypeMismatch",
    "DocumentSigner",
    "IacaRoot",
    "IssuerSignatureInvalid",
    "MalformedMdoc",
    "MdocError",
    "MdocNotValid",
    "StatusReference",
    "Trust",
    "UnsupportedMdoc",
    "UntrustedIssuer",
    "VerifiedDocument",
    "check_device_response",
    "check_issuer_signed",
    "document_signer",
    "mint_mdoc",
    "published_roots",
    "revoke_document_signer",
    "trust",
    "trusted_roots",
    "verify_device_response",
]
