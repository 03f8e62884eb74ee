"""The citizen's addresses for channels that need one given and confirmed (e-mail).

``PUT`` an address: a code is sent there; ``POST .../confirm`` with the code makes it the
channel's address. Only the caller's own account is ever touched. Addresses are personal
data: they are answered to their owner only and never logged.
"""

from __future__ import annotations

import uuid
from typing import NoReturn

from litestar import delete, get, post, put
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED

from notifications import addresses, store
from notifications.channels import AddressChannel
from notifications.schemas import AddressBody, AddressCode, AddressCodeSent, AddressView
from notifications.services import CHANNELS
from wallet_api.kernel import (
    NOT_REPLAYED,
    AppServices,
    Caller,
    Db,
    NotFound,
    Principal,
    SendFailed,
    SendUnavailable,
    Services,
    ServiceUnavailable,
    TooManyRequests,
    ValidationFailed,
    citizen,
)

__all__ = ["ROUTES"]

_TAGS = ["notifications"]
_PATH = "/v1/notifications/addresses/{channel:str}"


def _account(principal: Principal) -> uuid.UUID:
    return uuid.UUID(principal.subject)


def _channel(services: Services, name: str) -> AddressChannel:
    channel = services.get(CHANNELS).address_channel(name)
    if channel is None:
        raise NotFound("No channel of that name takes an address.", slug="unknown-channel", title="Unknown channel")
    return channel


def _refuse_address(detail: str, why: str) -> NoReturn:
    raise ValidationFailed(
        detail,
        slug="invalid-address",
        title="Invalid address",
        errors=[{"key": "address", "source": "body", "message": why}],
    )


async def _view(db: Db, account_id: uuid.UUID, channel: str) -> AddressView:
    found = await addresses.get(db, account_id, channel)
    return AddressView(channel=channel, address=found.address, confirmed_at=found.confirmed_at, pending=found.pending)


@get(_PATH, guards=[citizen], tags=_TAGS, summary="The channel's confirmed address and one waiting for its code")
async def get_address(principal: Caller, db: Db, services: AppServices, channel: FromPath[str]) -> AddressView:
    _channel(services, channel)
    return await _view(db, _account(principal), channel)


@put(
    _PATH, guards=[citizen], tags=_TAGS, summary="Give an address; a code is sent there", status_code=HTTP_202_ACCEPTED
)
async def put_address(
    principal: Caller, db: Db, services: AppServices, channel: FromPath[str], data: JSONBody[AddressBody]
) -> AddressCodeSent:
    account_id = _account(principal)
    sender = _channel(services, channel)
    address = sender.normalise(data.address)
    if address is None:
        _refuse_address("This is not an address the channel can send to.", "not a valid address")
    code = await addresses.start(db, account_id, channel, address)
    if code is None:
        raise TooManyRequests("A code was sent a moment ago; wait before asking again.", retry_after=addresses.COOLDOWN)
    language = await store.account_language(db, account_id)
    try:
        await sender.send_code(address, code, language, reference=f"address-{uuid.uuid4()}")
    except SendUnavailable as exc:
        raise ServiceUnavailable(
            "The code could not be sent now; try again in a minute.",
            slug="channel-unavailable",
            title="Channel unavailable",
            retry_after=addresses.COOLDOWN,
        ) from exc
    except SendFailed:  # refused, or the mailbox does not exist
        _refuse_address("This address cannot receive messages.", "does not receive messages")
    return AddressCodeSent(channel=channel, pending=address, expires_in=addresses.CODE_TTL)


@post(
    f"{_PATH}/confirm",
    guards=[citizen],
    # The answer holds the address (personal data): never stored; a retry runs again (the code is single-use).
    opt=NOT_REPLAYED,
    tags=_TAGS,
    summary="Confirm the address with the code sent there",
    status_code=HTTP_200_OK,
)
async def confirm_address(
    principal: Caller, db: Db, services: AppServices, channel: FromPath[str], data: JSONBody[AddressCode]
) -> AddressView:
    account_id = _account(principal)
    _channel(services, channel)
    if not await addresses.confirm(db, account_id, channel, data.code):
        raise ValidationFailed(
            "The code is wrong or has expired; ask for a new one if it keeps failing.",
            slug="address-code-invalid",
            title="Invalid code",
            errors=[{"key": "code", "source": "body", "message": "wrong or expired code"}],
        )
    return await _view(db, account_id, channel)


@delete(_PATH, guards=[citizen], tags=_TAGS, summary="Stop using the channel's address")
async def delete_address(principal: Caller, db: Db, services: AppServices, channel: FromPath[str]) -> None:
    _channel(services, channel)
    await addresses.remove(db, _account(principal), channel)


ROUTES = [get_address, put_address, confirm_address, delete_address]
