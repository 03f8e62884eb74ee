"""The simulator as a system of its own: persistent store, seeding from the population, admin."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import asyncpg
import httpx

from simulators.provider_sim.seed import Person, plan_wallets
from tests.support.provider_sim import ProviderSim, start_provider_sim, unique_wallet_account
from wallet_api.settings import Settings

_KEY = {"Authorization": "Bearer dev-momo-api-key"}


def test_its_store_survives_a_restart(tmp_path: Path) -> None:
    with start_provider_sim(tmp_path) as sim:
        account = unique_wallet_account()
        sim.add_wallet("momo", account, "001090012345", "NGUYEN VAN AN")
        paid = httpx.post(
            f"{sim.base_url('momo')}/payouts",
            json={"payment_id": "restart-1", "wallet_account": account, "amount": 1000, "description": ""},
            headers=_KEY,
        ).json()
        sim.restart()
        status = httpx.get(f"{sim.base_url('momo')}/payouts/restart-1", headers=_KEY).json()
        assert status["provider_ref"] == paid["provider_ref"]
        assert sim.wallets(person_id="001090012345")["wallets"][0]["wallet_account"] == account


def test_faults_can_be_set_at_start(tmp_path: Path) -> None:
    with start_provider_sim(tmp_path, extra_args=["--error-rate", "1"]) as sim:
        r = httpx.post(f"{sim.base_url('momo')}/accounts/inquiry", json={"wallet_account": "0900000000"}, headers=_KEY)
        assert r.status_code == 503
        sim.reset_faults()  # back to the start options, not to zero
        r = httpx.post(f"{sim.base_url('momo')}/accounts/inquiry", json={"wallet_account": "0900000000"}, headers=_KEY)
        assert r.status_code == 503


def test_calls_without_our_credentials_are_refused(provider_sim: ProviderSim) -> None:
    r = httpx.post(f"{provider_sim.base_url('momo')}/accounts/inquiry", json={"wallet_account": "0900000000"})
    assert r.status_code == 401


def test_invalid_faults_are_refused(provider_sim: ProviderSim) -> None:
    r = httpx.put(f"{provider_sim.url}/_admin/faults", json={"error_rate": 2})
    assert r.status_code == 422
    r = httpx.put(f"{provider_sim.url}/_admin/faults", json={"no_such_fault": 1})
    assert r.status_code == 422


def test_the_statement_pages_through_a_day(provider_sim: ProviderSim) -> None:
    account = unique_wallet_account()
    provider_sim.add_wallet("zalopay", account, "001090012345", "NGUYEN VAN AN")
    key = {"Authorization": "Bearer dev-zalopay-api-key"}
    for i in range(3):
        item = {"payment_id": f"page-{account}-{i}", "wallet_account": account, "amount": 10 + i, "description": ""}
        httpx.post(f"{provider_sim.base_url('zalopay')}/payouts", json=item, headers=key).raise_for_status()
    seen: list[str] = []
    cursor = ""
    while True:
        body = httpx.get(
            f"{provider_sim.base_url('zalopay')}/statements/{date.today().isoformat()}",
            params={"limit": 2, "cursor": cursor},
            headers=key,
        ).json()
        seen += [line["payment_id"] for line in body["lines"]]
        if not body["next_cursor"]:
            break
        cursor = body["next_cursor"]
    assert [p for p in seen if p.startswith(f"page-{account}")] == [f"page-{account}-{i}" for i in range(3)]


def test_the_seed_plan_covers_every_kind_of_person() -> None:
    people = [Person(f"0010900{i:05d}", "Nguyễn Thị Hồng Nhung", None) for i in range(3000)]
    wallets = list(plan_wallets(people, ["momo", "zalopay", "vnptmoney", "viettelmoney"]))
    owners = {w.owner_person_id for w in wallets if w.seed_kind != "other_owner"}
    kinds = {w.seed_kind for w in wallets}
    assert {"owned", "other_owner", "name_variant", "name_different"} <= kinds
    # Most people have a wallet; some have none.
    assert 0.8 < len(owners) / len(people) < 0.95
    assert list(plan_wallets(people, ["momo", "zalopay"])) == list(plan_wallets(people, ["momo", "zalopay"]))


async def test_it_seeds_wallets_from_the_population_table(tmp_path: Path, db: asyncpg.Pool, settings: Settings) -> None:
    await db.executemany(
        """INSERT INTO population (person_id, full_name, date_of_birth, sex, place_of_origin,
                                   residence_address, residence_province)
           VALUES ($1, $2, '1990-01-01', 'female', 'Hà Nội', 'Hà Nội', '001')""",
        [(f"0011900{i:05d}", "Trần Thị Đào") for i in range(200)],
    )
    with start_provider_sim(tmp_path, extra_args=["--seed-dsn", settings.database_url]) as sim:
        counts = sim.wallets()["counts"]
        assert sum(counts.values()) > 150
        sim.restart()  # seeding again adds nothing and changes nothing
        assert sim.wallets()["counts"] == counts
