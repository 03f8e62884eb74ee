"""Signing keys: ES256 key pairs whose private halves are encrypted at rest.

``KeyProvider`` is the seam for an HSM or a cloud KMS: it signs with a key it holds and
publishes public keys. ``DatabaseKeyProvider`` keeps keys in PostgreSQL, wrapped with
AES-256-GCM under the key-encryption key from configuration (``WALLET_KEK``). Every JOSE
object (tokens, device signatures, SD-JWT, status lists) is read and written by
``wallet_api.keys.jose``.
"""

from wallet_api.keys.provider import (
    DatabaseKeyProvider,
    KeyProvider,
    KeyRequirement,
    KeyUnwrapError,
    SigningKey,
    jwk_thumbprint,
)

__all__ = ["DatabaseKeyProvider", "KeyProvider", "KeyRequirement", "KeyUnwrapError", "SigningKey", "jwk_thumbprint"]
