"""The HTTP client of the provider API described in ``docs/providers.md``.

One instance per provider per process: its own pooled ``httpx.AsyncClient`` (keep-alive
connections, explicit timeouts) and the shared rate limiter. Error mapping, which callers
rely on:

- no response (time-out, connection dropped) or a 5xx → :class:`ProviderUnavailable`
  (the outcome is unknown: ask :meth:`payout_status`, never resend blindly); no connection
  at all (refused, connect time-out, no pooled connection free) →
  :class:`ProviderUnreachable`, the request never left; a 5xx other than a gateway's
  502/504 → :class:`ProviderAnswered`, the request is over at the provider;
- 429 → :class:`ProviderRateLimited` (nothing was done), also raised before sending when
  our own token bucket has no token within ``max_wait_seconds``;
- a 4xx with an error code → :class:`ProviderRejected` (the provider did not act);
- 401/403 → :class:`ProviderError` (our credentials are wrong: an operator must act).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime
from typing import Any, cast

import httpx
import msgspec

from payments.providers.base import (
    AccountInquiry,
    PayoutItem,
    PayoutResult,
    PayoutStatus,
    ProviderAnswered,
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
    ProviderUnreachable,
    StatementLine,
)
from payments.providers.config import ProviderConfig
from payments.providers.ratelimit import ProviderRateLimiter

__all__ = ["HttpWalletProvider"]

log = logging.getLogger(__name__)

_STATEMENT_PAGE = 1000


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.05, float(response.headers.get("Retry-After", "1")))
    except ValueError:
        return 1.0


def _error_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"http_{response.status_code}"
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return cast(str, body["error"])
    return f"http_{response.status_code}"


class HttpWalletProvider:
    """A :class:`~payments.providers.base.WalletProvider` over HTTP."""

    def __init__(self, config: ProviderConfig, limiter: ProviderRateLimiter, *, transport: Any = None) -> None:
        self.config = config
        self.code = config.code
        self.bulk_size = config.bulk_size
        self._limiter = limiter
        self._client = httpx.AsyncClient(
            base_url=config.base_url.rstrip("/") + "/v1",
            headers={"Authorization": f"Bearer {config.api_key}", "User-Agent": "citizen-wallet/1"},
            timeout=httpx.Timeout(config.timeout_seconds, connect=config.connect_timeout_seconds),
            limits=httpx.Limits(
                max_connections=config.max_connections, max_keepalive_connections=config.max_connections
            ),
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _call(self, method: str, path: str, *, json: Any = None, params: Any = None) -> httpx.Response:
        await self._limiter.acquire()
        try:
            content = None if json is None else msgspec.json.encode(json)
            headers = None if content is None else {"Content-Type": "application/json"}
            response = await self._client.request(method, path, content=content, headers=headers, params=params)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # No connection was made, so no byte of the request was sent.
            raise ProviderUnreachable(f"{self.code}: {type(exc).__name__}") from exc
        except httpx.TimeoutException as exc:
            raise ProviderUnavailable(f"{self.code}: time-out") from exc
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"{self.code}: {type(exc).__name__}") from exc
        status = response.status_code
        if status in (502, 504):
            # A gateway's answer: the provider behind it may still be working on the request.
            raise ProviderUnavailable(f"{self.code}: answered {status}")
        if status >= 500:
            raise ProviderAnswered(f"{self.code}: answered {status}")
        if status == 429:
            raise ProviderRateLimited(retry_after=_retry_after(response))
        if status in (401, 403):
            log.error("provider refused our credentials", extra={"provider": self.code, "status": status})
            raise ProviderError(f"{self.code}: credentials refused ({status})")
        if status >= 400:
            raise ProviderRejected(_error_code(response))
        return response

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        try:
            body = msgspec.json.decode(response.content)
        except msgspec.DecodeError as exc:
            raise ProviderUnavailable("provider answered with a body that is not JSON") from exc
        if not isinstance(body, dict):
            raise ProviderUnavailable("provider answered with an unexpected body")
        return body

    async def inquire(self, wallet_account: str) -> AccountInquiry:
        body = self._json(await self._call("POST", "/accounts/inquiry", json={"wallet_account": wallet_account}))
        status = body.get("status")
        if status not in ("active", "closed", "locked"):
            raise ProviderUnavailable("provider answered an unknown account status")
        return AccountInquiry(
            wallet_account=str(body.get("wallet_account", wallet_account)),
            owner_person_id=str(body["owner_person_id"]),
            owner_name=str(body["owner_name"]),
            status=status,
        )

    async def request_link_otp(self, wallet_account: str, link_id: str) -> None:
        await self._call("POST", "/links/otp", json={"wallet_account": wallet_account, "link_id": link_id})

    async def confirm_link(self, wallet_account: str, link_id: str, otp: str) -> None:
        await self._call(
            "POST", "/links/confirm", json={"wallet_account": wallet_account, "link_id": link_id, "otp": otp}
        )

    async def payout(self, items: Sequence[PayoutItem]) -> list[PayoutResult]:
        """Pay ``items`` in requests of at most ``bulk_size``; idempotent on each ``payment_id``.

        If any request's outcome is unknown this raises ProviderUnavailable for the whole
        call, even when earlier chunks were answered: callers pass at most ``bulk_size``
        items for exact outcomes, and in any case settle unknowns with payout_status.
        """
        results: list[PayoutResult] = []
        for start in range(0, len(items), self.bulk_size):
            chunk = items[start : start + self.bulk_size]
            wire = [
                {
                    "payment_id": i.payment_id,
                    "wallet_account": i.wallet_account,
                    "amount": i.amount,
                    "description": i.description,
                }
                for i in chunk
            ]
            if len(wire) == 1:
                answers = [self._json(await self._call("POST", "/payouts", json=wire[0]))]
            else:
                body = self._json(await self._call("POST", "/payouts/bulk", json={"items": wire}))
                answers = [r for r in body.get("results", []) if isinstance(r, dict)]
            by_id = {r.get("payment_id"): r for r in answers}
            for item in chunk:
                r = by_id.get(item.payment_id)
                if r is None or r.get("outcome") not in ("succeeded", "failed", "pending"):
                    # The provider did not say what it did with this one: ask it later.
                    results.append(PayoutResult(item.payment_id, "pending"))
                    continue
                results.append(
                    PayoutResult(
                        payment_id=item.payment_id,
                        outcome=r["outcome"],
                        provider_ref=r.get("provider_ref"),
                        reason=r.get("reason"),
                    )
                )
        return results

    async def payout_status(self, payment_id: str) -> PayoutStatus:
        try:
            response = await self._call("GET", f"/payouts/{payment_id}")
        except ProviderRejected as exc:
            if exc.reason in ("payout_not_found", "http_404"):
                return PayoutStatus(payment_id=payment_id, state="not_found")
            raise
        body = self._json(response)
        state = body.get("state")
        if state not in ("succeeded", "failed", "pending"):
            raise ProviderUnavailable("provider answered an unknown payout state")
        return PayoutStatus(
            payment_id=payment_id,
            state=state,
            amount=body.get("amount"),
            provider_ref=body.get("provider_ref"),
            reason=body.get("reason"),
        )

    async def statement(self, day: date) -> AsyncIterator[StatementLine]:
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": _STATEMENT_PAGE}
            if cursor:
                params["cursor"] = cursor
            body = self._json(await self._call("GET", f"/statements/{day.isoformat()}", params=params))
            for line in body.get("lines", []):
                yield StatementLine(
                    payment_id=line["payment_id"],
                    provider_ref=line["provider_ref"],
                    wallet_account=line["wallet_account"],
                    amount=int(line["amount"]),
                    kind=line["kind"],
                    at=datetime.fromisoformat(line["at"]),
                )
            cursor = body.get("next_cursor")
            if not cursor:
                return
