"""Payout-result webhooks: the simulator signs and delivers them, with duplicates, delays and drops."""

from __future__ import annotations

import json
import time

import pytest

from payments.providers import PayoutItem, ProviderRegistry, WebhookSignatureError, provider_for, verify_webhook
from payments.providers.signing import SIGNATURE_HEADER, sign_webhook
from tests.support.provider_sim import ProviderSim, WebhookCapture, unique_wallet_account

_BODY = json.dumps({"event_id": "e1", "payment_id": "p1", "state": "succeeded"}).encode()


async def _pay(sim: ProviderSim, registry: ProviderRegistry) -> str:
    account = unique_wallet_account()
    sim.add_wallet("momo", account, "001090012345", "NGUYEN VAN AN")
    payment_id = f"pay-{unique_wallet_account()}"
    await provider_for("momo", registry).payout([PayoutItem(payment_id, account, 250_000, "Tro cap")])
    return payment_id


async def test_a_payout_result_is_delivered_signed_to_the_callback_endpoint(
    provider_sim: ProviderSim, provider_registry: ProviderRegistry
) -> None:
    with WebhookCapture() as capture:
        provider_sim.set_webhook_base_url(capture.url)
        payment_id = await _pay(provider_sim, provider_registry)
        (hook,) = capture.wait_for(1, payment_id=payment_id)
    assert hook.path == "/v1/providers/momo/payout-events"
    event = json.loads(hook.body)
    assert (event["payment_id"], event["state"], event["type"]) == (payment_id, "succeeded", "payout.result")
    verify_webhook(provider_registry.config("momo").webhook_secret, hook.body, hook.headers[SIGNATURE_HEADER])


def test_a_tampered_body_does_not_verify() -> None:
    header = sign_webhook("secret", _BODY)[SIGNATURE_HEADER]
    with pytest.raises(WebhookSignatureError):
        verify_webhook("secret", _BODY.replace(b"succeeded", b"failed"), header)


def test_an_old_signature_does_not_verify() -> None:
    header = sign_webhook("secret", _BODY, timestamp=int(time.time()) - 3600)[SIGNATURE_HEADER]
    with pytest.raises(WebhookSignatureError):
        verify_webhook("secret", _BODY, header)


def test_another_providers_secret_does_not_verify() -> None:
    header = sign_webhook("zalopay-secret", _BODY)[SIGNATURE_HEADER]
    with pytest.raises(WebhookSignatureError):
        verify_webhook("momo-secret", _BODY, header)


def test_any_signature_of_a_rotation_verifies() -> None:
    old = sign_webhook("old", _BODY)[SIGNATURE_HEADER]
    new = sign_webhook("new", _BODY)[SIGNATURE_HEADER]
    verify_webhook("new", _BODY, old + "," + new.split(",")[1])


async def test_duplicate_webhooks_fault_delivers_the_same_event_twice(
    provider_sim: ProviderSim, provider_registry: ProviderRegistry
) -> None:
    provider_sim.set_faults(webhook_duplicate_rate=1.0)
    with WebhookCapture() as capture:
        provider_sim.set_webhook_base_url(capture.url)
        payment_id = await _pay(provider_sim, provider_registry)
        hooks = capture.wait_for(2, payment_id=payment_id)
    assert len(hooks) == 2
    assert json.loads(hooks[0].body)["event_id"] == json.loads(hooks[1].body)["event_id"]


async def test_dropped_webhooks_are_never_sent(provider_sim: ProviderSim, provider_registry: ProviderRegistry) -> None:
    provider_sim.set_faults(webhook_drop_rate=1.0)
    with WebhookCapture() as capture:
        provider_sim.set_webhook_base_url(capture.url)
        payment_id = await _pay(provider_sim, provider_registry)
        assert capture.wait_for(1, payment_id=payment_id, timeout=1.0) == []
    (record,) = provider_sim.webhooks(payment_id=payment_id)
    assert record["dropped"] == 1


async def test_late_webhooks_are_held_back(provider_sim: ProviderSim, provider_registry: ProviderRegistry) -> None:
    provider_sim.set_faults(webhook_late_rate=1.0, webhook_late_ms=120_000)
    with WebhookCapture() as capture:
        provider_sim.set_webhook_base_url(capture.url)
        payment_id = await _pay(provider_sim, provider_registry)
        assert capture.wait_for(1, payment_id=payment_id, timeout=1.0) == []
    (record,) = provider_sim.webhooks(payment_id=payment_id)
    assert record["due_at"] > time.time() + 100


async def test_batched_webhooks_carry_several_events_in_one_signed_request(
    provider_sim: ProviderSim, provider_registry: ProviderRegistry
) -> None:
    accounts = [unique_wallet_account() for _ in range(3)]
    for account in accounts:
        provider_sim.add_wallet("momo", account, "001090012345", "NGUYEN VAN AN")
    ids = [f"pay-{unique_wallet_account()}" for _ in accounts]
    provider_sim._ok(provider_sim.admin.put(f"{provider_sim.url}/_admin/config", json={"webhook_batch": 1000}))
    try:
        provider_sim.set_webhook_base_url("")  # queue them while paying, then deliver together
        await provider_for("momo", provider_registry).payout(
            [PayoutItem(i, a, 100_000, "Tro cap") for i, a in zip(ids, accounts, strict=True)]
        )
        with WebhookCapture() as capture:
            provider_sim.set_webhook_base_url(capture.url)
            deadline = time.time() + 10
            while time.time() < deadline:
                mine = [
                    e
                    for h in capture.wait_for(1, timeout=0.5)
                    for e in json.loads(h.body).get("events", [])
                    if e["payment_id"] in ids
                ]
                if len(mine) >= 3:
                    break
            hooks = [h for h in capture.received if any(e["payment_id"] in ids for e in json.loads(h.body)["events"])]
    finally:
        provider_sim._ok(provider_sim.admin.put(f"{provider_sim.url}/_admin/config", json={"webhook_batch": 1}))
    (hook,) = hooks
    assert hook.path == "/v1/providers/momo/payout-events"
    events = json.loads(hook.body)["events"]
    assert sorted(e["payment_id"] for e in events if e["payment_id"] in ids) == sorted(ids)
    assert {e["state"] for e in events if e["payment_id"] in ids} == {"succeeded"}
    verify_webhook(provider_registry.config("momo").webhook_secret, hook.body, hook.headers[SIGNATURE_HEADER])
