"""X.509 pieces every certificate we make shares.

Two hierarchies are built from our own signing keys: the mdoc IACA roots and Document
Signers (documents/mdoc) and the verifier service's CA and request-signing leaf (openid4vp).
Both need the same two key usages; written once, by name, so neither spells nine positional
booleans.
"""

from __future__ import annotations

from cryptography import x509

__all__ = ["key_usage"]


def key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    """A CA's (``keyCertSign`` + ``cRLSign``) or a signer's (``digitalSignature``) key usage."""
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )
