"""Small helpers shared by the accounts routes."""

from __future__ import annotations

import re
import uuid
from typing import Any, cast

import asyncpg
from litestar import Request

from wallet_api.accounts.device_keys import InvalidDeviceKey, normalise_public_jwk, verify_signature
from wallet_api.accounts.schemas import DeviceIn, SessionView
from wallet_api.accounts.sessions import SessionTokens
from wallet_api.kernel import Scope, Unauthorized, ValidationFailed, caller_source

__all__ = [
    "bind_message",
    "insert_device",
    "normalise_phone",
    "phone_hint",
    "request_source",
    "session_view",
    "signed_message",
    "uuid_or_none",
    "verified_device_key",
]

_PHONE = re.compile(r"^(?:\+?84|0)([35789][0-9]{8})$")


def normalise_phone(raw: str) -> str:
    """A Vietnamese mobile number in E.164 (``+84…``); 422 if it is not one."""
    compact = re.sub(r"[\s.()-]", "", raw)
    m = _PHONE.match(compact)
    if m is None:
        raise ValidationFailed(
            "The phone number must be a Vietnamese mobile number.",
            errors=[{"key": "phone", "source": "body", "message": "not a Vietnamese mobile number"}],
        )
    return "+84" + m.group(1)


def phone_hint(phone: str) -> str:
    return phone[:3] + "*" * (len(phone) - 6) + phone[-3:]


def request_source(request: Request[Any, Any, Any]) -> str:
    """The caller's source for rate limits and lockouts (client address via trusted proxies)."""
    return caller_source(cast(Scope, request.scope), request.app.state.services.settings.trusted_proxies)


def signed_message(purpose: str, value: str) -> bytes:
    """What a device signs: domain-separated so a signature for one purpose fits no other."""
    return f"citizen-wallet:{purpose}:{value}".encode()


def bind_message(reference: str) -> bytes:
    return signed_message("bind", reference)


def verified_device_key(device: DeviceIn, message: bytes, signature: str) -> dict[str, str]:
    """The device's cleaned public JWK, after proving it holds the private key."""
    try:
        jwk = normalise_public_jwk(device.public_jwk)
    except InvalidDeviceKey as exc:
        raise ValidationFailed(
            str(exc), errors=[{"key": "device.public_jwk", "source": "body", "message": str(exc)}]
        ) from exc
    if not verify_signature(jwk, message, signature):
        raise Unauthorized(
            "The device signature does not verify (ES256 by this key over the message: base64url of raw r||s "
            "(64 bytes) or of DER).",
            slug="bad-device-signature",
        )
    return jwk


async def insert_device(conn: asyncpg.Connection, account_id: uuid.UUID, device: DeviceIn, jwk: dict[str, str]) -> str:
    device_id = await conn.fetchval(
        """INSERT INTO devices (account_id, name, public_jwk, push_platform, push_token)
           VALUES ($1, $2, $3, $4, $5) RETURNING id""",
        account_id,
        device.name.strip(),
        jwk,
        device.push_platform,
        device.push_token,
    )
    return str(device_id)


def session_view(s: SessionTokens) -> SessionView:
    return SessionView(
        access_token=s.access_token,
        expires_in=s.expires_in,
        refresh_token=s.refresh_token,
        account_id=s.account_id,
        device_id=s.device_id,
        level=s.level,
    )


def uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
