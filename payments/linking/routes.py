"""The citizen's wallet links: request, follow, confirm with the provider's OTP, choose the
payout wallet, unlink.

Requests are accepted at once (202) and processed by workers (:mod:`payments.linking.flow`),
so a surge of millions of citizens linking for a national payout never waits on providers;
the app follows the state with GET. Everything that changes a link needs a level-2 account
and a fresh device signature (step-up).
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import asyncpg
from litestar import Controller, Response, delete, get, post
from litestar.params import FromPath
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED
from redis.exceptions import RedisError

from payments import events
from payments.linking import store
from payments.linking.flow import OTP_KEY, OTP_TTL_SECONDS
from payments.linking.schemas import LinkRequest, OtpSubmission, ProviderView, WalletLinkView, view_of
from payments.providers import PROVIDERS
from wallet_api.kernel import (
    NOT_REPLAYED,
    AppServices,
    AppSettings,
    Caller,
    Conflict,
    Db,
    Forbidden,
    NotFound,
    Principal,
    Problem,
    RedisClient,
    TooManyRequests,
    ValidationFailed,
    citizen,
    citizen_level,
    fresh_device_signature,
    level_too_low,
    publish,
)

__all__ = ["WalletLinkController", "list_providers"]

_CHANGE = [citizen_level(2), fresh_device_signature()]
_LIVE = ("requested", "inquiring", "awaiting_otp", "confirming", "active", "under_review")
#: Link requests one citizen may make in 24 hours: enough for any honest use, and a bound on
#: probing which wallet accounts exist at which provider.
LINK_REQUESTS_PER_DAY = 10


def _account_id(principal: Principal) -> UUID:
    try:
        return UUID(principal.subject)
    except ValueError:
        raise Forbidden("This token does not name a citizen account.") from None


def _refuse_if_payout_locked(locked_until: datetime | None) -> None:
    """SIM-swap defence: a newly bound device or a new phone number cannot move the payouts.

    Identity sets ``accounts.payout_locked_until`` when a device is bound after registration
    (recovery, pairing) or the phone number changes; until then the payout wallet stays put.
    """
    if locked_until is not None and locked_until > datetime.now(UTC):
        raise Conflict(
            "Payout details cannot change yet: a new device or phone number was added to this account recently.",
            slug="payout-details-locked",
            title="Payout details locked for now",
            locked_until=locked_until.isoformat(),
        )


async def _has_payout_wallet(conn: asyncpg.Connection, account_id: UUID) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM wallet_links WHERE account_id = $1 AND is_default AND state = 'active')",
            account_id,
        )
    )


async def _own_link(conn: asyncpg.Connection | asyncpg.Pool, account_id: UUID, link_id: UUID) -> asyncpg.Record:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM wallet_links WHERE id = $1 AND account_id = $2", link_id, account_id
    )
    if row is None:
        raise NotFound("No such wallet link.")
    return row


@get(
    "/v1/wallet-providers",
    guards=[citizen],
    tags=["wallet links"],
    summary="E-wallet providers a citizen can link",
    sync_to_thread=False,
)
def list_providers(services: AppServices) -> list[ProviderView]:
    registry = services.get(PROVIDERS)
    return [ProviderView(code=c.code, name=c.name) for c in registry.configs.values()]


class WalletLinkController(Controller):
    path = "/v1/me/wallet-links"
    tags = ("wallet links",)

    @post(
        "/",
        guards=_CHANGE,
        opt=NOT_REPLAYED,
        status_code=HTTP_202_ACCEPTED,
        summary="Link an e-wallet (accepted at once, processed asynchronously)",
    )
    async def request_link(
        self, principal: Caller, data: LinkRequest, db: Db, services: AppServices
    ) -> Response[WalletLinkView]:
        account_id = _account_id(principal)
        registry = services.get(PROVIDERS)
        if data.provider not in registry.configs:
            raise ValidationFailed(
                "This e-wallet provider is not available.", slug="unknown-provider", title="Unknown e-wallet provider"
            )
        async with db.acquire() as conn, conn.transaction():
            account = await conn.fetchrow(
                "SELECT state, level, payout_locked_until FROM accounts WHERE id = $1 FOR UPDATE", account_id
            )
            if account is None or account["state"] != "active" or account["level"] < 2:
                raise level_too_low(2, "Only an active level-2 account can link an e-wallet.")
            if data.make_default or not await _has_payout_wallet(conn, account_id):
                _refuse_if_payout_locked(account["payout_locked_until"])
            recent = await conn.fetchval(
                "SELECT count(*) FROM wallet_links WHERE account_id = $1 AND created_at > now() - interval '1 day'",
                account_id,
            )
            if recent >= LINK_REQUESTS_PER_DAY:
                raise TooManyRequests(
                    f"At most {LINK_REQUESTS_PER_DAY} wallet link requests a day.",
                    retry_after=3600,
                    slug="wallet-link-requests-exceeded",
                    title="Too many wallet link requests",
                )
            existing = await conn.fetchrow(
                """SELECT id, state FROM wallet_links WHERE account_id = $1 AND provider = $2
                   AND wallet_account = $3 AND state = ANY($4::text[])""",
                account_id,
                data.provider,
                data.wallet_account,
                list(_LIVE),
            )
            if existing is not None:
                raise Conflict(
                    "This e-wallet is already linked or being linked.",
                    slug="wallet-link-exists",
                    title="Wallet already linked",
                    link_id=str(existing["id"]),
                    state=existing["state"],
                )
            row = await conn.fetchrow(
                """INSERT INTO wallet_links (account_id, provider, wallet_account, make_default)
                   VALUES ($1, $2, $3, $4) RETURNING *""",
                account_id,
                data.provider,
                data.wallet_account,
                data.make_default,
            )
            assert row is not None
            await publish(conn, events.LINK_REQUESTED, events.link_call(row["id"], data.provider), key=str(account_id))
            # No audit row here: the request is the link row itself, and the audit chain
            # serialises its appends, which a surge of link requests must not queue on.
            # Outcomes (active, refused, failed, unlinked, payout changes, flags) are audited.
        return Response(
            view_of(row), status_code=HTTP_202_ACCEPTED, headers={"Location": f"/v1/me/wallet-links/{row['id']}"}
        )

    @get("/", guards=[citizen], summary="My wallet links, newest first")
    async def list_links(self, principal: Caller, db: Db) -> list[WalletLinkView]:
        rows = await db.fetch(
            "SELECT * FROM wallet_links WHERE account_id = $1 ORDER BY created_at DESC LIMIT 100",
            _account_id(principal),
        )
        return [view_of(r) for r in rows]

    @get("/{link_id:uuid}", guards=[citizen], summary="One wallet link and its state")
    async def get_link(self, principal: Caller, link_id: FromPath[UUID], db: Db) -> WalletLinkView:
        return view_of(await _own_link(db, _account_id(principal), link_id))

    @post(
        "/{link_id:uuid}/otp",
        guards=_CHANGE,
        opt=NOT_REPLAYED,
        status_code=HTTP_202_ACCEPTED,
        summary="Confirm consent with the OTP the provider sent to the wallet owner's phone",
    )
    async def submit_otp(
        self,
        principal: Caller,
        link_id: FromPath[UUID],
        data: OtpSubmission,
        db: Db,
        redis: RedisClient,
    ) -> WalletLinkView:
        account_id = _account_id(principal)
        link = await _own_link(db, account_id, link_id)
        if link["state"] != "awaiting_otp":
            raise Conflict(
                f"This link is {link['state']}, not waiting for a code.",
                slug="wallet-link-state",
                title="The link is not waiting for this",
                state=link["state"],
            )
        try:
            await redis.set(OTP_KEY.format(link_id=link_id), data.otp, ex=OTP_TTL_SECONDS)
        except (RedisError, OSError):
            raise Problem(
                "Please try again in a moment.", slug="temporarily-unavailable", title="Try again", status=503
            ) from None
        async with db.acquire() as conn, conn.transaction():
            row = await store.move(conn, link_id, from_states=("awaiting_otp",), to="confirming")
            if row is None:
                raise Conflict("The link changed meanwhile.", slug="wallet-link-state", title="The link changed")
            await publish(conn, events.LINK_OTP_SUBMITTED, events.link_call(link_id, row["provider"]))
        return view_of(row)

    @post(
        "/{link_id:uuid}/default",
        guards=_CHANGE,
        opt=NOT_REPLAYED,
        status_code=HTTP_200_OK,
        summary="Make this wallet the payout wallet (payouts to it hold during the cooling-off period)",
    )
    async def set_default(
        self, principal: Caller, link_id: FromPath[UUID], db: Db, settings: AppSettings
    ) -> WalletLinkView:
        account_id = _account_id(principal)
        async with db.acquire() as conn, conn.transaction():
            _refuse_if_payout_locked(
                await conn.fetchval("SELECT payout_locked_until FROM accounts WHERE id = $1", account_id)
            )
            row, _changed = await store.make_default(
                conn, account_id, link_id, settings.accounts.payout_cooling_off_seconds, principal.key
            )
        if row is None:
            raise NotFound("No such wallet link.")
        if row["state"] != "active":
            raise Conflict(
                "Only an active link can be the payout wallet.",
                slug="wallet-link-state",
                title="The link is not active",
                state=row["state"],
            )
        return view_of(row)

    @delete("/{link_id:uuid}", guards=_CHANGE, status_code=HTTP_200_OK, summary="Unlink an e-wallet (any time)")
    async def unlink(self, principal: Caller, link_id: FromPath[UUID], db: Db) -> WalletLinkView:
        account_id = _account_id(principal)
        async with db.acquire() as conn, conn.transaction():
            await _own_link(conn, account_id, link_id)
            row = await store.move(conn, link_id, from_states=_LIVE, to="unlinked", actor=principal.key)
            # Already unlinked, refused or failed: nothing to do; show where it stands.
            return view_of(row or await _own_link(conn, account_id, link_id))
