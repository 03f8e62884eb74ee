"""The simulator's HTTP server: the provider API of ``docs/providers.md`` for every configured
provider under ``/{code}/v1/...``, plus ``/_admin/...`` to inject faults and inspect state.

It fails the way real providers do (see :mod:`simulators.provider_sim.faults`): slowly, with
5xx, 429, rejections, responses lost after the payout was made, and webhooks that come
twice, late or never. Its ledger (``GET /{code}/v1/statements/{day}``) is the ground truth.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import re
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import httpx
import msgspec
from litestar import Litestar, Request, Response, delete, get, post, put
from litestar.exceptions import HTTPException
from litestar.params import FromPath

from payments.providers.config import ProviderConfig
from payments.providers.ratelimit import LocalTokenBucket
from payments.providers.signing import sign_webhook
from simulators.provider_sim.faults import FaultBook, Faults
from simulators.provider_sim.store import PayoutOutcome, SimStore, Wallet

__all__ = ["SimState", "create_sim_app"]

log = logging.getLogger("provider_sim")

OTP_TTL_SECONDS = 300.0
OTP_MAX_ATTEMPTS = 5
_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_WALLET = re.compile(r"^[A-Za-z0-9._-]{4,64}$")


class SimError(Exception):
    def __init__(self, status: int, code: str, message: str = "", headers: dict[str, str] | None = None) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.message = message or code.replace("_", " ")
        self.headers = headers or {}


@dataclass
class SimState:
    store: SimStore
    providers: dict[str, ProviderConfig]
    faults: FaultBook
    #: Webhooks go to ``{webhook_base_url}/{code}/payout-events``; empty: keep them queued, unsent.
    webhook_base_url: str = ""
    #: Events per webhook request: 1 sends each event alone; more sends ``{"events": [...]}``.
    webhook_batch: int = 1
    admin_token: str = ""
    rng: random.Random = field(default_factory=random.Random)
    buckets: dict[str, LocalTokenBucket] = field(default_factory=dict)
    stats: dict[str, int] = field(default_factory=dict)

    def count(self, name: str) -> None:
        self.stats[name] = self.stats.get(name, 0) + 1


def _error_response(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, SimError):
        return Response(
            {"error": exc.code, "message": exc.message}, status_code=exc.status, headers=exc.headers or None
        )
    if isinstance(exc, HTTPException):
        return Response({"error": f"http_{exc.status_code}", "message": str(exc.detail)}, status_code=exc.status_code)
    log.exception("simulator error", exc_info=exc)
    return Response({"error": "internal", "message": "simulator error"}, status_code=500)


def _sim(request: Request[Any, Any, Any]) -> SimState:
    return request.app.state.sim  # type: ignore[no-any-return]


async def _body(request: Request[Any, Any, Any]) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise SimError(400, "invalid_json") from None
    if not isinstance(body, dict):
        raise SimError(400, "invalid_json")
    return body


def _str_field(body: dict[str, Any], name: str, pattern: re.Pattern[str]) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not pattern.match(value):
        raise SimError(422, "invalid_request", f"{name} is missing or malformed")
    return value


async def _gate(request: Request[Any, Any, Any], provider: str, operation: str) -> tuple[SimState, Faults]:
    """Authenticate, then apply latency, rate limits and 5xx faults before the operation runs."""
    sim = _sim(request)
    config = sim.providers.get(provider)
    if config is None:
        raise SimError(404, "unknown_provider")
    supplied = request.headers.get("authorization", "")
    if not secrets.compare_digest(supplied.encode(), f"Bearer {config.api_key}".encode()):
        raise SimError(401, "unauthorized")
    sim.count(f"{provider}.{operation}")
    faults = sim.faults.for_provider(provider)
    if not faults.applies_to(operation):
        return sim, faults
    delay = faults.latency(sim.rng)
    if delay > 0:
        await asyncio.sleep(delay)
    if faults.rate_limit_per_second > 0:
        bucket = sim.buckets.get(provider)
        if bucket is None or bucket.rate != faults.rate_limit_per_second:
            bucket = LocalTokenBucket(faults.rate_limit_per_second, max(1.0, faults.rate_limit_per_second))
            sim.buckets[provider] = bucket
        wait = bucket.take()
        if wait > 0:
            sim.count(f"{provider}.429")
            raise SimError(429, "rate_limited", headers={"Retry-After": f"{max(1, round(wait + 0.5))}"})
    if faults.throttle_rate and sim.rng.random() < faults.throttle_rate:
        sim.count(f"{provider}.429")
        raise SimError(429, "rate_limited", headers={"Retry-After": "1"})
    if faults.error_rate and sim.rng.random() < faults.error_rate:
        sim.count(f"{provider}.5xx")
        raise SimError(503, "unavailable")
    return sim, faults


async def _maybe_lose_response(sim: SimState, faults: Faults, provider: str, operation: str) -> None:
    """The "time-out after committing" fault: the work is done, the answer never comes."""
    rate = faults.timeout_after_commit_rate if faults.applies_to(operation) else 0.0
    if rate and sim.rng.random() < rate:
        sim.count(f"{provider}.lost_response")
        await asyncio.sleep(faults.hang_ms / 1000.0)
        raise SimError(504, "gateway_timeout")


# -- provider API ------------------------------------------------------------------------


@post("/{provider:str}/v1/accounts/inquiry", status_code=200)
async def inquiry(request: Request[Any, Any, Any], provider: FromPath[str]) -> dict[str, Any]:
    sim, _ = await _gate(request, provider, "inquiry")
    body = await _body(request)
    account = _str_field(body, "wallet_account", _WALLET)
    wallet = sim.store.wallet(provider, account)
    if wallet is None:
        raise SimError(404, "account_not_found")
    return {
        "wallet_account": wallet.wallet_account,
        "owner_person_id": wallet.owner_person_id,
        "owner_name": wallet.owner_name,
        "status": wallet.status,
    }


@post("/{provider:str}/v1/links/otp", status_code=202)
async def link_otp(request: Request[Any, Any, Any], provider: FromPath[str]) -> dict[str, Any]:
    sim, _ = await _gate(request, provider, "link_otp")
    body = await _body(request)
    account = _str_field(body, "wallet_account", _WALLET)
    link_id = _str_field(body, "link_id", _ID)
    wallet = sim.store.wallet(provider, account)
    if wallet is None:
        raise SimError(404, "account_not_found")
    if wallet.status != "active":
        raise SimError(422, f"account_{wallet.status}")
    sim.store.issue_otp(provider, link_id, account, OTP_TTL_SECONDS)
    return {"link_id": link_id, "otp_expires_in": int(OTP_TTL_SECONDS)}


@post("/{provider:str}/v1/links/confirm", status_code=200)
async def link_confirm(request: Request[Any, Any, Any], provider: FromPath[str]) -> dict[str, Any]:
    sim, faults = await _gate(request, provider, "link_confirm")
    body = await _body(request)
    account = _str_field(body, "wallet_account", _WALLET)
    link_id = _str_field(body, "link_id", _ID)
    otp = body.get("otp")
    if not isinstance(otp, str) or not otp.isdigit() or len(otp) > 10:
        raise SimError(422, "otp_invalid")
    refusal = sim.store.confirm_otp(provider, link_id, account, otp, OTP_MAX_ATTEMPTS)
    if refusal is not None:
        raise SimError(422, refusal)
    await _maybe_lose_response(sim, faults, provider, "link_confirm")
    return {"link_id": link_id, "state": "linked"}


def _payout_items(raw: Any, bulk_size: int) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise SimError(422, "invalid_request", "items must be a non-empty list")
    if len(raw) > bulk_size:
        raise SimError(422, "bulk_too_large", f"at most {bulk_size} items per request")
    items = []
    seen: set[str] = set()
    for item in raw:
        if not isinstance(item, dict):
            raise SimError(422, "invalid_request")
        payment_id = _str_field(item, "payment_id", _ID)
        account = _str_field(item, "wallet_account", _WALLET)
        amount = item.get("amount")
        description = item.get("description", "")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise SimError(422, "invalid_request", "amount must be a positive integer of dong")
        if not isinstance(description, str) or len(description) > 140:
            raise SimError(422, "invalid_request", "description must be at most 140 characters")
        if payment_id in seen:
            raise SimError(422, "invalid_request", "a payment_id appears twice in one request")
        seen.add(payment_id)
        items.append(
            {"payment_id": payment_id, "wallet_account": account, "amount": amount, "description": description}
        )
    return items


def _webhooks_for(
    sim: SimState, faults: Faults, created: list[dict[str, Any]]
) -> list[tuple[str, str, str, float, bool]]:
    """The payout-result webhooks of newly created payouts, with the webhook faults applied."""
    out: list[tuple[str, str, str, float, bool]] = []
    webhook_faults = faults.applies_to("payout")
    for row in created:
        event_id = str(uuid.uuid4())
        body = json.dumps(
            {
                "event_id": event_id,
                "type": "payout.result",
                "payment_id": row["payment_id"],
                "state": row["state"],
                "provider_ref": row["provider_ref"],
                "reason": row["reason"],
                "amount": row["amount"],
                "occurred_at": datetime.fromtimestamp(row["settles_at"], UTC).isoformat(),
            }
        )
        due = float(row["settles_at"])
        if webhook_faults and faults.webhook_late_rate and sim.rng.random() < faults.webhook_late_rate:
            due += faults.webhook_late_ms / 1000.0
        dropped = bool(webhook_faults and faults.webhook_drop_rate and sim.rng.random() < faults.webhook_drop_rate)
        out.append((event_id, row["payment_id"], body, due, dropped))
        if (
            not dropped
            and webhook_faults
            and faults.webhook_duplicate_rate
            and sim.rng.random() < faults.webhook_duplicate_rate
        ):
            out.append((event_id, row["payment_id"], body, due + 0.5, False))
    return out


async def _pay(request: Request[Any, Any, Any], provider: str, items_raw: Any) -> list[PayoutOutcome]:
    sim, faults = await _gate(request, provider, "payout")
    items = _payout_items(items_raw, sim.providers[provider].bulk_size)
    apply = faults.applies_to("payout")

    def reject(_: dict[str, Any]) -> str | None:
        if apply and faults.reject_rate and sim.rng.random() < faults.reject_rate:
            return faults.reject_reason
        return None

    settle = faults.settle_delay_ms / 1000.0 if apply else 0.0
    outcomes = sim.store.payout(
        provider,
        items,
        settle_delay=settle,
        reject=reject,
        webhooks=lambda created: _webhooks_for(sim, faults, created),
    )
    await _maybe_lose_response(sim, faults, provider, "payout")
    return outcomes


def _result(o: PayoutOutcome) -> dict[str, Any]:
    return {"payment_id": o.payment_id, "outcome": o.outcome, "provider_ref": o.provider_ref, "reason": o.reason}


@post("/{provider:str}/v1/payouts", status_code=200)
async def payout_single(request: Request[Any, Any, Any], provider: FromPath[str]) -> dict[str, Any]:
    body = await _body(request)
    (outcome,) = await _pay(request, provider, [body])
    return _result(outcome)


@post("/{provider:str}/v1/payouts/bulk", status_code=200)
async def payout_bulk(request: Request[Any, Any, Any], provider: FromPath[str]) -> dict[str, Any]:
    body = await _body(request)
    outcomes = await _pay(request, provider, body.get("items"))
    return {"results": [_result(o) for o in outcomes]}


@get("/{provider:str}/v1/payouts/{payment_id:str}")
async def payout_status(
    request: Request[Any, Any, Any], provider: FromPath[str], payment_id: FromPath[str]
) -> dict[str, Any]:
    sim, _ = await _gate(request, provider, "payout_status")
    status = sim.store.payout_status(provider, payment_id)
    if status is None:
        raise SimError(404, "payout_not_found")
    return status


@get("/{provider:str}/v1/statements/{day:str}")
async def statement(request: Request[Any, Any, Any], provider: FromPath[str], day: FromPath[str]) -> dict[str, Any]:
    sim, _ = await _gate(request, provider, "statement")
    try:
        date.fromisoformat(day)
    except ValueError:
        raise SimError(422, "invalid_request", "day must be YYYY-MM-DD") from None
    try:
        limit = min(5000, max(1, int(request.query_params.get("limit", "1000"))))
        after = int(request.query_params.get("cursor") or 0)
    except ValueError:
        raise SimError(422, "invalid_request", "limit and cursor must be integers") from None
    rows = sim.store.statement(provider, day, after, limit)
    lines = [
        {
            "payment_id": r["payment_id"],
            "provider_ref": r["provider_ref"],
            "wallet_account": r["wallet_account"],
            "amount": r["amount"],
            "kind": r["kind"],
            "at": datetime.fromtimestamp(r["at"], UTC).isoformat(),
        }
        for r in rows
    ]
    next_cursor = str(rows[-1]["seq"]) if len(rows) == limit else None
    return {"day": day, "lines": lines, "next_cursor": next_cursor}


# -- admin -------------------------------------------------------------------------------


def _admin(request: Request[Any, Any, Any]) -> SimState:
    sim = _sim(request)
    if sim.admin_token:
        supplied = request.headers.get("x-sim-admin-token", "")
        if not secrets.compare_digest(supplied.encode(), sim.admin_token.encode()):
            raise SimError(401, "unauthorized")
    return sim


@get("/_admin/health")
async def health(request: Request[Any, Any, Any]) -> dict[str, Any]:
    sim = _sim(request)
    return {"status": "ok", "providers": sorted(sim.providers), "store": str(sim.store.path)}


@get("/_admin/faults")
async def get_faults(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return _admin(request).faults.describe()


@put("/_admin/faults")
async def put_faults(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Body: fault fields to change, and optionally ``provider`` to change only its faults."""
    sim = _admin(request)
    body = await _body(request)
    provider = body.pop("provider", None)
    if provider is not None and provider not in sim.providers:
        raise SimError(404, "unknown_provider")
    try:
        sim.faults.update(body, provider)
    except (msgspec.ValidationError, ValueError) as exc:
        raise SimError(422, "invalid_faults", str(exc)) from None
    sim.buckets.clear()
    return sim.faults.describe()


@delete("/_admin/faults", status_code=200)
async def reset_faults(request: Request[Any, Any, Any]) -> dict[str, Any]:
    sim = _admin(request)
    sim.faults.reset()
    sim.buckets.clear()
    return sim.faults.describe()


@put("/_admin/config")
async def put_config(request: Request[Any, Any, Any]) -> dict[str, Any]:
    sim = _admin(request)
    body = await _body(request)
    if "webhook_base_url" in body:
        url = body["webhook_base_url"]
        if not isinstance(url, str) or (url and not url.startswith(("http://", "https://"))):
            raise SimError(422, "invalid_request", "webhook_base_url must be an http(s) URL or empty")
        sim.webhook_base_url = url.rstrip("/")
    if "webhook_batch" in body:
        size = body["webhook_batch"]
        if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= 1000:
            raise SimError(422, "invalid_request", "webhook_batch must be an integer from 1 to 1000")
        sim.webhook_batch = size
    return {"webhook_base_url": sim.webhook_base_url, "webhook_batch": sim.webhook_batch}


@post("/_admin/wallets", status_code=200)
async def put_wallet(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Create or change a wallet (tests arrange owners, names, closed accounts, limits)."""
    sim = _admin(request)
    body = await _body(request)
    provider = body.get("provider")
    if provider not in sim.providers:
        raise SimError(404, "unknown_provider")
    status = body.get("status", "active")
    if status not in ("active", "closed", "locked"):
        raise SimError(422, "invalid_request", "status must be active, closed or locked")
    name = body.get("owner_name")
    person = body.get("owner_person_id")
    if not isinstance(name, str) or not name or not isinstance(person, str) or not person:
        raise SimError(422, "invalid_request", "owner_person_id and owner_name are required")
    wallet = Wallet(
        provider=provider,
        wallet_account=_str_field(body, "wallet_account", _WALLET),
        owner_person_id=person,
        owner_name=name,
        status=status,
        txn_limit=int(body.get("txn_limit", 100_000_000)),
        balance=0,
        seed_kind=str(body.get("seed_kind", "owned")),
    )
    sim.store.upsert_wallet(wallet)
    stored = sim.store.wallet(wallet.provider, wallet.wallet_account)
    assert stored is not None
    return msgspec.to_builtins(stored.__dict__)  # type: ignore[no-any-return]


@get("/_admin/wallets")
async def list_wallets(request: Request[Any, Any, Any]) -> dict[str, Any]:
    sim = _admin(request)
    q = request.query_params
    wallets = sim.store.wallets(
        person_id=q.get("person_id"), provider=q.get("provider"), limit=min(10_000, int(q.get("limit", "1000")))
    )
    return {"wallets": [w.__dict__ for w in wallets], "counts": sim.store.count_wallets()}


@get("/_admin/{provider:str}/links/{link_id:str}/otp")
async def read_otp(request: Request[Any, Any, Any], provider: FromPath[str], link_id: FromPath[str]) -> dict[str, Any]:
    """What the wallet owner's phone shows: the consent OTP of a link (development only)."""
    sim = _admin(request)
    row = sim.store.link_otp(provider, link_id)
    if row is None:
        raise SimError(404, "otp_not_requested")
    return {
        "link_id": link_id,
        "wallet_account": row["wallet_account"],
        "otp": row["otp"],
        "expires_at": row["expires_at"],
        "attempts": row["attempts"],
        "confirmed": row["confirmed_at"] is not None,
    }


@get("/_admin/webhooks")
async def list_webhooks(request: Request[Any, Any, Any]) -> dict[str, Any]:
    sim = _admin(request)
    q = request.query_params
    return {"webhooks": sim.store.webhooks(q.get("provider"), q.get("payment_id"))}


@get("/_admin/stats")
async def stats(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return {"requests": dict(_admin(request).stats)}


# -- webhook delivery --------------------------------------------------------------------


async def deliver_due_webhooks(sim: SimState, http: httpx.AsyncClient, limit: int = 100) -> int:
    """POST due webhooks, signed; retry failures with backoff. Returns how many were tried.

    With ``webhook_batch`` > 1, up to that many events of one provider travel in one signed
    request ``{"events": [...]}`` (each event exactly as it would be sent alone).
    """
    if not sim.webhook_base_url:
        return 0
    batch = max(1, sim.webhook_batch)
    due = sim.store.due_webhooks(max(limit, batch * 8))
    delivered: list[tuple[int, str]] = []
    failed: list[tuple[int, str]] = []
    groups: dict[str, list[Any]] = {}
    for row in due:
        groups.setdefault(row["provider"], []).append(row)
    requests: list[tuple[str, list[Any]]] = []
    for provider, rows in groups.items():
        requests += [(provider, rows[i : i + batch]) for i in range(0, len(rows), batch)]

    async def send(provider: str, rows: list[Any]) -> None:
        ids = [row["id"] for row in rows]
        config = sim.providers.get(provider)
        if config is None:
            failed.extend((i, "unknown_provider") for i in ids)
            return
        if batch == 1:
            body = rows[0]["body"].encode()
        else:
            body = ('{"events":[' + ",".join(row["body"] for row in rows) + "]}").encode()
        headers = {"Content-Type": "application/json", **sign_webhook(config.webhook_secret, body)}
        try:
            r = await http.post(f"{sim.webhook_base_url}/{provider}/payout-events", content=body, headers=headers)
        except httpx.HTTPError as exc:
            failed.extend((i, type(exc).__name__) for i in ids)
            return
        (delivered if r.status_code < 300 else failed).extend((i, str(r.status_code)) for i in ids)

    await asyncio.gather(*(send(provider, rows) for provider, rows in requests))
    sim.store.webhooks_tried(delivered, failed)
    return len(due)


async def _webhook_loop(sim: SimState) -> None:
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0, connect=2.0)) as http:
        while True:
            try:
                n = await deliver_due_webhooks(sim, http)
            except Exception:  # keep delivering whatever one batch did
                log.exception("webhook delivery failed")
                n = 0
            if n == 0:
                await asyncio.sleep(0.2)


def create_sim_app(state: SimState) -> Litestar:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.sim = state
        task = asyncio.create_task(_webhook_loop(state))
        started = time.time()
        log.info("provider simulator started", extra={"providers": sorted(state.providers), "at": started})
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            state.store.close()

    return Litestar(
        route_handlers=[
            inquiry,
            link_otp,
            link_confirm,
            payout_single,
            payout_bulk,
            payout_status,
            statement,
            health,
            get_faults,
            put_faults,
            reset_faults,
            put_config,
            put_wallet,
            list_wallets,
            read_otp,
            list_webhooks,
            stats,
        ],
        lifespan=[lifespan],
        exception_handlers={Exception: _error_response},
        openapi_config=None,
        debug=False,
        logging_config=None,
    )
