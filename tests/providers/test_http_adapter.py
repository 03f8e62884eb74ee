"""The HTTP provider adapter against the running simulator: answers, errors, idempotency, faults."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
import redis.asyncio as aioredis

from payments.providers import (
    PayoutItem,
    ProviderError,
    ProviderRateLimited,
    ProviderRegistry,
    ProviderRejected,
    ProviderUnavailable,
    UnknownProvider,
    provider_for,
)
from payments.providers.adapters.http import HttpWalletProvider
from payments.providers.ratelimit import ProviderRateLimiter
from tests.support.provider_sim import ProviderSim, unique_wallet_account


def _wallet(sim: ProviderSim, provider: str = "momo", **kw: object) -> str:
    account = unique_wallet_account()
    sim.add_wallet(provider, account, "001090012345", "NGUYEN VAN AN", **kw)  # type: ignore[arg-type]
    return account


def _item(account: str, amount: int = 500_000) -> PayoutItem:
    return PayoutItem(
        payment_id=f"pay-{unique_wallet_account()}", wallet_account=account, amount=amount, description=""
    )


async def _statement_ids(registry: ProviderRegistry, code: str = "momo") -> list[str]:
    provider = provider_for(code, registry)
    return [line.payment_id async for line in provider.statement(datetime.now(UTC).date())]


def _adapter(
    registry: ProviderRegistry, redis: aioredis.Redis, code: str = "momo", **changes: object
) -> HttpWalletProvider:
    config = dataclasses.replace(registry.config(code), **changes)  # type: ignore[arg-type]
    limiter = ProviderRateLimiter(
        redis, f"{code}-test-{unique_wallet_account()}", rate=1000, burst=1000, max_wait=1, fallback_share=0.1
    )
    return HttpWalletProvider(config, limiter)


async def test_inquiry_returns_the_owner(provider_sim: ProviderSim, provider_registry: ProviderRegistry) -> None:
    account = _wallet(provider_sim)
    inquiry = await provider_for("momo", provider_registry).inquire(account)
    assert (inquiry.owner_person_id, inquiry.owner_name, inquiry.status) == ("001090012345", "NGUYEN VAN AN", "active")


async def test_inquiry_of_an_unknown_account_is_rejected(
    provider_sim: ProviderSim, provider_registry: ProviderRegistry
) -> None:
    with pytest.raises(ProviderRejected) as err:
        await provider_for("zalopay", provider_registry).inquire(unique_wallet_account())
    assert err.value.reason == "account_not_found"


async def test_an_unknown_provider_code_is_refused(provider_registry: ProviderRegistry) -> None:
    with pytest.raises(UnknownProvider):
        provider_for("shopeepay", provider_registry)


async def test_wrong_credentials_are_a_provider_error(
    provider_sim: ProviderSim, provider_registry: ProviderRegistry, redis: aioredis.Redis
) -> None:
    adapter = _adapter(provider_registry, redis, api_key="not-the-key")
    try:
        with pytest.raises(ProviderError) as err:
            await adapter.inquire(unique_wallet_account())
        assert not isinstance(err.value, ProviderRejected | ProviderUnavailable)
    finally:
        await adapter.aclose()


async def test_a_payout_is_idempotent_on_our_payment_id(
    provider_sim: ProviderSim, provider_registry: ProviderRegistry
) -> None:
    provider = provider_for("momo", provider_registry)
    item = _item(_wallet(provider_sim))
    (first,) = await provider.payout([item])
    (again,) = await provider.payout([item])
    assert first.outcome == again.outcome == "succeeded"
    assert first.provider_ref == again.provider_ref
    assert (await _statement_ids(provider_registry)).count(item.payment_id) == 1


async def test_reusing_a_payment_id_for_another_payout_fails_it(
    provider_sim: ProviderSim, provider_registry: ProviderRegistry
) -> None:
    provider = provider_for("momo", provider_registry)
    item = _item(_wallet(provider_sim))
    await provider.payout([item])
    (clash,) = await provider.payout([dataclasses.replace(item, amount=item.amount + 1)])
    assert (clash.outcome, clash.reason) == ("failed", "payment_id_conflict")


async def test_bulk_payout_reports_each_item(provider_sim: ProviderSim, provider_registry: ProviderRegistry) -> None:
    provider = provider_for("vnptmoney", provider_registry)
    good = _item(_wallet(provider_sim, "vnptmoney"))
    closed = _item(_wallet(provider_sim, "vnptmoney", status="closed"))
    over_limit = _item(_wallet(provider_sim, "vnptmoney", txn_limit=100_000), amount=200_000)
    missing = _item(unique_wallet_account())
    results = {r.payment_id: r for r in await provider.payout([good, closed, over_limit, missing])}
    assert results[good.payment_id].outcome == "succeeded"
    assert (results[closed.payment_id].outcome, results[closed.payment_id].reason) == ("failed", "account_closed")
    assert results[over_limit.payment_id].reason == "limit_exceeded"
    assert results[missing.payment_id].reason == "account_not_found"
    paid = set(await _statement_ids(provider_registry, "vnptmoney"))
    assert good.payment_id in paid
    assert not paid & {closed.payment_id, over_limit.payment_id, missing.payment_id}


async def test_bulk_payouts_are_split_by_bulk_size(
    provider_sim: ProviderSim, provider_registry: ProviderRegistry, redis: aioredis.Redis
) -> None:
    adapter = _adapter(provider_registry, redis, bulk_size=2)
    account = _wallet(provider_sim)
    try:
        results = await adapter.payout([_item(account, 1000 + i) for i in range(5)])
    finally:
        await adapter.aclose()
    assert [r.outcome for r in results] == ["succeeded"] * 5


async def test_status_of_an_unknown_payment_is_not_found(
    provider_sim: ProviderSim, provider_registry: ProviderRegistry
) -> None:
    status = await provider_for("momo", provider_registry).payout_status("never-sent")
    assert status.state == "not_found"


async def test_injected_rejections_fail_payouts(provider_sim: ProviderSim, provider_registry: ProviderRegistry) -> None:
    provider_sim.set_faults(reject_rate=1.0, reject_reason="limit_exceeded")
    (result,) = await provider_for("momo", provider_registry).payout([_item(_wallet(provider_sim))])
    assert (result.outcome, result.reason) == ("failed", "limit_exceeded")


async def test_5xx_means_unavailable(provider_sim: ProviderSim, provider_registry: ProviderRegistry) -> None:
    provider_sim.set_faults(error_rate=1.0)
    with pytest.raises(ProviderUnavailable):
        await provider_for("momo", provider_registry).inquire(unique_wallet_account())


async def test_429_means_rate_limited(provider_sim: ProviderSim, provider_registry: ProviderRegistry) -> None:
    provider_sim.set_faults(provider="zalopay", throttle_rate=1.0)
    with pytest.raises(ProviderRateLimited):
        await provider_for("zalopay", provider_registry).inquire(unique_wallet_account())
    # Only that provider is throttled.
    with pytest.raises(ProviderRejected):
        await provider_for("momo", provider_registry).inquire(unique_wallet_account())


async def test_a_slow_provider_times_out_as_unavailable(
    provider_sim: ProviderSim, provider_registry: ProviderRegistry, redis: aioredis.Redis
) -> None:
    provider_sim.set_faults(latency_ms=1500, operations=["inquiry"])
    adapter = _adapter(provider_registry, redis, timeout_seconds=0.3)
    try:
        with pytest.raises(ProviderUnavailable):
            await adapter.inquire(unique_wallet_account())
    finally:
        await adapter.aclose()


async def test_a_lost_response_leaves_a_payout_made_and_queryable(
    provider_sim: ProviderSim, provider_registry: ProviderRegistry, redis: aioredis.Redis
) -> None:
    provider_sim.set_faults(timeout_after_commit_rate=1.0, hang_ms=3000, operations=["payout"])
    adapter = _adapter(provider_registry, redis, timeout_seconds=0.5)
    item = _item(_wallet(provider_sim))
    try:
        with pytest.raises(ProviderUnavailable):
            await adapter.payout([item])
        status = await adapter.payout_status(item.payment_id)
    finally:
        await adapter.aclose()
    assert (status.state, status.amount) == ("succeeded", item.amount)
    assert item.payment_id in await _statement_ids(provider_registry)


async def test_delayed_settlement_is_pending_until_it_settles(
    provider_sim: ProviderSim, provider_registry: ProviderRegistry
) -> None:
    provider_sim.set_faults(settle_delay_ms=60_000)
    provider = provider_for("momo", provider_registry)
    item = _item(_wallet(provider_sim))
    (result,) = await provider.payout([item])
    assert result.outcome == "pending"
    assert (await provider.payout_status(item.payment_id)).state == "pending"
    # Not on today's statement before it settles.
    assert item.payment_id not in await _statement_ids(provider_registry)
