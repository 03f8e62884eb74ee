"""Who the wallet is: public clients, trusted through wallet attestation.

Registration policy (docs/standards.md, "Clients"): wallets are public clients and are not
registered beforehand. The ``client_id`` is whatever identifier the wallet uses; what makes
it trustworthy is an OAuth client attestation from a wallet provider we trust, whose
``sub`` must be that ``client_id``. Without one (when the settings allow it) the citizen is
shown the wallet as unverified before approving. A national issuer cannot keep a register
of every wallet app of the world, but it can keep a short list of the wallet providers it
trusts, which is what HAIP expects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from openid4vci.attestation import WALLET_PROVIDERS, AttestationRefused, AttestedClient, verify_client_attestation
from openid4vci.errors import ProtocolError
from openid4vci.metadata import credential_issuer
from wallet_api.kernel import Services

__all__ = ["Client", "authenticate_client"]


@dataclass(frozen=True, slots=True)
class Client:
    """The calling wallet: its client_id and, if it sent a valid one, its attestation."""

    client_id: str
    attested: AttestedClient | None


async def authenticate_client(headers: Mapping[str, str], services: Services, client_id: str | None) -> Client:
    """Who calls: ``invalid_client`` for a bad attestation, or none where one is required.

    A public client names itself by ``client_id``; an attested one may leave it out (the
    attestation's ``sub`` names it) and must not name another.
    """
    try:
        attested = await verify_client_attestation(
            headers,
            providers=services.get(WALLET_PROVIDERS),
            redis=services.redis,
            audience=credential_issuer(services.settings),
        )
    except AttestationRefused as exc:
        raise ProtocolError("invalid_client", "The wallet attestation was not accepted.", status=401) from exc
    if attested is None:
        if services.settings.openid4vci.attestation_required:
            raise ProtocolError(
                "invalid_client", "A wallet attestation (OAuth-Client-Attestation) is required.", status=401
            )
        if not client_id:
            raise ProtocolError("invalid_request", "client_id (or a wallet attestation) is required.")
        return Client(client_id, None)
    if client_id and client_id != attested.client_id:
        raise ProtocolError("invalid_client", "The attested client is not the client_id of the request.", status=401)
    return Client(attested.client_id, attested)
