"""Linking an e-wallet, driven over HTTP as the app does, against the running provider simulator."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from payments.providers import PROVIDERS, ProviderRegistry
from tests.linking.conftest import Citizen, drain
from tests.support.provider_sim import ProviderSim, unique_wallet_account
from tests.support.settings import replaced
from wallet_api.worker_context import WorkerContext

_URL = "/v1/me/wallet-links"


async def _request(
    client: httpx.AsyncClient, citizen: Citizen, wallet: str, provider: str = "momo", **extra: Any
) -> httpx.Response:
    return await client.post(
        _URL, json={"provider": provider, "wallet_account": wallet, **extra}, headers=citizen.headers
    )


async def _state(client: httpx.AsyncClient, citizen: Citizen, link_id: str) -> dict[str, Any]:
    r = await client.get(f"{_URL}/{link_id}", headers=citizen.headers)
    assert r.status_code == 200
    return dict(r.json())


async def _link_until_otp(
    client: httpx.AsyncClient,
    citizen: Citizen,
    sim: ProviderSim,
    worker: WorkerContext,
    *,
    owner_name: str | None = None,
    provider: str = "momo",
    **extra: Any,
) -> tuple[str, str]:
    wallet = unique_wallet_account()
    sim.add_wallet(provider, wallet, citizen.person_id, owner_name or citizen.full_name)
    r = await _request(client, citizen, wallet, provider, **extra)
    assert r.status_code == 202, r.text
    link_id = r.json()["id"]
    await drain(worker)
    return link_id, wallet


async def _link(
    client: httpx.AsyncClient, citizen: Citizen, sim: ProviderSim, worker: WorkerContext, **kw: Any
) -> dict[str, Any]:
    link_id, _ = await _link_until_otp(client, citizen, sim, worker, **kw)
    provider = kw.get("provider", "momo")
    r = await client.post(f"{_URL}/{link_id}/otp", json={"otp": sim.otp(provider, link_id)}, headers=citizen.headers)
    assert r.status_code == 202, r.text
    await drain(worker)
    return await _state(client, citizen, link_id)


async def _topics(db: asyncpg.Pool, topic: str, link_id: str) -> list[dict[str, Any]]:
    # One row per consumer of the topic: the same event may appear more than once.
    rows = await db.fetch("SELECT payload FROM outbox WHERE topic = $1 AND payload->>'link_id' = $2", topic, link_id)
    unique = {tuple(sorted(r["payload"].items())) for r in rows}
    return [dict(u) for u in unique]


async def test_a_request_is_accepted_at_once_and_processed_by_workers(
    client: httpx.AsyncClient, make_citizen: Any, provider_sim: ProviderSim, worker: WorkerContext
) -> None:
    citizen = await make_citizen()
    wallet = unique_wallet_account()
    provider_sim.add_wallet("momo", wallet, citizen.person_id, "NGUYEN THI HONG NHUNG")
    r = await _request(client, citizen, wallet)
    assert r.status_code == 202
    assert r.json()["state"] == "requested"
    assert r.headers["location"] == f"{_URL}/{r.json()['id']}"
    await drain(worker)
    assert (await _state(client, citizen, r.json()["id"]))["state"] == "awaiting_otp"


async def test_a_confirmed_link_becomes_the_payout_wallet_after_cooling_off(
    client: httpx.AsyncClient,
    make_citizen: Any,
    provider_sim: ProviderSim,
    worker: WorkerContext,
    db: asyncpg.Pool,
) -> None:
    citizen = await make_citizen()
    link = await _link(client, citizen, provider_sim, worker, owner_name="NGUYEN THI HONG NHUNG")
    assert (link["state"], link["is_default"], link["reason"]) == ("active", True, None)
    hold = datetime.fromisoformat(link["payout_hold_until"])
    assert hold > datetime.now(UTC) + timedelta(hours=71)
    changed = await _topics(db, "wallet.payout_changed", link["id"])
    assert [c["account_id"] for c in changed] == [str(citizen.account_id)]
    states = {e["state"] for e in await _topics(db, "wallet.link_state", link["id"])}
    assert {"awaiting_otp", "active"} <= states
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'wallet_link.active'") == 1


async def test_a_wallet_of_another_person_is_refused(
    client: httpx.AsyncClient, make_citizen: Any, provider_sim: ProviderSim, worker: WorkerContext
) -> None:
    citizen = await make_citizen()
    wallet = unique_wallet_account()
    provider_sim.add_wallet("zalopay", wallet, "001190999999", citizen.full_name)
    r = await _request(client, citizen, wallet, "zalopay")
    await drain(worker)
    link = await _state(client, citizen, r.json()["id"])
    assert (link["state"], link["reason"]) == ("refused", "owner_id_mismatch")


@pytest.mark.parametrize(
    ("wallet_name", "state", "reason"),
    [
        ("NGUYEN THI HONG NHUNG", "awaiting_otp", None),
        ("  nguyễn   THỊ hồng nhung ", "awaiting_otp", None),
        ("Nguyen Thi Hong Nhung", "awaiting_otp", None),
        ("NGUYEN THI NHUNG", "refused", "owner_name_mismatch"),
        ("NGUYEN THI HONG NHUNH", "refused", "owner_name_mismatch"),
        ("HONG NHUNG NGUYEN THI", "refused", "owner_name_mismatch"),
    ],
)
async def test_the_owner_name_must_match_the_registry_name(
    client: httpx.AsyncClient,
    make_citizen: Any,
    provider_sim: ProviderSim,
    worker: WorkerContext,
    wallet_name: str,
    state: str,
    reason: str | None,
) -> None:
    citizen = await make_citizen("Nguyễn Thị Hồng Nhung")
    link_id, _ = await _link_until_otp(client, citizen, provider_sim, worker, owner_name=wallet_name)
    link = await _state(client, citizen, link_id)
    assert (link["state"], link["reason"]) == (state, reason)


async def test_a_registry_name_with_d_stroke_matches_the_plain_d(
    client: httpx.AsyncClient, make_citizen: Any, provider_sim: ProviderSim, worker: WorkerContext
) -> None:
    citizen = await make_citizen("Đặng Văn Đức")
    link_id, _ = await _link_until_otp(client, citizen, provider_sim, worker, owner_name="DANG VAN DUC")
    assert (await _state(client, citizen, link_id))["state"] == "awaiting_otp"


@pytest.mark.parametrize(("status", "reason"), [("closed", "wallet_closed"), ("locked", "wallet_locked")])
async def test_a_closed_or_locked_wallet_is_refused(
    client: httpx.AsyncClient,
    make_citizen: Any,
    provider_sim: ProviderSim,
    worker: WorkerContext,
    status: str,
    reason: str,
) -> None:
    citizen = await make_citizen()
    wallet = unique_wallet_account()
    provider_sim.add_wallet("momo", wallet, citizen.person_id, citizen.full_name, status=status)
    r = await _request(client, citizen, wallet)
    await drain(worker)
    assert (await _state(client, citizen, r.json()["id"]))["reason"] == reason


async def test_an_unknown_wallet_is_refused(
    client: httpx.AsyncClient, make_citizen: Any, provider_sim: ProviderSim, worker: WorkerContext
) -> None:
    citizen = await make_citizen()
    r = await _request(client, citizen, unique_wallet_account())
    await drain(worker)
    link = await _state(client, citizen, r.json()["id"])
    assert (link["state"], link["reason"]) == ("refused", "wallet_not_found")


async def test_a_wrong_otp_can_be_retyped_then_the_link_is_refused(
    client: httpx.AsyncClient, make_citizen: Any, provider_sim: ProviderSim, worker: WorkerContext
) -> None:
    citizen = await make_citizen()
    link_id, _ = await _link_until_otp(client, citizen, provider_sim, worker)
    right = provider_sim.otp("momo", link_id)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    reasons = []
    for _ in range(3):
        r = await client.post(f"{_URL}/{link_id}/otp", json={"otp": wrong}, headers=citizen.headers)
        assert r.status_code == 202
        await drain(worker)
        link = await _state(client, citizen, link_id)
        reasons.append((link["state"], link["reason"]))
    assert reasons == [("awaiting_otp", "otp_invalid"), ("awaiting_otp", "otp_invalid"), ("refused", "otp_failed")]
    r = await client.post(f"{_URL}/{link_id}/otp", json={"otp": right}, headers=citizen.headers)
    assert r.status_code == 409


async def test_an_otp_is_refused_unless_the_link_waits_for_one(
    client: httpx.AsyncClient, make_citizen: Any, provider_sim: ProviderSim
) -> None:
    citizen = await make_citizen()
    wallet = unique_wallet_account()
    provider_sim.add_wallet("momo", wallet, citizen.person_id, citizen.full_name)
    r = await _request(client, citizen, wallet)
    r = await client.post(f"{_URL}/{r.json()['id']}/otp", json={"otp": "123456"}, headers=citizen.headers)
    assert r.status_code == 409
    assert r.json()["type"].endswith("/wallet-link-state")


async def test_a_slow_provider_still_links(
    client: httpx.AsyncClient, make_citizen: Any, provider_sim: ProviderSim, worker: WorkerContext
) -> None:
    provider_sim.set_faults(latency_ms=300, latency_sigma=0.3)
    link = await _link(client, await make_citizen(), provider_sim, worker)
    assert link["state"] == "active"


async def test_a_failing_provider_is_retried_until_it_answers(
    client: httpx.AsyncClient,
    make_citizen: Any,
    provider_sim: ProviderSim,
    worker: WorkerContext,
    db: asyncpg.Pool,
) -> None:
    citizen = await make_citizen()
    provider_sim.set_faults(error_rate=1.0)
    link_id, _ = await _link_until_otp(client, citizen, provider_sim, worker)
    assert (await _state(client, citizen, link_id))["state"] == "inquiring"
    pending = await db.fetchrow("SELECT attempts, last_error FROM outbox WHERE consumer = 'linking-provider-calls'")
    assert pending["last_error"] == "ProviderAnswered"  # a 503 of its own: unknown outcome, retried
    provider_sim.reset_faults()
    await db.execute("UPDATE outbox SET available_at = now() WHERE consumer = 'linking-provider-calls'")
    await drain(worker)
    assert (await _state(client, citizen, link_id))["state"] == "awaiting_otp"


async def test_a_provider_that_never_recovers_fails_the_link(
    client: httpx.AsyncClient,
    make_citizen: Any,
    provider_sim: ProviderSim,
    worker: WorkerContext,
    db: asyncpg.Pool,
) -> None:
    citizen = await make_citizen()
    provider_sim.set_faults(error_rate=1.0)
    link_id, _ = await _link_until_otp(client, citizen, provider_sim, worker)
    await db.execute("UPDATE outbox SET available_at = now(), attempts = 29 WHERE consumer = 'linking-provider-calls'")
    await drain(worker)
    link = await _state(client, citizen, link_id)
    assert (link["state"], link["reason"]) == ("failed", "provider_unavailable")


async def test_a_rate_limited_provider_defers_the_work(
    client: httpx.AsyncClient,
    make_citizen: Any,
    provider_sim: ProviderSim,
    worker: WorkerContext,
    db: asyncpg.Pool,
) -> None:
    citizen = await make_citizen()
    provider_sim.set_faults(throttle_rate=1.0)
    link_id, _ = await _link_until_otp(client, citizen, provider_sim, worker)
    row = await db.fetchrow(
        "SELECT last_error, available_at > now() AS later FROM outbox WHERE consumer = 'linking-provider-calls'"
    )
    assert (row["last_error"], row["later"]) == ("rate_limited", True)
    assert (await _state(client, citizen, link_id))["state"] == "inquiring"


async def test_a_lost_confirmation_response_is_retried_idempotently(
    client: httpx.AsyncClient,
    make_citizen: Any,
    provider_sim: ProviderSim,
    worker: WorkerContext,
    db: asyncpg.Pool,
    provider_registry: ProviderRegistry,
    redis: aioredis.Redis,
) -> None:
    citizen = await make_citizen()
    link_id, _ = await _link_until_otp(client, citizen, provider_sim, worker)
    provider_sim.set_faults(timeout_after_commit_rate=1.0, hang_ms=15_000, operations=["link_confirm"])
    impatient = [{**dataclasses.asdict(c), "timeout_seconds": 0.5} for c in provider_registry.configs.values()]
    registry = ProviderRegistry(replaced(worker.settings, providers=json.dumps(impatient)), redis)
    try:
        otp = provider_sim.otp("momo", link_id)
        await client.post(f"{_URL}/{link_id}/otp", json={"otp": otp}, headers=citizen.headers)
        await drain(worker.replaced(services={PROVIDERS: registry}))
        # The provider confirmed, but we never heard: still confirming, event to retry.
        assert (await _state(client, citizen, link_id))["state"] == "confirming"
    finally:
        await registry.aclose()
    provider_sim.reset_faults()
    await db.execute("UPDATE outbox SET available_at = now() WHERE consumer = 'linking-provider-calls'")
    await drain(worker)
    assert (await _state(client, citizen, link_id))["state"] == "active"


async def test_linking_the_same_wallet_twice_is_a_conflict(
    client: httpx.AsyncClient, make_citizen: Any, provider_sim: ProviderSim
) -> None:
    citizen = await make_citizen()
    wallet = unique_wallet_account()
    provider_sim.add_wallet("momo", wallet, citizen.person_id, citizen.full_name)
    first = await _request(client, citizen, wallet)
    second = await _request(client, citizen, wallet)
    assert second.status_code == 409
    assert second.json()["type"].endswith("/wallet-link-exists")
    assert second.json()["link_id"] == first.json()["id"]


async def test_a_retried_request_with_its_idempotency_key_names_the_same_link(
    client: httpx.AsyncClient, make_citizen: Any, provider_sim: ProviderSim, db: asyncpg.Pool
) -> None:
    # The answer holds the wallet number (personal data), so it is not stored for replay
    # (issue 14, item 1): the retry runs again and names the link the first request made.
    citizen = await make_citizen()
    wallet = unique_wallet_account()
    headers = {**citizen.headers, "Idempotency-Key": "link-once"}
    body = {"provider": "momo", "wallet_account": wallet}
    first = await client.post(_URL, json=body, headers=headers)
    again = await client.post(_URL, json=body, headers=headers)
    assert again.status_code == 409
    assert again.json()["link_id"] == first.json()["id"]
    assert await db.fetchval("SELECT count(*) FROM wallet_links") == 1
    assert wallet not in str(await db.fetch("SELECT * FROM idempotency_keys"))


async def test_changing_the_payout_wallet_starts_a_new_cooling_off(
    client: httpx.AsyncClient,
    make_citizen: Any,
    provider_sim: ProviderSim,
    worker: WorkerContext,
    db: asyncpg.Pool,
) -> None:
    citizen = await make_citizen()
    first = await _link(client, citizen, provider_sim, worker)
    second = await _link(client, citizen, provider_sim, worker, provider="vnptmoney", make_default=False)
    assert (second["state"], second["is_default"], second["payout_hold_until"]) == ("active", False, None)
    await db.execute("UPDATE wallet_links SET payout_hold_until = now() - interval '1 day'")
    r = await client.post(f"{_URL}/{second['id']}/default", headers=citizen.headers)
    assert r.status_code == 200
    assert r.json()["is_default"] is True
    assert datetime.fromisoformat(r.json()["payout_hold_until"]) > datetime.now(UTC) + timedelta(hours=71)
    assert (await _state(client, citizen, first["id"]))["is_default"] is False
    assert len(await _topics(db, "wallet.payout_changed", second["id"])) == 1
    # Choosing the wallet that already is the payout wallet changes nothing.
    again = await client.post(f"{_URL}/{second['id']}/default", headers=citizen.headers)
    assert again.json()["payout_hold_until"] == r.json()["payout_hold_until"]


async def test_a_citizen_can_unlink_at_any_time(
    client: httpx.AsyncClient, make_citizen: Any, provider_sim: ProviderSim, worker: WorkerContext
) -> None:
    citizen = await make_citizen()
    active = await _link(client, citizen, provider_sim, worker)
    pending_id, _ = await _link_until_otp(client, citizen, provider_sim, worker, provider="zalopay")
    for link_id in (active["id"], pending_id):
        r = await client.delete(f"{_URL}/{link_id}", headers=citizen.headers)
        assert r.status_code == 200
        assert (r.json()["state"], r.json()["is_default"]) == ("unlinked", False)
    again = await client.delete(f"{_URL}/{active['id']}", headers=citizen.headers)
    assert again.json()["state"] == "unlinked"
    r = await client.post(f"{_URL}/{pending_id}/otp", json={"otp": "123456"}, headers=citizen.headers)
    assert r.status_code == 409


async def test_an_unlinked_wallet_can_be_linked_again(
    client: httpx.AsyncClient, make_citizen: Any, provider_sim: ProviderSim, worker: WorkerContext
) -> None:
    citizen = await make_citizen()
    link = await _link(client, citizen, provider_sim, worker)
    await client.delete(f"{_URL}/{link['id']}", headers=citizen.headers)
    r = await _request(client, citizen, link["wallet_account"])
    assert r.status_code == 202


async def test_a_wallet_linked_to_two_citizens_is_flagged_for_review(
    client: httpx.AsyncClient,
    make_citizen: Any,
    provider_sim: ProviderSim,
    worker: WorkerContext,
    db: asyncpg.Pool,
) -> None:
    first, second = await make_citizen(), await make_citizen("Trần Văn Bình")
    link = await _link(client, first, provider_sim, worker)
    # The wallet now answers as the second citizen's (a recycled phone number, a sold SIM).
    provider_sim.add_wallet("momo", link["wallet_account"], second.person_id, "TRAN VAN BINH")
    r = await _request(client, second, link["wallet_account"])
    await drain(worker)
    theirs = await _state(client, second, r.json()["id"])
    assert (theirs["state"], theirs["reason"]) == ("under_review", "wallet_linked_to_another_citizen")
    mine = await _state(client, first, link["id"])
    assert (mine["state"], mine["is_default"], mine["reason"]) == (
        "under_review",
        False,
        "wallet_linked_to_another_citizen",
    )
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'wallet_link.flagged_many_to_one'") == 1


async def test_linking_needs_level_two(client: httpx.AsyncClient, make_citizen: Any) -> None:
    citizen = await make_citizen(level=1)
    r = await _request(client, citizen, unique_wallet_account())
    assert r.status_code == 403
    assert r.json()["type"].endswith("/identification-level")


async def test_linking_reads_the_level_from_the_account_not_the_token(
    client: httpx.AsyncClient, db: asyncpg.Pool, make_citizen: Any
) -> None:
    citizen = await make_citizen(level=2)
    await db.execute("UPDATE accounts SET level = 1 WHERE id = $1", citizen.account_id)
    r = await _request(client, citizen, unique_wallet_account())
    assert r.status_code == 403
    assert r.json()["type"].endswith("/identification-level") and r.json()["required_level"] == 2
    assert await db.fetchval("SELECT count(*) FROM wallet_links") == 0


async def test_linking_needs_a_fresh_device_signature(client: httpx.AsyncClient, make_citizen: Any) -> None:
    citizen = await make_citizen(fresh=False)
    r = await _request(client, citizen, unique_wallet_account())
    assert r.status_code == 401
    assert r.json()["type"].endswith("/step-up-required")


async def test_an_unknown_provider_is_refused(client: httpx.AsyncClient, make_citizen: Any) -> None:
    r = await _request(client, await make_citizen(), unique_wallet_account(), "shopeepay")
    assert r.status_code == 422
    assert r.json()["type"].endswith("/unknown-provider")


async def test_a_citizen_sees_only_their_own_links(
    client: httpx.AsyncClient, make_citizen: Any, provider_sim: ProviderSim
) -> None:
    owner, other = await make_citizen(), await make_citizen()
    r = await _request(client, owner, unique_wallet_account())
    assert (await client.get(f"{_URL}/{r.json()['id']}", headers=other.headers)).status_code == 404
    assert (await client.delete(f"{_URL}/{r.json()['id']}", headers=other.headers)).status_code == 404
    assert (await client.get(_URL, headers=other.headers)).json() == []


async def test_the_providers_are_listed(
    client: httpx.AsyncClient, make_citizen: Any, provider_sim: ProviderSim
) -> None:
    r = await client.get("/v1/wallet-providers", headers=(await make_citizen()).headers)
    assert {p["code"] for p in r.json()} == {"momo", "zalopay", "vnptmoney", "viettelmoney"}


async def test_an_officer_reviews_a_flagged_wallet(
    client: httpx.AsyncClient,
    make_citizen: Any,
    provider_sim: ProviderSim,
    worker: WorkerContext,
    mint: Any,
) -> None:
    first, second = await make_citizen(), await make_citizen("Trần Văn Bình")
    link = await _link(client, first, provider_sim, worker)
    provider_sim.add_wallet("momo", link["wallet_account"], second.person_id, "TRAN VAN BINH")
    theirs = (await _request(client, second, link["wallet_account"])).json()["id"]
    await drain(worker)
    officer = await mint(kind="officer", subject=str(uuid.uuid4()), org_id="platform", roles=frozenset({"admin"}))
    listed = await client.get("/v1/admin/wallet-links/under-review", headers=officer)
    assert {item["id"] for item in listed.json()} == {link["id"], theirs}
    closed = await client.post(
        f"/v1/admin/wallet-links/{link['id']}/review", json={"decision": "close"}, headers=officer
    )
    assert (closed.json()["state"], closed.json()["reason"]) == ("refused", "closed_after_review")
    kept = await client.post(f"/v1/admin/wallet-links/{theirs}/review", json={"decision": "reinstate"}, headers=officer)
    assert kept.json()["state"] == "active"
    again = await client.post(f"/v1/admin/wallet-links/{theirs}/review", json={"decision": "close"}, headers=officer)
    assert again.status_code == 409


async def test_only_admins_review_wallet_links(client: httpx.AsyncClient, make_citizen: Any, mint: Any) -> None:
    officer = await mint(kind="officer", subject=str(uuid.uuid4()), org_id="x", roles=frozenset({"welfare_maker"}))
    assert (await client.get("/v1/admin/wallet-links/under-review", headers=officer)).status_code == 403
    citizen = await make_citizen()
    assert (await client.get("/v1/admin/wallet-links/under-review", headers=citizen.headers)).status_code == 403


async def test_a_citizen_may_request_only_so_many_links_a_day(client: httpx.AsyncClient, make_citizen: Any) -> None:
    citizen = await make_citizen()
    statuses = [(await _request(client, citizen, unique_wallet_account())).status_code for _ in range(11)]
    assert statuses == [202] * 10 + [429]
    r = await _request(client, citizen, unique_wallet_account())
    assert r.json()["type"].endswith("/wallet-link-requests-exceeded")
    assert r.headers["retry-after"] == "3600"


async def test_a_recently_bound_device_cannot_move_the_payouts(
    client: httpx.AsyncClient,
    make_citizen: Any,
    provider_sim: ProviderSim,
    worker: WorkerContext,
    db: asyncpg.Pool,
) -> None:
    """SIM-swap defence: after a device is re-bound, the payout wallet stays where it was."""
    citizen = await make_citizen()
    first = await _link(client, citizen, provider_sim, worker)
    second = await _link(client, citizen, provider_sim, worker, provider="vnptmoney", make_default=False)
    await db.execute(
        "UPDATE accounts SET payout_locked_until = now() + interval '72 hours' WHERE id = $1", citizen.account_id
    )
    r = await client.post(f"{_URL}/{second['id']}/default", headers=citizen.headers)
    assert r.status_code == 409
    assert r.json()["type"].endswith("/payout-details-locked")
    assert "locked_until" in r.json()
    wallet = unique_wallet_account()
    provider_sim.add_wallet("zalopay", wallet, citizen.person_id, citizen.full_name)
    refused = await _request(client, citizen, wallet, "zalopay", make_default=True)
    assert refused.status_code == 409
    # A wallet that does not become the payout wallet may still be added.
    assert (await _request(client, citizen, wallet, "zalopay", make_default=False)).status_code == 202
    assert (await _state(client, citizen, first["id"]))["is_default"] is True
    # Once the period is over, the change goes through.
    await db.execute(
        "UPDATE accounts SET payout_locked_until = now() - interval '1 second' WHERE id = $1", citizen.account_id
    )
    assert (await client.post(f"{_URL}/{second['id']}/default", headers=citizen.headers)).status_code == 200
