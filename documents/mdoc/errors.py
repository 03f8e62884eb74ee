"""What verifying an mdoc may refuse, one class per reason::

    MdocError                      .code                      (base: catch this one)
    ├── MalformedMdoc              "malformed"                not the CBOR structures of ISO 18013-5
    ├── UnsupportedMdoc            "unsupported"              deviceMac, another algorithm or version
    ├── UntrustedIssuer            "untrusted-issuer"         no chain to a published IACA root
    ├── IssuerSignatureInvalid     "issuer-signature-invalid" issuerAuth does not verify
    ├── DigestMismatch             "digest-mismatch"          an item is not the one the issuer signed
    ├── DocTypeMismatch            "doctype-mismatch"         document and MSO disagree, or not asked for
    ├── DeviceSignatureInvalid     "device-signature-invalid" not signed by the holder's device key
    │                                                         over this session transcript
    └── MdocNotValid               "expired" / "not-yet-valid"  MSO or certificate outside its validity

These are not HTTP problems: the OID4VP verifier answers them in its protocol's own format.
"""

from __future__ import annotations

__all__ = [
    "DeviceSignatureInvalid",
    "DigestMismatch",
    "DocTypeMismatch",
    "IssuerSignatureInvalid",
    "MalformedMdoc",
    "MdocError",
    "MdocNotValid",
    "UnsupportedMdoc",
    "UntrustedIssuer",
]


class MdocError(Exception):
    """An mdoc or DeviceResponse was refused; ``code`` is stable, the message is for logs."""

    code = "invalid-mdoc"


class MalformedMdoc(MdocError):
    code = "malformed"


class UnsupportedMdoc(MdocError):
    code = "unsupported"


class UntrustedIssuer(MdocError):
    code = "untrusted-issuer"


class IssuerSignatureInvalid(MdocError):
    code = "issuer-signature-invalid"


class DigestMismatch(MdocError):
    code = "digest-mismatch"


class DocTypeMismatch(MdocError):
    code = "doctype-mismatch"


class DeviceSignatureInvalid(MdocError):
    code = "device-signature-invalid"


class MdocNotValid(MdocError):
    """Outside a validity period; ``code`` says which side ("expired" or "not-yet-valid")."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
