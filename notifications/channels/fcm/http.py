"""Firebase Cloud Messaging, HTTP v1 API.

Authentication is OAuth2 with a service account: we sign a JWT (RS256) with the account's
private key, exchange it at the account's ``token_uri`` for an access token (valid about
an hour, cached until shortly before it expires), and send each message with
``POST {endpoint}/v1/projects/{project_id}/messages:send``.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt

from notifications.channels.base import retry_after_of
from notifications.channels.push import PushMessage
from wallet_api.kernel import RecipientGone, SendRejected, SendUnavailable

__all__ = ["FcmGateway", "ServiceAccount"]

_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
#: FCM error codes meaning the registration token will never work again.
_GONE = {"UNREGISTERED", "SENDER_ID_MISMATCH"}


@dataclass(frozen=True)
class ServiceAccount:
    project_id: str
    client_email: str
    private_key: str
    private_key_id: str
    token_uri: str

    @classmethod
    def from_file(cls, path: Path) -> ServiceAccount:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            project_id=raw["project_id"],
            client_email=raw["client_email"],
            private_key=raw["private_key"],
            private_key_id=raw.get("private_key_id", ""),
            token_uri=raw.get("token_uri", "https://oauth2.googleapis.com/token"),
        )


def _fcm_error(response: httpx.Response) -> tuple[str, str]:
    """(status, FCM errorCode) of an error response, as far as it can be read."""
    try:
        error = response.json().get("error", {})
    except ValueError:
        return "", ""
    code = ""
    for detail in error.get("details", []) or []:
        if str(detail.get("@type", "")).endswith("google.firebase.fcm.v1.FcmError"):
            code = str(detail.get("errorCode", ""))
    return str(error.get("status", "")), code


class FcmGateway:
    def __init__(self, http: httpx.AsyncClient, account: ServiceAccount, endpoint: str) -> None:
        self._http = http
        self._account = account
        self._url = f"{endpoint.rstrip('/')}/v1/projects/{account.project_id}/messages:send"
        self._token: str | None = None
        self._token_expires = 0.0
        self._lock = asyncio.Lock()

    async def aclose(self) -> None:
        return None  # the process's shared HTTP client is closed by its owner

    async def _access_token(self, *, refresh: bool = False) -> str:
        async with self._lock:
            if not refresh and self._token and time.time() < self._token_expires - 60:
                return self._token
            now = int(time.time())
            assertion = jwt.encode(
                {
                    "iss": self._account.client_email,
                    "scope": _SCOPE,
                    "aud": self._account.token_uri,
                    "iat": now,
                    "exp": now + 3600,
                },
                self._account.private_key,
                algorithm="RS256",
                headers={"kid": self._account.private_key_id} if self._account.private_key_id else None,
            )
            try:
                r = await self._http.post(
                    self._account.token_uri, data={"grant_type": _GRANT, "assertion": assertion}, timeout=10.0
                )
            except httpx.HTTPError as exc:
                raise SendUnavailable(f"fcm oauth {type(exc).__name__}") from exc
            if r.status_code != 200:
                # A refused service account is a configuration fault; it may be fixed, so retry.
                raise SendUnavailable(f"fcm oauth answered {r.status_code}", retry_after=retry_after_of(r))
            body = r.json()
            self._token = str(body["access_token"])
            self._token_expires = time.time() + float(body.get("expires_in", 3600))
            return self._token

    def _body(self, token: str, message: PushMessage) -> dict[str, Any]:
        return {
            "message": {
                "token": token,
                "notification": {"title": message.title},
                "data": message.data(),
                "android": {"priority": "HIGH"},
            }
        }

    async def send(self, token: str, message: PushMessage) -> None:
        body = self._body(token, message)
        for attempt in (1, 2):
            access = await self._access_token(refresh=attempt == 2)
            try:
                r = await self._http.post(
                    self._url, json=body, headers={"Authorization": f"Bearer {access}"}, timeout=10.0
                )
            except httpx.HTTPError as exc:
                raise SendUnavailable(f"fcm {type(exc).__name__}") from exc
            if r.status_code == 200:
                return
            status, code = _fcm_error(r)
            if r.status_code == 401 and attempt == 1 and code != "THIRD_PARTY_AUTH_ERROR":
                continue  # our access token expired early or was revoked: get a new one once
            reason = f"fcm {r.status_code} {code or status}".strip()
            # Only an explicit error code invalidates a token: a bare 404 may be a wrong URL.
            if code in _GONE:
                raise RecipientGone(reason)
            if r.status_code in (429, 500, 502, 503, 504) or code in ("QUOTA_EXCEEDED", "UNAVAILABLE", "INTERNAL"):
                raise SendUnavailable(reason, retry_after=retry_after_of(r))
            if r.status_code == 401:
                raise SendUnavailable(reason)
            raise SendRejected(reason)
        raise SendUnavailable("fcm 401 after token refresh")
