"""The issuer's public metadata: OpenID4VCI credential issuer metadata and RFC 8414 AS metadata.

One host is both the credential issuer (identifier: ``settings.public_base_url``) and its
OAuth authorization server, so the issuer metadata names no ``authorization_servers``
(OpenID4VCI §12.2.4: the issuer's own identifier is then the AS's). The SD-JWT VCs' ``iss``
stays the issuing agency's ``…/issuers/<org>`` (docs/documents.md): the national wallet
issues on behalf of the agencies.
"""

from __future__ import annotations

from typing import Any

from openid4vci.authorization.endpoints import AUTHORIZATION_CODE_GRANT, AUTHORIZE_PATH, PAR_PATH
from openid4vci.configurations import configurations_metadata
from wallet_api.kernel import Settings

__all__ = [
    "CREDENTIAL_PATH",
    "NONCE_PATH",
    "OFFERS_PATH",
    "PRE_AUTHORIZED_GRANT",
    "TOKEN_PATH",
    "authorization_server_metadata",
    "credential_issuer",
    "endpoint",
    "issuer_metadata",
]

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
TOKEN_PATH = "/openid4vci/token"
NONCE_PATH = "/openid4vci/nonce"
CREDENTIAL_PATH = "/openid4vci/credential"
OFFERS_PATH = "/openid4vci/credential-offers"


def credential_issuer(settings: Settings) -> str:
    """The Credential Issuer Identifier (also the AS issuer and every proof's ``aud``)."""
    return settings.public_base_url.rstrip("/")


def endpoint(settings: Settings, path: str) -> str:
    return credential_issuer(settings) + path


def issuer_metadata(settings: Settings) -> dict[str, Any]:
    return {
        "credential_issuer": credential_issuer(settings),
        "credential_endpoint": endpoint(settings, CREDENTIAL_PATH),
        "nonce_endpoint": endpoint(settings, NONCE_PATH),
        "batch_credential_issuance": {"batch_size": settings.openid4vci.batch_size},
        "display": [
            {"name": "Ví công dân — Cổng cấp giấy tờ số quốc gia", "locale": "vi"},
            {"name": "Citizen Wallet — national digital credential issuer", "locale": "en"},
        ],
        "credential_configurations_supported": configurations_metadata(),
    }


def authorization_server_metadata(settings: Settings) -> dict[str, Any]:
    """RFC 8414 metadata of the authorization server."""
    return {
        "issuer": credential_issuer(settings),
        "token_endpoint": endpoint(settings, TOKEN_PATH),
        "grant_types_supported": [PRE_AUTHORIZED_GRANT, AUTHORIZATION_CODE_GRANT],
        # A wallet redeeming a pre-authorized code need not be a registered client: the
        # offer's code and the holder's transaction code are what authorise it.
        "pre-authorized_grant_anonymous_access_supported": not settings.openid4vci.attestation_required,
        # The authorization code flow (openid4vci/authorization/): pushed requests only, PKCE
        # S256; wallets are public clients, an attested one authenticates with its attestation.
        "authorization_endpoint": endpoint(settings, AUTHORIZE_PATH),
        "pushed_authorization_request_endpoint": endpoint(settings, PAR_PATH),
        "require_pushed_authorization_requests": True,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "token_endpoint_auth_methods_supported": ["none", "attest_jwt_client_auth"],
        "client_attestation_signing_alg_values_supported": ["ES256"],
        "client_attestation_pop_signing_alg_values_supported": ["ES256"],
        "dpop_signing_alg_values_supported": ["ES256"],
        "authorization_details_types_supported": ["openid_credential"],
    }
